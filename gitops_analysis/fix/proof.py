"""Applying a fix to the frames in memory and proving it: every rule runs again; when the
source repository is at hand, the kustomization written for an app that loses keys is rendered
for real as well."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from gitops_analysis.fix.apply import apply_fix
from gitops_analysis.fix.model import FixPlan, Proof
from gitops_analysis.fix.plan import plan_fix
from gitops_analysis.rules import run_rules

_TARGETS = ("shared-resource", "shared-crd", "namespace-missing", "crd-late", "namespace-late",
            "blocked-by-dependency")


def _counts(findings: pd.DataFrame) -> dict:
    out = {}
    for (slug, sev), n in findings.groupby(["slug", "severity"], observed=True).size().items():
        out[f"{slug}:{sev}"] = int(n)
    return dict(sorted(out.items()))


def prove(ds, findings: pd.DataFrame, plan: FixPlan, *, health_check_configured: bool = False,
          projects: tuple = (), settings: Any = None) -> Proof:
    """Every rule again on the dataset as the fix leaves it, with the same argocd-cm and
    projects as the findings it fixes."""
    after_ds = apply_fix(ds, plan)
    after = run_rules(after_ds, health_check_configured=health_check_configured or
                      plan.health_snippet, projects=projects, settings=settings)
    remaining = after[after["slug"].isin(_TARGETS) &
                      ~((after["slug"].isin(["crd-late", "namespace-late"])) &
                        after["app"].isin(plan.skip_dry_run))]
    remaining = remaining[["slug", "severity", "app", "kind", "name", "message"]] \
        .reset_index(drop=True)
    errors = after.loc[after["severity"] == "error", ["slug", "app", "message"]] \
        .astype(str).reset_index(drop=True)
    return Proof(before=_counts(findings), after=_counts(after), remaining=remaining,
                 errors=errors)


def shared_key_count(findings: pd.DataFrame) -> int:
    f = findings[findings["slug"].isin(["shared-resource", "shared-crd"])]
    return len(f[["cluster", "group", "kind", "namespace", "name"]].drop_duplicates())




def make_fix(ds, *, findings: pd.DataFrame | None = None, repo: str | Path | None = None,
             health_check_configured: bool = False, projects: tuple = (),
             settings: Any = None) -> tuple[FixPlan, Proof]:
    """Plan and prove the fix of ``ds`` (with a real render of each written kustomization when
    the repository is given)."""
    from gitops_analysis.fix.kustomize import check_render

    if findings is None:
        findings = run_rules(ds, health_check_configured=health_check_configured,
                             projects=projects, settings=settings)
    plan = plan_fix(ds, findings, repo=repo)
    proof = prove(ds, findings, plan, health_check_configured=health_check_configured,
                  projects=projects, settings=settings)
    if repo is not None:
        after = apply_fix(ds, plan)
        for app, k in sorted(plan.kustomizations.items()):
            if k["status"] == "written":
                proof.rendered[app] = check_render(after, app, Path(repo), k)
    return plan, proof
