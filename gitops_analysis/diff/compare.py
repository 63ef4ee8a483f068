"""Two sets of findings matched by identity, and what the apps and resources changed.

A finding's identity is :func:`~gitops_analysis.core.findings.finding_identity`: its rule, its
app and the key of the resource it is about, never its message (a message that names another
app's wave or a count may change while the finding stays the same). Findings that share an
identity are matched in their sorted order, so each is new, fixed or unchanged exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from gitops_analysis.core.findings import finding_identity

RESOURCE_KEY = ["app", "cluster", "group", "kind", "namespace", "name"]
# what an app is, apart from where its file sits and what it rendered to
_APP_IGNORED = ("file", "line", "resources")


@dataclass
class FindingsDiff:
    new: pd.DataFrame  # in head, not in base (head's rows)
    fixed: pd.DataFrame  # in base, not in head (base's rows)
    unchanged: pd.DataFrame  # in both (head's rows)


def _keys(findings: pd.DataFrame) -> pd.Series:
    ids = pd.Series([finding_identity(r) for r in
                     findings[["rule", "app", "cluster", "group", "kind", "namespace",
                               "name"]].to_dict("records")],
                    index=findings.index, dtype=object)
    nth = ids.groupby(ids, sort=False).cumcount()
    return ids + "#" + nth.astype(str)


def match_findings(base: pd.DataFrame, head: pd.DataFrame) -> FindingsDiff:
    kb, kh = _keys(base), _keys(head)
    in_base, in_head = set(kb), set(kh)
    return FindingsDiff(new=head[~kh.isin(in_base)].reset_index(drop=True),
                        fixed=base[~kb.isin(in_head)].reset_index(drop=True),
                        unchanged=head[kh.isin(in_base)].reset_index(drop=True))


@dataclass
class Changes:
    """Apps and resources each revision has that the other has not, or has otherwise."""

    apps_added: list[str] = field(default_factory=list)
    apps_removed: list[str] = field(default_factory=list)
    apps_changed: list[str] = field(default_factory=list)
    resources_added: list[dict] = field(default_factory=list)
    resources_removed: list[dict] = field(default_factory=list)
    resources_changed: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"apps": {"added": self.apps_added, "removed": self.apps_removed,
                         "changed": self.apps_changed},
                "resources": {"added": self.resources_added, "removed": self.resources_removed,
                              "changed": self.resources_changed}}

    @property
    def empty(self) -> bool:
        return not any(self.as_dict()["apps"].values()) and \
            not any(self.as_dict()["resources"].values())


def _app_rows(ds) -> dict[str, str]:
    """Each app as text: its row (but where its file sits) and its sources."""
    cols = [c for c in ds.apps.columns if c not in _APP_IGNORED]
    rows = {str(rec["app"]): repr([str(rec[c]) for c in cols])
            for rec in ds.apps[cols].to_dict("records")}
    for rec in ds.sources.to_dict("records"):
        app = str(rec.pop("app"))
        if app in rows:
            rows[app] += repr(sorted((k, str(v)) for k, v in rec.items()))
    return rows


def _resource_hashes(ds) -> dict[tuple, tuple[str, ...]]:
    res = ds.resources
    if res.empty:
        return {}
    keyed = res[RESOURCE_KEY + ["content_hash"]].astype(str)
    out: dict[tuple, list[str]] = {}
    for row in keyed.itertuples(index=False):
        out.setdefault(tuple(row[:-1]), []).append(row[-1])
    return {k: tuple(sorted(v)) for k, v in out.items()}


def changes(base_ds, head_ds) -> Changes:
    a, b = _app_rows(base_ds), _app_rows(head_ds)
    ra, rb = _resource_hashes(base_ds), _resource_hashes(head_ds)

    def rec(key: tuple) -> dict:
        return dict(zip(RESOURCE_KEY, key))

    res_changed = sorted(k for k in set(ra) & set(rb) if ra[k] != rb[k])
    touched = {k[0] for k in res_changed} | {k[0] for k in set(ra) ^ set(rb)}
    return Changes(
        apps_added=sorted(set(b) - set(a)),
        apps_removed=sorted(set(a) - set(b)),
        apps_changed=sorted(x for x in set(a) & set(b) if a[x] != b[x] or x in touched),
        resources_added=[rec(k) for k in sorted(set(rb) - set(ra))],
        resources_removed=[rec(k) for k in sorted(set(ra) - set(rb))],
        resources_changed=[rec(k) for k in res_changed])
