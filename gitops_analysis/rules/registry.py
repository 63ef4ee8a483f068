"""The rule registry: every rule is data plus one function ``(Context) -> findings frame``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from gitops_analysis.analysis.coverage import Coverage, coverage
from gitops_analysis.analysis.dependencies import needs
from gitops_analysis.analysis.origins import origin_index
from gitops_analysis.core.findings import FINDING_COLUMNS, SEVERITIES, Finding, finding
from gitops_analysis.load.argocd_config import settings_in_dataset
from gitops_analysis.rules.unproven import weigh

SEVERITY_DTYPE = pd.CategoricalDtype(list(SEVERITIES), ordered=True)


@dataclass(frozen=True)
class Rule:
    id: str
    slug: str
    severity: str  # the usual severity; a finding may raise it (FailOnSharedResource)
    argocd_condition: str  # the Argo CD condition it predicts, or "" for none
    summary: str
    what: str
    why: str
    example: str
    remediation: str
    check: Callable = field(repr=False, compare=False)
    stage: int = 1  # stage 2 rules read the findings of stage 1 (the cascade)


@dataclass
class Context:
    """What a rule may read: the dataset, its needs, options, and earlier findings."""

    dataset: Any
    needs: pd.DataFrame
    coverage: Coverage
    health_check_configured: bool = False
    findings: pd.DataFrame | None = None
    # results several rules share, computed once per run (e.g. the project verdicts)
    shared: dict[str, Any] = field(default_factory=dict)
    # AppProjects from outside the dataset (--projects FILE; load.projects.read_projects_file)
    projects: tuple = ()
    # argocd-cm as read by load.argocdcm.read_settings; None: no argocd-cm given (defaults)
    settings: Any = None


_RULES: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    if rule.id in _RULES or any(r.slug == rule.slug for r in _RULES.values()):
        raise ValueError(f"rule {rule.id} {rule.slug} registered twice")
    _RULES[rule.id] = rule
    return rule


def all_rules() -> list[Rule]:
    return [_RULES[k] for k in sorted(_RULES)]


def get_rule(key: str) -> Rule:
    for r in _RULES.values():
        if key in (r.id, r.slug):
            return r
    raise KeyError(key)


def collect(rule: Rule, out: pd.DataFrame | Iterable[dict | Finding]) -> list[Finding]:
    """A rule's output as typed findings, each built by :func:`finding` (the one builder)."""
    rows = out.to_dict("records") if isinstance(out, pd.DataFrame) else out
    return [r if isinstance(r, Finding) else finding(rule, **r) for r in rows]


def findings_frame(found: list[Finding]) -> pd.DataFrame:
    """Typed findings as the tidy frame every view reads: a row per finding, sorted."""
    if not found:
        return empty_findings()
    return _finish(pd.DataFrame([astuple_shallow(f) for f in found], columns=FINDING_COLUMNS))


def astuple_shallow(f: Finding) -> tuple:
    # dataclasses.astuple would turn the chain's steps into tuples too
    return tuple(getattr(f, c) for c in FINDING_COLUMNS)


def empty_findings() -> pd.DataFrame:
    return _finish(pd.DataFrame(columns=FINDING_COLUMNS))


def _finish(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["severity"] = df["severity"].astype(SEVERITY_DTYPE)
    for col in ("rule", "slug", "argocd_condition", "app", "cluster", "group", "version", "kind",
                "namespace", "name", "message", "detail", "file"):
        df[col] = df[col].fillna("").astype("string")
    df["line"] = df["line"].fillna(0).astype("int64")
    df["related_apps"] = df["related_apps"].astype(object)
    df["chain"] = df["chain"].astype(object)
    df["could_come_from"] = df["could_come_from"].astype(object)
    df["confidence"] = df["confidence"].astype("string")
    return df.sort_values(["severity", "app", "rule", "group", "kind", "namespace", "name",
                           "message"], kind="stable").reset_index(drop=True)


def run_rules(dataset, *, health_check_configured: bool = False,
              select: list[str] | None = None, projects: tuple = (),
              settings: Any = None, cov: Coverage | None = None) -> pd.DataFrame:
    """Run every registered rule (stage 1, then the cascade) and return one sorted frame.

    After each stage, findings whose cause an app that was not fully analysed could supply are
    made unproven (:mod:`gitops_analysis.rules.unproven`), so the cascade starts only from
    certain errors. ``projects``: AppProjects that live outside the dataset; ``settings``:
    argocd-cm (tracking method, resource exclusions); when None, the ``ArgoCD`` resource or
    argocd-cm an app of the dataset deploys into Argo CD's namespace, else Argo CD's defaults
    (then findings that rest on them are unproven while an app that was not analysed may
    deploy them); ``cov``: the dataset's coverage when the caller has it already."""
    cov = cov if cov is not None else coverage(dataset)
    settings_known = settings is not None or health_check_configured
    if settings is None:
        settings = settings_in_dataset(dataset)
        settings_known = settings_known or settings is not None
    ctx = Context(dataset=dataset,
                  needs=needs(dataset, getattr(settings, "resource_filter", None)),
                  coverage=cov,
                  health_check_configured=health_check_configured or
                  bool(getattr(settings, "health_check_configured", False)),
                  projects=tuple(projects), settings=settings)
    found: list[Finding] = []
    for stage in (1, 2):
        if stage == 2:
            ctx.findings = findings_frame(found)
        staged: list[Finding] = []
        for rule in all_rules():
            if rule.stage != stage or (select and rule.id not in select and
                                       rule.slug not in select):
                continue
            out = rule.check(ctx)
            if out is not None and len(out):
                staged += collect(rule, out)
        found += weigh(staged, dataset, cov, settings_known=settings_known)
    return findings_frame(locate(found, dataset))


def locate(found: list[Finding], dataset) -> list[Finding]:
    """Each finding about a resource with the repository file that produced it, when known."""
    index = origin_index(dataset, {(f.app, f.group, f.kind, f.namespace, f.name)
                                   for f in found if f.kind})
    return [replace(f, origin=index.get((f.app, f.group, f.kind, f.namespace, f.name), ""))
            if f.kind else f for f in found]


def rules_markdown() -> str:
    """docs/rules.md, generated from the registry."""
    lines = ["# Rules", "", "Generated from the rule registry by `gitops-analysis docs`; do not "
             "edit by hand.", "", "| id | slug | severity | Argo CD condition | summary |",
             "|---|---|---|---|---|"]
    for r in all_rules():
        lines.append(f"| {r.id} | [`{r.slug}`](#{r.id.lower()}-{r.slug}) | {r.severity} | "
                     f"{r.argocd_condition or '(none)'} | {r.summary} |")
    for r in all_rules():
        lines += ["", f"## {r.id} {r.slug}", "",
                  f"Severity: **{r.severity}**. Argo CD condition: "
                  f"{'`' + r.argocd_condition + '`' if r.argocd_condition else '(none)'}.", "",
                  "### What it finds", "", r.what.strip(), "",
                  "### Why it matters", "", r.why.strip(), "",
                  "### Example", "", r.example.strip(), "",
                  "### Remediation", "", r.remediation.strip()]
    return "\n".join(lines) + "\n"
