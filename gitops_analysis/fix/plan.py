"""Generate the fix for shared resources, missing namespaces and wave order, and prove it.

Ownership rule, per shared key: the app whose source path is the closest origin of the resource
(its ``config.kubernetes.io/origin`` file lies under the app's source path, with the fewest
directories between) wins over an app that only aggregates it (the file lies outside its path).
Ties go to the narrower app (fewer resources); no origin data counts as a tie.

The fix is applied to the frames in memory and every rule is run again (``prove``); when the
source repository is at hand, the kustomization written for an app that loses keys is rendered
for real as well.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field, replace
from pathlib import Path

import networkx as nx
import pandas as pd
import yaml

from gitops_analysis.analysis.dependencies import needs
from gitops_analysis.analysis.overlap import KEY, shared_keys
from gitops_analysis.core.kinds import NAMESPACED

HEALTH_SNIPPET = """resource.customizations.health.argoproj.io_Application: |
  hs = {}
  hs.status = "Progressing"
  hs.message = ""
  if obj.status ~= nil and obj.status.health ~= nil then
    hs.status = obj.status.health.status
    if obj.status.health.message ~= nil then
      hs.message = obj.status.health.message
    end
  end
  return hs
"""

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


@dataclass
class FixPlan:
    ownership: pd.DataFrame  # one row per shared key: owner, losers, reason
    drops: pd.DataFrame  # resources removed from apps that lose them
    namespace_fixes: pd.DataFrame  # resources given a namespace
    wave_changes: pd.DataFrame  # app, old_wave, new_wave, reason
    skip_dry_run: list[str]  # apps where reordering cannot help
    health_snippet: bool  # argocd-cm needs the Application health check
    kustomizations: dict[str, dict] = field(default_factory=dict)  # app -> proposal


@dataclass
class Proof:
    before: dict
    after: dict
    remaining: pd.DataFrame  # findings left that the fix was meant to clear, with reasons
    rendered: dict[str, dict] = field(default_factory=dict)  # app -> real render check

    @property
    def ok(self) -> bool:
        return self.remaining.empty and all(r.get("ok", False) for r in self.rendered.values())


# -- ownership ------------------------------------------------------------------------------

def _repo_origin(origin: str, source: str, app_paths: tuple) -> str:
    """The origin file as a path in the repository ('' when there is no file-level origin)."""
    if not origin or origin == source:
        return ""
    base = source or (app_paths[0] if len(app_paths) == 1 else "")
    return posixpath.normpath(posixpath.join(base, origin)) if base else ""


def _distance(origin_file: str, paths: tuple) -> float:
    """Directories between the app's source path and the origin file; inf when outside."""
    best = float("inf")
    for p in paths:
        p = posixpath.normpath(p) if p else "."
        if p == ".":
            rel = origin_file
        elif origin_file.startswith(p + "/"):
            rel = origin_file[len(p) + 1:]
        else:
            continue
        best = min(best, rel.count("/"))
    return best


def resource_origins(ds) -> pd.DataFrame:
    """Resources with ``origin_file``: their origin as a repository path ('' when unknown)."""
    res = ds.resources
    paths = ds.apps.set_index("name")["source_paths"]
    origin_file = [_repo_origin(o, s, paths[a]) for o, s, a in
                   zip(res["origin"], res["source"], res["app"])]
    return res.assign(origin_file=origin_file)


