"""The dataset as it would be after a fix: frames only, files untouched."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from gitops_analysis.analysis.overlap import KEY
from gitops_analysis.core.kinds import NAMESPACED
from gitops_analysis.fix.model import FixPlan


def apply_fix(ds, plan: FixPlan):
    """The dataset as it would be after the fix (frames only; files are not touched)."""
    res = ds.resources
    if not plan.drops.empty:
        drop_idx = res.assign(kind=res["kind"].astype(str)).reset_index().merge(
            plan.drops[["app"] + KEY], on=["app"] + KEY)["index"]
        res = res.drop(index=drop_idx)
    if not plan.namespace_fixes.empty:
        res = res.copy()
        for f in plan.namespace_fixes.itertuples(index=False):
            hit = (res["app"] == f.app) & (res["kind"] == f.kind) & (res["name"] == f.name) & \
                (res["group"] == f.group) & (res["declared_namespace"] == "")
            res.loc[hit, "declared_namespace"] = f.namespace
            res.loc[hit & (res["scope"] == NAMESPACED), "namespace"] = f.namespace
    res = res.reset_index(drop=True)
    crds = ds.crds
    if not plan.drops.empty:
        dropped_crds = plan.drops[plan.drops["kind"] == "CustomResourceDefinition"]
        gone = set(zip(dropped_crds["app"], dropped_crds["name"]))
        # a boolean Series, not a list: an empty list would select zero columns of no CRDs
        keep = pd.Series([(a, n) not in gone for a, n in zip(crds["app"], crds["name"])],
                         index=crds.index, dtype=bool)
        crds = crds[keep].reset_index(drop=True)
    apps = ds.apps.copy()
    if not plan.wave_changes.empty:
        new = plan.wave_changes.set_index("app")["new_wave"]
        apps["wave"] = [int(new.get(a, w)) for a, w in zip(apps["app"], apps["wave"])]
    if plan.skip_dry_run:
        apps.loc[apps["app"].isin(plan.skip_dry_run), "skip_dry_run"] = True
    counts = res.groupby("app").size()
    apps["resources"] = apps["app"].map(counts).fillna(0).astype("int64")
    return replace(ds, apps=apps, resources=res, crds=crds)
