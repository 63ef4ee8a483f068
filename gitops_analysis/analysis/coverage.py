"""Coverage: what was analysed, what was not and why, and which unanalysed apps could supply
what a finding says is missing.

A checker is trusted only when it says what it did not look at. Every app gets a state:

- ``analysed``: every source rendered and every rendered document read;
- ``partial``: something of it was read, but a source was not rendered or documents of its
  render could not be read;
- ``not-analysed``: nothing of it was read.

The reason names why (``REASONS``), from ``render-status.json``, the dataset and the loader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

STATES = ("analysed", "partial", "not-analysed")

# render-status.json status -> the reason a user reads
RENDER_REASONS = {
    "failed": "render failed",
    "fetch-failed": "fetch failed",  # our network or credentials (render/fetch.py)
    "remote": "remote",
    "external": "external",
    "unsupported": "unsupported",
    "escaped": "refused file",
    "missing": "missing render",
}
REASONS = ("render failed", "fetch failed", "remote", "external", "unsupported",
           "missing render", "load errors", "refused file")

COVERAGE_COLUMNS = ["app", "state", "reason", "detail"]

# when no app at all could be analysed: what to do, by reason (unsupported says it itself)
NOTHING_HINTS = {
    "render failed": "fix what the render failures above say, then render again",
    "remote": "pass --allow-remote or --chart-cache DIR to render",
    "fetch failed": ("render again where the network reaches what they fetch, or with "
                     "--chart-cache DIR holding their charts"),
    "external": "pass --repo-map URL=DIR to render for the repositories they name",
    "missing render": "render the repository (gitops-analysis render REPO --out DATASET)",
    "refused file": "replace the refused files of rendered/ with plain files (render again)",
}


@dataclass(frozen=True)
class Coverage:
    """The coverage of a dataset: one row per app (``COVERAGE_COLUMNS``)."""

    frame: pd.DataFrame
    # what render could not reach or expand, beyond the apps: ApplicationSets not (fully)
    # expanded, Application files no root reaches ({"kind", "name", "reason", "detail"})
    other: tuple[dict[str, str], ...] = ()

    @property
    def complete(self) -> bool:
        return bool((self.frame["state"] == "analysed").all()) and not self.other

    def gaps(self) -> pd.DataFrame:
        """Apps that are not fully analysed, partial first, then by app."""
        f = self.frame[self.frame["state"] != "analysed"]
        return f.sort_values(["state", "app"], key=lambda s: s.map(_state_rank)
                             if s.name == "state" else s, kind="stable").reset_index(drop=True)

    def apps_in_doubt(self) -> list[str]:
        return sorted(self.frame.loc[self.frame["state"] != "analysed", "app"])

    def as_dict(self) -> dict:
        f = self.frame
        partial = f[f["state"] == "partial"]
        absent = f[f["state"] == "not-analysed"]
        return {
            "apps": int(len(f)),
            "analysed": int((f["state"] == "analysed").sum()),
            "partial": [{"app": r.app, "reason": r.reason, "detail": r.detail}
                        for r in partial.itertuples(index=False)],
            "not_analysed": [{"app": r.app, "reason": r.reason, "detail": r.detail}
                             for r in absent.itertuples(index=False)],
            # an ApplicationSet no root reaches is unreachable, not "not expanded": once each
            "not_expanded": [g for g in self.other if g["kind"] == "ApplicationSet"
                             and g["reason"] != "unreachable"],
            "unreachable": [g for g in self.other if g["reason"] == "unreachable"],
        }

    def nothing_analysed(self) -> list[str]:
        """When no app could be analysed at all (and there are apps): why, then one line per
        reason, most apps first, with what to do; else []."""
        f = self.frame
        if f.empty or not (f["state"] == "not-analysed").all():
            return []
        lines = ["nothing was analysed: " + ("its only app could not be analysed" if len(f) == 1
                                              else f"none of the {len(f)} apps could be analysed")]
        counts = f["reason"].value_counts()
        for reason in sorted(counts.index, key=lambda r: (-int(counts[r]), r)):
            details = f.loc[f["reason"] == reason, "detail"].value_counts()
            top = sorted(details.index, key=lambda d: (-int(details[d]), d))
            hint = NOTHING_HINTS.get(reason) or str(top[0]) + (
                f" (and {len(top) - 1} other {'reason' if len(top) == 2 else 'reasons'}, "
                "listed above)" if len(top) > 1 else "")
            lines.append(f"{reason} {int(counts[reason])}: {hint}")
        return lines

    def line(self, name: str) -> str:
        """One line a reader sees first: how much was looked at, and what was not."""
        d = self.as_dict()
        n, done = d["apps"], d["analysed"]
        head = f"{name}: {done} of {n} {'app' if n == 1 else 'apps'} analysed"
        parts = []
        if d["partial"]:
            parts.append(f"{len(d['partial'])} partly")
        if d["not_analysed"]:
            by_reason: dict[str, int] = {}
            for g in d["not_analysed"]:
                by_reason[g["reason"]] = by_reason.get(g["reason"], 0) + 1
            reasons = ", ".join(f"{k} {v}" for k, v in sorted(by_reason.items()))
            parts.append(f"{len(d['not_analysed'])} not ({reasons})")
        if d["not_expanded"]:
            n = len(d["not_expanded"])
            parts.append(f"{n} ApplicationSet{'' if n == 1 else 's'} not expanded")
        if d["unreachable"]:
            parts.append(f"{len(d['unreachable'])} unreachable files not rendered")
        return head + (f"; {'; '.join(parts)}" if parts else "")


def _state_rank(state: str) -> int:
    return STATES.index(state)


def coverage(ds) -> Coverage:
    """The analysis state of every app of ``ds``."""
    apps = ds.apps
    errors = ds.load_errors[ds.load_errors["part"] == "rendered"]
    whole_file = errors[errors["doc_index"] < 0]
    refused = dict(zip(whole_file["app"], whole_file["reason"]))
    doc_errors = errors[errors["doc_index"] >= 0].groupby("app").size().to_dict()
    rows = []
    for a in apps.itertuples(index=False):
        status = str(a.render_status)
        resources = int(a.resources)
        if a.app in refused and resources == 0:
            rows.append((a.app, "not-analysed", "refused file", refused[a.app]))
        elif status in RENDER_REASONS:
            reason = RENDER_REASONS[status]
            detail = a.render_message or reason
            state = "partial" if resources > 0 else "not-analysed"
            rows.append((a.app, state, reason, detail))
        elif a.app in refused:
            rows.append((a.app, "partial", "refused file", refused[a.app]))
        elif doc_errors.get(a.app):
            n = doc_errors[a.app]
            rows.append((a.app, "partial", "load errors",
                         f"{n} {'document' if n == 1 else 'documents'} of its render could not "
                         "be read (see load errors)"))
        else:
            rows.append((a.app, "analysed", "", ""))
    frame = pd.DataFrame(rows, columns=COVERAGE_COLUMNS)
    frame["state"] = pd.Categorical(frame["state"], categories=list(STATES))
    other = tuple(g for g in getattr(ds, "render_gaps", []) if g["reason"] != "unreachable") + \
        tuple(g for g in getattr(ds, "render_gaps", []) if g["reason"] == "unreachable")
    return Coverage(frame.sort_values("app", kind="stable").reset_index(drop=True), other)


# -- who could supply what a finding says is missing ------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")
_GENERIC = frozenset({"io", "k8s", "x", "com", "org", "dev", "net", "cloud", "api", "apis",
                      "kubernetes", "networking", "config", "system", "operator", "v1"})


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _GENERIC and len(w) > 1}


def supply_candidates(ds, cov: Coverage, *, cluster: str, words: set[str],
                      namespace: str = "") -> list[str]:
    """Apps not fully analysed (on ``cluster``) that might supply a missing thing described by
    ``words`` (an API group's parts, a namespace, a Service's name): best candidates first. An
    app ranks higher when its name, chart or path shares a word, or (for a namespace) when its
    destination namespace is that namespace."""
    doubt = set(cov.apps_in_doubt())
    if not doubt:
        return []
    apps = ds.apps[ds.apps["app"].isin(doubt) & (ds.apps["cluster"] == cluster)]
    scored = []
    for a in apps.itertuples(index=False):
        mine = _words(a.app) | set().union(*(_words(p) for p in a.source_paths)) \
            if a.source_paths else _words(a.app)
        score = len(words & mine)
        if namespace and a.destination_namespace == namespace:
            score += 2
        scored.append((-score, a.app))
    return [name for _, name in sorted(scored)]


def group_words(group: str) -> set[str]:
    """``cert-manager.io`` -> {cert, manager}; ``networking.istio.io`` -> {istio}."""
    return _words(group)
