"""The wave graph: apps as nodes, provider -> consumer dependencies as edges; the cascade."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from gitops_analysis.analysis.coverage import coverage
from gitops_analysis.analysis.dependencies import (
    dependency_edges,
    failing_roots,
    needs,
    propagate_failures,
)

_ORDER_RANK = {"ok": 0, "race": 1, "late": 2}


def wave_graph(dataset, findings: pd.DataFrame) -> nx.DiGraph:
    """A node per app (wave, status, resources) and an edge provider -> consumer per dependency.

    Edge attributes: ``reasons`` (sorted ``crd:<group>/<kind>`` and ``namespace:<ns>``),
    ``order`` (ok, race or late: the worst of its reasons, by the two apps' waves).
    Node ``status``: failing (an error finding of its own), blocked (falls with a provider),
    not-analysed (nothing of it was read: never shown as ok), ok. Node ``analysis``: the app's
    coverage state (analysed, partial, not-analysed) and ``analysis_reason``. ``replace`` and
    ``server_side_apply``: the app syncs with Replace=true / ServerSideApply=true;
    ``replaced_resources``: its resources annotated Replace=true (replaced, not applied).
    ``appset``, ``rollout_step``, ``rollout_steps``: the ApplicationSet that generated it, the
    RollingSync step that selects it (1-based; 0: none) and how many steps it has (0: no
    RollingSync).
    """
    need_frame = needs(dataset)
    roots = failing_roots(findings)
    blocked = propagate_failures(need_frame, roots)
    g: nx.DiGraph = nx.DiGraph(needs=need_frame, roots=roots)
    state = coverage(dataset).frame.set_index("app")
    res = dataset.resources
    res = res.loc[res["sync_options"].str.contains("Replace=true", regex=False),
                  ["app", "sync_options"]]  # the few that can hold it, first
    hit = ["Replace=true" in [o.strip() for o in text.split(",")] for text in res["sync_options"]]
    replaced = res[np.array(hit, dtype=bool)].groupby("app").size().to_dict()
    for row in dataset.apps.sort_values(["wave", "app"]).itertuples(index=False):
        analysis = str(state.at[row.app, "state"])
        status = "failing" if row.app in roots else ("blocked" if row.app in blocked else
                                                     "not-analysed" if analysis ==
                                                     "not-analysed" else "ok")
        g.add_node(row.app, wave=int(row.wave), status=status, resources=int(row.resources),
                   destination_namespace=row.destination_namespace,
                   failure=roots.get(row.app, ""), analysis=analysis,
                   analysis_reason=str(state.at[row.app, "reason"]),
                   # how its sync writes objects (gitops-engine sync_context.go)
                   replace="Replace=true" in row.sync_options,
                   server_side_apply="ServerSideApply=true" in row.sync_options,
                   replaced_resources=int(replaced.get(row.app, 0)),
                   # its ApplicationSet's RollingSync: step (1-based, 0: none) of how many
                   appset=row.appset, rollout_step=int(row.rollout_step),
                   rollout_steps=int(row.rollout_steps))
    edges = dependency_edges(need_frame, dataset.apps)
    for (provider, consumer), f in edges.groupby(["provider", "consumer"], sort=True):
        order = max(f["order"], key=_ORDER_RANK.__getitem__)
        g.add_edge(provider, consumer, reasons=tuple(sorted(f["reason"])), order=order,
                   provider_wave=g.nodes[provider]["wave"], consumer_wave=g.nodes[consumer]["wave"])
    return g


def blast_radius(graph: nx.DiGraph, app: str) -> list[str]:
    """The apps that fail if ``app`` fails (not counting ``app`` itself), sorted by wave, name."""
    if app not in graph:
        raise KeyError(app)
    fallen = propagate_failures(graph.graph["needs"], {app: "fails"})
    return sorted(fallen, key=lambda a: (graph.nodes[a]["wave"], a))


def wave_layers(graph: nx.DiGraph) -> dict[int, list[str]]:
    """Apps by wave, each column sorted by name: the layered layout of the wave graph."""
    layers: dict[int, list[str]] = {}
    for node, data in graph.nodes(data=True):
        layers.setdefault(data["wave"], []).append(node)
    return {w: sorted(v) for w, v in sorted(layers.items())}