def choose_owners(ds) -> pd.DataFrame:
    keys = shared_keys(ds)
    cols = KEY + ["owner", "losers", "reason"]
    if keys.empty:
        return pd.DataFrame(columns=cols)
    res = resource_origins(ds)
    origin_of = res.drop_duplicates(KEY + ["app"]).assign(kind=lambda f: f["kind"].astype(str)) \
        .set_index(KEY + ["app"])["origin_file"]
    apps = ds.apps.set_index("name")
    rows = []
    for key, group in keys.groupby(KEY, sort=True):
        cands = []
        for app in sorted(group["app"]):
            origin = origin_of.get((*key, app), "")
            dist = _distance(origin, apps.at[app, "source_paths"]) if origin else float("inf")
            cands.append((dist, int(apps.at[app, "resources"]), app, origin))
        cands.sort()
        dist, size, owner, origin = cands[0]
        losers = tuple(c[2] for c in cands[1:])
        if dist != float("inf") and all(c[0] == float("inf") for c in cands[1:]):
            reason = (f"its origin {origin} lies under {owner}'s source path; "
                      f"{', '.join(losers)} only aggregate{'s' if len(losers) == 1 else ''} it")
        elif dist != float("inf") and cands[1][0] > dist:
            reason = f"its origin {origin} is closest to {owner}'s source path"
        else:
            why = "no origin data" if all(not c[3] for c in cands) else "origins tie"
            reason = f"{why}: the narrower app keeps it ({owner}: {size} resources)"
        rows.append((*key, owner, losers, reason))
    return pd.DataFrame(rows, columns=cols)


# -- plan -----------------------------------------------------------------------------------

def _namespace_for(ds, app: str, need_frame: pd.DataFrame) -> tuple[str, str]:
    """The namespace to give a namespace-less resource of ``app``: the one other apps need most
    from it, else the one its own resources use most."""
    dep = need_frame[(need_frame["need"] == "namespace") &
                     need_frame["providers"].map(lambda p: app in p)]
    if not dep.empty:
        ns = dep.groupby("namespace").size().sort_values(ascending=False, kind="stable")
        return str(ns.index[0]), f"the namespace {int(ns.iloc[0])} other apps need from {app}"
    res = ds.resources
    own = res[(res["app"] == app) & (res["namespace"] != "")]
    if own.empty:
        return "default", "the app deploys into no namespace; Kubernetes' default"
    ns = own.groupby("namespace").size().sort_values(ascending=False, kind="stable")
    return str(ns.index[0]), f"the namespace most of {app}'s resources use"


