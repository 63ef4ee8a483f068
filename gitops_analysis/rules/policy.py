"""What the user chose not to see: the configuration (select, ignore, severity overrides,
per-app and per-path ignores) and the ``gitops-analysis.io/ignore`` annotation, applied to the
findings after every rule ran (the cascade still sees every cause).

Each silenced finding is counted once, under the first reason that silences it, in this
order: ``select`` (a rule not selected), ``ignore``, ``per-app``, ``per-path``, ``annotation``.
The annotation (``gitops-analysis.io/ignore: GA402,GA101``, ids or slugs, ``*`` for every
rule) on a resource silences those rules' findings about that resource in that app; on an
Application, every finding of that app.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from gitops_analysis.load.applications import IGNORE_ANNOTATION
from gitops_analysis.load.config import ALL_RULES, Config
from gitops_analysis.rules.registry import SEVERITY_DTYPE, all_rules

__all__ = ["IGNORE_ANNOTATION", "Policy", "Silenced", "apply_policy", "policy_from"]
REASONS = ("select", "ignore", "per-app", "per-path", "annotation")
_SORT = ["severity", "app", "rule", "group", "kind", "namespace", "name", "message"]
_KEY = ["app", "cluster", "group", "kind", "namespace", "name"]


@dataclass(frozen=True)
class Policy:
    """A configuration with every rule name resolved to its id."""

    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    severity: tuple[tuple[str, str], ...] = ()
    per_app: tuple[tuple[str, frozenset[str]], ...] = ()
    per_path: tuple[tuple[str, frozenset[str]], ...] = ()


@dataclass
class Silenced:
    """What was not reported, and why."""

    by_reason: dict[str, int] = field(default_factory=dict)
    by_rule: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_reason.values())

    def as_dict(self) -> dict:
        return {"total": self.total,
                "by_reason": {r: self.by_reason[r] for r in REASONS if r in self.by_reason},
                "by_rule": dict(sorted(self.by_rule.items()))}

    def line(self) -> str:
        """``silenced: 3 findings (2 by ignore, 1 by annotation)``; '' when nothing was."""
        if not self.total:
            return ""
        parts = ", ".join(f"{self.by_reason[r]} by {r}" for r in REASONS if r in self.by_reason)
        return f"silenced: {self.total} finding{'s' if self.total != 1 else ''} ({parts})"


def _ids() -> dict[str, str]:
    out = {}
    for r in all_rules():
        out[r.id.lower()] = r.id
        out[r.slug.lower()] = r.id
    return out


def rule_ids(names: Iterable[str], *, strict: bool = True, config: Config | None = None,
             where: str = "") -> frozenset[str]:
    """Rule ids of ids or slugs (any case); ``*`` stays ``*``. ``strict``: an unknown name is
    an error at the configuration's line, else it is left out."""
    known = _ids()
    out = set()
    for name in names:
        if name == ALL_RULES:
            out.add(ALL_RULES)
            continue
        rid = known.get(name.strip().lower())
        if rid is None:
            if strict:
                cfg = config or Config()
                raise cfg.error(f"unknown rule {name!r}{' in ' + where if where else ''}", name,
                                todo="use a rule id or slug that 'gitops-analysis rules' lists")
            continue
        out.add(rid)
    return frozenset(out)


def policy_from(config: Config) -> Policy:
    """Resolve a configuration's rule names; an unknown one is an error at its line."""
    def ids(names: Iterable[str], where: str) -> frozenset[str]:
        return rule_ids(names, config=config, where=where)

    severity = []
    for name, level in config.severity:
        severity.append((next(iter(ids([name], "severity"))), level))
    return Policy(
        select=None if config.select is None else ids(config.select, "select"),
        ignore=ids(config.ignore, "ignore"),
        severity=tuple(sorted(severity)),
        per_app=tuple((p, ids(r, f"per-app-ignores.{p}")) for p, r in config.per_app_ignores),
        per_path=tuple((p, ids(r, f"per-path-ignores.{p}")) for p, r in config.per_path_ignores))


