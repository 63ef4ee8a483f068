"""The fix plan: owners for shared keys, namespaces for resources that lack one, wave changes
that order every provider before its consumers, and the narrowed kustomizations."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pandas as pd

from gitops_analysis.analysis.dependencies import needs
from gitops_analysis.analysis.overlap import KEY
from gitops_analysis.core.words import plural
from gitops_analysis.fix.apply import apply_fix
from gitops_analysis.fix.kustomize import propose_kustomizations
from gitops_analysis.fix.model import FixPlan
from gitops_analysis.fix.ownership import choose_owners


def _namespace_for(ds, app: str, need_frame: pd.DataFrame) -> tuple[str, str]:
    """The namespace to give a namespace-less resource of ``app``: the one other apps need most
    from it, else the one its own resources use most."""
    dep = need_frame[(need_frame["need"] == "namespace") &
                     need_frame["providers"].map(lambda p: app in p)]
    if not dep.empty:
        ns = dep.groupby("namespace").size().sort_values(ascending=False, kind="stable")
        n = int(ns.iloc[0])
        return str(ns.index[0]), (f"the namespace {plural(n, 'other app')} "
                                  f"{'needs' if n == 1 else 'need'} from {app}")
    res = ds.resources
    own = res[(res["app"] == app) & (res["namespace"] != "")]
    if own.empty:
        return "default", "the app deploys into no namespace; Kubernetes' default"
    ns = own.groupby("namespace").size().sort_values(ascending=False, kind="stable")
    return str(ns.index[0]), f"the namespace most of {app}'s resources use"


def _parents(ds) -> list[tuple[str, str]]:
    """(parent, child) for every Application an app renders (app-of-apps)."""
    res = ds.resources
    kids = res[(res["group"] == "argoproj.io") & (res["kind"].astype(str) == "Application")]
    return sorted({(a, f"{ns}/{n}") for a, ns, n in
                   zip(kids["app"], kids["namespace"], kids["name"])})


def _wave_changes(ds, need_frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    waves = ds.apps.set_index("app")["wave"].astype(int).to_dict()
    g: nx.DiGraph = nx.DiGraph()
    g.add_nodes_from(sorted(waves))
    for r in need_frame.itertuples(index=False):
        if r.self_provided or r.preexisting or not r.providers:
            continue
        provider = min(r.providers, key=lambda p: (waves[p], p))
        g.add_edge(provider, r.app)
    # an app-of-apps parent creates its children: it never goes to a later wave than they do
    for parent, child in _parents(ds):
        if parent in waves and child in waves and parent != child:
            g.add_edge(parent, child)
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
        plan.kustomizations = propose_kustomizations(ds, plan, Path(repo))
    return plan