def _wave_changes(ds, need_frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    waves = ds.apps.set_index("name")["wave"].astype(int).to_dict()
    g = nx.DiGraph()
    g.add_nodes_from(sorted(waves))
    for r in need_frame.itertuples(index=False):
        if r.self_provided or r.preexisting or not r.providers:
            continue
        provider = min(r.providers, key=lambda p: (waves[p], p))
        g.add_edge(provider, r.app)
    skip = []
    for scc in nx.strongly_connected_components(g):
        if len(scc) > 1:  # providers and consumers in a cycle: no order satisfies them
            skip += sorted(scc)
            g.remove_edges_from([(u, v) for u, v in list(g.edges) if u in scc and v in scc])
    order = list(nx.lexicographical_topological_sort(g))
    raised = dict(waves)
    for n in order:  # raise consumers above their providers
        for p in g.predecessors(n):
            raised[n] = max(raised[n], raised[p] + 1)
    lowered = dict(waves)
    for n in reversed(order):  # or lower providers below their consumers
        for c in g.successors(n):
            lowered[n] = min(lowered[n], lowered[c] - 1)
    changes_up = {a for a in waves if raised[a] != waves[a]}
    changes_down = {a for a in waves if lowered[a] != waves[a]}
    new, how = (lowered, "lowered below the apps that need it") \
        if len(changes_down) < len(changes_up) else (raised, "raised above its providers")
    rows = [(a, waves[a], new[a], how) for a in sorted(waves) if new[a] != waves[a]]
    return pd.DataFrame(rows, columns=["app", "old_wave", "new_wave", "reason"]), sorted(skip)


def plan_fix(ds, findings: pd.DataFrame, *, repo: str | Path | None = None) -> FixPlan:
    ownership = choose_owners(ds)
    res = ds.resources.assign(kind=ds.resources["kind"].astype(str))
    if ownership.empty:
        drops = res.iloc[0:0]
    else:
        lose = ownership.explode("losers").rename(columns={"losers": "app"})[KEY + ["app"]]
        drops = res.merge(lose, on=KEY + ["app"], how="inner")
    drops = drops[["app"] + KEY + ["file", "line", "origin"]].reset_index(drop=True)

    need_frame = needs(ds)
    ns_rows = []
    missing = findings[findings["slug"] == "namespace-missing"]
    for r in missing.itertuples(index=False):
        ns, why = _namespace_for(ds, r.app, need_frame)
        ns_rows.append((r.app, r.group, r.kind, r.name, ns, why, r.file, r.line))
    namespace_fixes = pd.DataFrame(ns_rows, columns=["app", "group", "kind", "name", "namespace",
                                                     "reason", "file", "line"])
    plan = FixPlan(ownership=ownership, drops=drops, namespace_fixes=namespace_fixes,
                   wave_changes=pd.DataFrame(columns=["app", "old_wave", "new_wave", "reason"]),
                   skip_dry_run=[], health_snippet=bool((findings["slug"] ==
                                                         "app-health-missing").any()))
    # waves are planned on the dataset as it will be after the ownership change
    after = apply_fix(ds, plan)
    plan.wave_changes, plan.skip_dry_run = _wave_changes(after, needs(after))
    if repo is not None:
        from gitops_analysis.fix.kustomize import propose_kustomizations

        plan.kustomizations = propose_kustomizations(ds, plan, Path(repo))
    return plan


# -- apply and prove ------------------------------------------------------------------------

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
        crds = crds[[(a, n) not in gone for a, n in zip(crds["app"], crds["name"])]] \
            .reset_index(drop=True)
    apps = ds.apps.copy()
    if not plan.wave_changes.empty:
        new = plan.wave_changes.set_index("app")["new_wave"]
        apps["wave"] = [int(new.get(a, w)) for a, w in zip(apps["name"], apps["wave"])]
    if plan.skip_dry_run:
        apps.loc[apps["name"].isin(plan.skip_dry_run), "skip_dry_run"] = True
    counts = res.groupby("app").size()
    apps["resources"] = apps["name"].map(counts).fillna(0).astype("int64")
    return replace(ds, apps=apps, resources=res, crds=crds)


_TARGETS = ("shared-resource", "shared-crd", "namespace-missing", "crd-late", "namespace-late",
            "blocked-by-dependency")


def _counts(findings: pd.DataFrame) -> dict:
    out = {}
    for (slug, sev), n in findings.groupby(["slug", "severity"], observed=True).size().items():
        out[f"{slug}:{sev}"] = int(n)
    return dict(sorted(out.items()))


def prove(ds, findings: pd.DataFrame, plan: FixPlan, *, health_check_configured: bool = False
          ) -> Proof:
    from gitops_analysis.rules import run_rules

    after_ds = apply_fix(ds, plan)
    after = run_rules(after_ds, health_check_configured=health_check_configured or
                      plan.health_snippet)
    remaining = after[after["slug"].isin(_TARGETS) &
                      ~((after["slug"].isin(["crd-late", "namespace-late"])) &
                        after["app"].isin(plan.skip_dry_run))]
    remaining = remaining[["slug", "severity", "app", "kind", "name", "message"]] \
        .reset_index(drop=True)
    return Proof(before=_counts(findings), after=_counts(after), remaining=remaining)


def shared_key_count(findings: pd.DataFrame) -> int:
    f = findings[findings["slug"].isin(["shared-resource", "shared-crd"])]
    return len(f[["cluster", "group", "kind", "namespace", "name"]].drop_duplicates())


# -- write ----------------------------------------------------------------------------------

def app_patch(ds, app: str, new_path: str) -> str:
    """The change to the Application: its source path, as a strategic-merge patch."""
    row = ds.app(app)
    patch = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
             "metadata": {"name": app, **({"namespace": row["app_namespace"]}
                                          if row["app_namespace"] else {})},
             "spec": {"source": {"path": new_path}}}
    return yaml.safe_dump(patch, sort_keys=False)


def wave_patch(ds, app: str, wave: int) -> str:
    row = ds.app(app)
    patch = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
             "metadata": {"name": app, **({"namespace": row["app_namespace"]}
                                          if row["app_namespace"] else {}),
                          "annotations": {"argocd.argoproj.io/sync-wave": str(wave)}}}
    return yaml.safe_dump(patch, sort_keys=False)