def annotation_rules(value: object) -> frozenset[str]:
    """The rule ids an annotation value names (unknown names are left out)."""
    if not isinstance(value, str) or not value.strip():
        return frozenset()
    return rule_ids((v for v in value.split(",") if v.strip()), strict=False)


def _hits(rules: frozenset[str], rule: str) -> bool:
    return rule in rules or ALL_RULES in rules


def _annotated(ds) -> tuple[dict[str, frozenset[str]], dict[tuple, frozenset[str]]]:
    """The annotation of each app and of each resource (by app and resource key)."""
    apps: dict[str, frozenset[str]] = {}
    if "ignore" in ds.apps.columns:
        for app, value in zip(ds.apps["app"], ds.apps["ignore"]):
            if rules := annotation_rules(value):
                apps[app] = rules
    res: dict[tuple, frozenset[str]] = {}
    frame = ds.resources
    if "ignore" in frame.columns:
        marked = frame[frame["ignore"].fillna("").astype(str) != ""]
        for row in marked[_KEY + ["ignore"]].itertuples(index=False):
            if rules := annotation_rules(row[-1]):
                key = tuple(str(v) for v in row[:-1])
                res[key] = res.get(key, frozenset()) | rules
    return apps, res


def _source_paths(ds) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for app, path in zip(ds.sources["app"], ds.sources["path"]):
        if path:
            out.setdefault(app, []).append(str(path).strip("/"))
    return out


def _reason(rec: dict, policy: Policy, app_rules: dict, res_rules: dict,
            paths: dict[str, list[str]]) -> str:
    rule, app = rec["rule"], rec["app"]
    if policy.select is not None and not _hits(policy.select, rule):
        return "select"
    if _hits(policy.ignore, rule):
        return "ignore"
    for pattern, rules in policy.per_app:
        if _hits(rules, rule) and app and fnmatch.fnmatchcase(app, pattern):
            return "per-app"
    for pattern, rules in policy.per_path:
        if not _hits(rules, rule):
            continue
        where = [rec["origin"]] if rec["origin"] else paths.get(app, [])
        if any(fnmatch.fnmatchcase(p, pattern) for p in where):
            return "per-path"
    if _hits(app_rules.get(app, frozenset()), rule):
        return "annotation"
    key = tuple(str(rec[k]) for k in _KEY)
    if _hits(res_rules.get(key, frozenset()), rule):
        return "annotation"
    return ""


def apply_policy(findings: pd.DataFrame, ds, policy: Policy | None = None
                 ) -> tuple[pd.DataFrame, Silenced]:
    """The findings to report (severities overridden, sorted as the registry sorts them) and
    what was silenced."""
    policy = policy or Policy()
    silenced = Silenced()
    if findings.empty:
        return findings, silenced
    app_rules, res_rules = _annotated(ds)
    paths = _source_paths(ds) if policy.per_path else {}
    keep = []
    for rec in findings[["rule"] + _KEY + ["origin"]].to_dict("records"):
        reason = _reason(rec, policy, app_rules, res_rules, paths)
        keep.append(not reason)
        if reason:
            silenced.by_reason[reason] = silenced.by_reason.get(reason, 0) + 1
            silenced.by_rule[rec["rule"]] = silenced.by_rule.get(rec["rule"], 0) + 1
    out = findings[keep]
    if policy.severity:
        out = out.copy()
        levels = dict(policy.severity)
        wanted = out["rule"].map(levels)
        changed = wanted.notna()
        # an unproven finding is at most a warning, whatever the configuration says
        capped = wanted.where(~((wanted == "error") & (out["confidence"] == "unproven")),
                              "warning")
        out["severity"] = pd.Series(
            [c if ch else str(s) for c, ch, s in zip(capped, changed, out["severity"])],
            index=out.index).astype(SEVERITY_DTYPE)
        out = out.sort_values(_SORT, kind="stable")
    return out.reset_index(drop=True), silenced
