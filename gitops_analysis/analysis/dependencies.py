"""What each app needs from other apps: CRDs for its custom kinds, namespaces it deploys into.

One frame, ``needs``, feeds both the ordering rules and the wave graph, so the two can never
disagree. A need is (app, reason) with its providers; a dependency edge is (provider, consumer).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gitops_analysis.analysis.keys import distinct_rows
from gitops_analysis.core.findings import Chain, ChainStep
from gitops_analysis.core.kinds import ARGOCD_KINDS, BUILTIN_NAMESPACES, BUILTIN_SCOPES, CLUSTER
from gitops_analysis.load.applications import IN_CLUSTER
from gitops_analysis.load.exclusions import ResourceFilter, excluded_mask

NEED_COLUMNS = ["app", "cluster", "wave", "need", "reason", "group", "kind", "namespace",
                "example_name", "example_namespace", "example_version", "example_file",
                "example_line", "resources", "self_provided", "preexisting", "providers",
                "status", "ordered_by"]
_RANK = {"ok": 0, "race": 1, "late": 2}


def pair_order(apps: pd.DataFrame):
    """``order(provider, consumer)`` -> (ok, race or late, what orders them).

    Sync waves order the Applications one parent app syncs. Applications an ApplicationSet
    generates are created and updated by its controller all at once: it never reads the
    sync-wave annotation (nothing under ``applicationset/`` in Argo CD v3.5.1 does); only a
    RollingSync strategy orders them, step by step (``progressivesync/progressive_sync.go``).
    So two apps of one ApplicationSet are ordered by their steps, or not at all (a race)."""
    waves = dict(zip(apps["app"], apps["wave"].astype(int)))
    sets = dict(zip(apps["app"], apps["appset"]))
    steps = dict(zip(apps["app"], apps["rollout_step"].astype(int)))

    def order(provider: str, consumer: str) -> tuple[str, str]:
        s = sets.get(provider, "")
        if s and s == sets.get(consumer):
            sp, sc = steps.get(provider, 0), steps.get(consumer, 0)
            if sp and sc:
                return ("ok" if sp < sc else "race" if sp == sc else "late"), f"steps:{s}"
            return "race", f"appset:{s}"
        pw, cw = waves[provider], waves[consumer]
        return ("ok" if pw < cw else "race" if pw == cw else "late"), "wave"
    return order


def custom_kind_mask(resources: pd.DataFrame, cluster_scopes: dict | None = None) -> pd.Series:
    """Resources whose kind is served by a CRD (not Kubernetes itself, not Argo CD)."""
    builtin = set(BUILTIN_SCOPES) | set(ARGOCD_KINDS)
    # decide once per distinct (group, kind), not once per resource
    codes, kinds = distinct_rows(resources, ["group", "kind"])
    custom = np.array([(g, str(k)) not in builtin for g, k in kinds.itertuples(index=False)],
                      dtype=bool)
    if not custom.any():
        return pd.Series(False, index=resources.index)
    return pd.Series(custom[codes], index=resources.index)


def _providers_frame(dataset, res: pd.DataFrame,
                    rf: ResourceFilter | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    apps = dataset.apps.set_index("app")
    crds = dataset.crds
    if not crds.empty:  # a CRD kind excluded in argocd-cm is never applied either
        crds = crds[~excluded_mask(crds.assign(group="apiextensions.k8s.io",
                                               kind="CustomResourceDefinition"),
                                   dataset.apps, rf)]
    crd_prov = crds[["app", "cluster", "group", "kind"]].drop_duplicates()
    ns_obj = res.loc[(res["kind"] == "Namespace") & (res["group"] == "") & ~res["is_hook"],
                     ["app", "cluster", "name"]].rename(columns={"name": "namespace"})
    created = dataset.apps.loc[dataset.apps["create_namespace"] &
                               (dataset.apps["destination_namespace"] != ""),
                               ["app", "cluster", "destination_namespace"]] \
        .rename(columns={"destination_namespace": "namespace"})
    ns_prov = pd.concat([ns_obj, created]).drop_duplicates()
    crd_prov = crd_prov.assign(wave=crd_prov["app"].map(apps["wave"]))
    ns_prov = ns_prov.assign(wave=ns_prov["app"].map(apps["wave"]))
    return crd_prov, ns_prov


def _status(app: str, providers: list[str], self_provided: bool, preexisting: bool,
            order) -> tuple[str, str]:
    """How the earliest provider is ordered before ``app``, and by what."""
    if self_provided or preexisting:
        return "ok", ""
    if not providers:
        return "missing", ""
    return min((order(p, app) for p in providers), key=lambda o: (_RANK[o[0]], o[1]))


def existing_namespaces(dataset) -> set[tuple[str, str]]:
    """(cluster, namespace) that exist before any app syncs, besides the built-in ones: the
    namespaces Application objects live in (Argo CD's cluster has them, or there would be no
    Application), the control-plane namespace, and what ``--cluster-namespaces`` lists (for
    every destination cluster, as ``--cluster-api`` is)."""
    apps = dataset.apps
    out = {(IN_CLUSTER, ns) for ns in set(apps["app_namespace"]) | {dataset.argocd_namespace}}
    clusters = set(apps["cluster"]) | {IN_CLUSTER}
    out |= {(c, ns) for c in clusters for ns in dataset.cluster_namespaces}
    return out


def _first_rows(first: pd.DataFrame, key: list[str]) -> dict[tuple, dict]:
    """The example row of each group (``groupby(key).head(1)``), by its key, as plain dicts."""
    cols = ["name", "namespace", "version", "file", "line"]
    return {tuple(k): dict(zip(cols, v)) for k, v in
            zip(first[key].itertuples(index=False), first[cols].itertuples(index=False))}


def needs(dataset, resource_filter: ResourceFilter | None = None) -> pd.DataFrame:
    """One row per (app, CRD or namespace it needs), with who provides it and how it is ordered.

    status: ok (provided by the app itself, the cluster, or an earlier wave), race (earliest
    provider is in the same wave), late (only later waves), missing (nobody).

    Resources of kinds excluded in argocd-cm (``resource_filter``; the stock argocd-cm's list
    when None) are left out on both sides: Argo CD never applies them (controller/state.go)."""
    res = dataset.resources
    res = res[~excluded_mask(res, dataset.apps, resource_filter)]
    waves = {a: int(w) for a, w in zip(dataset.apps["app"], dataset.apps["wave"])}
    order = pair_order(dataset.apps)
    crd_prov, ns_prov = _providers_frame(dataset, res, resource_filter)
    cluster_has = set(dataset.cluster_scopes)
    existing = existing_namespaces(dataset)
    rows = []

    custom = res[custom_kind_mask(res)]
    if not custom.empty:
        g = custom.assign(kind=custom["kind"].astype(str)).groupby(
            ["app", "cluster", "group", "kind"], sort=True, observed=True)
        first = _first_rows(g.head(1), ["app", "cluster", "group", "kind"])
        sizes = g.size()
        prov = crd_prov.groupby(["cluster", "group", "kind"])[["app", "wave"]] \
            .apply(lambda f: sorted(zip(f["wave"], f["app"]))).to_dict()
        for (app, cluster, group, kind), n in sizes.items():
            ex = first[(app, cluster, group, kind)]
            plist = prov.get((cluster, group, kind), [])
            self_p = any(a == app for _, a in plist)
            others = [(w, a) for w, a in plist if a != app]
            pre = (group, kind) in cluster_has
            status, by = _status(app, [a for _, a in others], self_p, pre, order)
            rows.append({
                "app": app, "cluster": cluster, "wave": waves[app], "need": "crd",
                "reason": f"crd:{group}/{kind}", "group": group, "kind": kind, "namespace": "",
                "example_name": ex["name"], "example_namespace": ex["namespace"],
                "example_version": ex["version"], "example_file": ex["file"],
                "example_line": int(ex["line"]), "resources": int(n), "self_provided": self_p,
                "preexisting": pre, "providers": tuple(a for _, a in others),
                "status": status, "ordered_by": by,
            })

    used = res[(res["scope"] != CLUSTER) & (res["namespace"] != "")]
    if not used.empty:
        g = used.groupby(["app", "cluster", "namespace"], sort=True)
        first = _first_rows(g.head(1), ["app", "cluster", "namespace"])
        sizes = g.size()
        prov = ns_prov.groupby(["cluster", "namespace"])[["app", "wave"]] \
            .apply(lambda f: sorted(zip(f["wave"], f["app"]))).to_dict()
        for (app, cluster, ns), n in sizes.items():
            ex = first[(app, cluster, ns)]
            plist = prov.get((cluster, ns), [])
            self_p = any(a == app for _, a in plist)
            others = [(w, a) for w, a in plist if a != app]
            pre = ns in BUILTIN_NAMESPACES or (cluster, ns) in existing
            status, by = _status(app, [a for _, a in others], self_p, pre, order)
            rows.append({
                "app": app, "cluster": cluster, "wave": waves[app],
                "need": "namespace", "reason": f"namespace:{ns}", "group": "", "kind": "Namespace",
                "namespace": ns, "example_name": ex["name"], "example_namespace": ns,
                "example_version": ex["version"], "example_file": ex["file"],
                "example_line": int(ex["line"]), "resources": int(n), "self_provided": self_p,
                "preexisting": pre, "providers": tuple(a for _, a in others),
                "status": status, "ordered_by": by,
            })
    df = pd.DataFrame(rows, columns=NEED_COLUMNS)
    return df.sort_values(["app", "need", "reason"], kind="stable").reset_index(drop=True)


def dependency_edges(need_frame: pd.DataFrame, apps: pd.DataFrame) -> pd.DataFrame:
    """provider -> consumer edges with their reasons and ordering (ok, race, late)."""
    order = pair_order(apps)
    rows = []
    for r in need_frame[need_frame["providers"].map(len) > 0].itertuples(index=False):
        if r.self_provided or r.preexisting:
            continue
        for p in r.providers:
            rows.append((p, r.app, r.reason, order(p, r.app)[0]))
    df = pd.DataFrame(rows, columns=["provider", "consumer", "reason", "order"])
    return df.sort_values(["provider", "consumer", "reason"], kind="stable") \
        .reset_index(drop=True)


def need_label(reason: str) -> str:
    """``crd:networking.istio.io/VirtualService`` -> ``VirtualService CRD``."""
    what, _, value = reason.partition(":")
    if what == "crd":
        return f"{value.rpartition('/')[2]} CRD"
    return f"namespace {value}"


def propagate_failures(need_frame: pd.DataFrame, roots: dict[str, str]) -> dict[str, list[dict]]:
    """Apps that fall because everything they need from others comes only from fallen apps.

    ``roots``: failing app -> why (e.g. ``InvalidSpecError``). Returns blocked app -> its blocking
    needs, each ``{"reason", "provider", "need"}`` (need: the needs row as a dict), following
    providers transitively until nothing changes. Roots are not in the result.
    """
    fallen = set(roots)
    blocked: dict[str, list[dict]] = {}
    deps = need_frame[(need_frame["providers"].map(len) > 0) & ~need_frame["self_provided"] &
                      ~need_frame["preexisting"]]
    # the loop reads three columns; a blocking need's whole row is made a dict at the end only
    rows = list(enumerate(zip(deps["app"].tolist(), deps["reason"].tolist(),
                              deps["providers"].tolist())))
    changed = True
    while changed:
        changed = False
        for i, (app, reason, providers) in rows:
            if app in roots or not all(p in fallen for p in providers):
                continue
            entry = {"reason": reason, "provider": sorted(providers)[0], "need": i}
            have = blocked.setdefault(app, [])
            if all(e["reason"] != reason for e in have):
                have.append(entry)
                changed = True
            fallen.add(app)
    used = sorted({e["need"] for v in blocked.values() for e in v})
    records = dict(zip(used, deps.iloc[used].to_dict("records"))) if used else {}
    for v in blocked.values():
        for e in v:
            e["need"] = records[e["need"]]
    return {a: sorted(v, key=lambda e: e["reason"]) for a, v in sorted(blocked.items())}


def need_step(app: str, reason: str) -> ChainStep:
    """The chain step of ``app`` needing ``reason`` (``crd:<group>/<Kind>`` or
    ``namespace:<ns>``) from the app of the next step."""
    what, _, value = reason.partition(":")
    kind = "CustomResourceDefinition" if what == "crd" else "Namespace"
    return ChainStep(app=app, kind=kind, name=value)


def failure_chain(app: str, roots: dict[str, str], blocked: dict[str, list[dict]],
                  reason: str | None = None) -> Chain:
    """``app``'s steps back to its root: web-apps needs the VirtualService CRD from
    common-services, which fails with InvalidSpecError. Never loops back on an app."""
    steps: list[ChainStep] = []
    seen = {app}
    current, why = app, reason
    while current not in roots:
        entries = blocked.get(current) or []
        entry = next((e for e in entries if e["reason"] == why), entries[0] if entries else None)
        if entry is None or entry["provider"] in seen:
            break
        steps.append(need_step(current, entry["reason"]))
        current, why = entry["provider"], None
        seen.add(current)
    # propagate_failures starts from the roots, so every blocked app reaches one
    steps.append(ChainStep(app=current, condition=roots.get(current, "blocked")))
    return tuple(steps)


def failing_roots(findings: pd.DataFrame) -> dict[str, str]:
    """App -> the Argo CD condition (or rule slug) of its first blocking finding. Findings that
    carry a chain (blocked-by-dependency, webhook-unavailable when the webhook's
    Service comes only from failing apps) are consequences, not roots."""
    errors = findings[(findings["severity"] == "error") & (findings["app"] != "") &
                      (findings["chain"].map(len) == 0)]
    roots = {}
    for app, f in errors.groupby("app", sort=True):
        first = f.iloc[0]
        roots[str(app)] = str(first["argocd_condition"] or first["slug"])
    return roots
