"""Resources Argo CD leaves out: kinds excluded (or not included) in argocd-cm.

``controller/state.go`` (v3.5.1 R:756-760) removes every target object whose group/kind is
excluded for the destination cluster's URL before comparing, with one
``ExcludedResourceWarning`` per object; the object is then never synced, pruned or tracked.
Which kinds are excluded: :mod:`gitops_analysis.load.exclusions`.
"""

from __future__ import annotations

import pandas as pd

from gitops_analysis.load.exclusions import DEFAULT_FILTER, cluster_url
from gitops_analysis.rules.projects import stopped_apps
from gitops_analysis.rules.registry import Rule, register

# kinds a repository declares on purpose that the stock list (3.0+) now drops
_CONSEQUENCE = {
    ("", "Endpoints"): "a Service without a selector that relies on these Endpoints gets none",
    ("discovery.k8s.io", "EndpointSlice"): "a Service without a selector that relies on this "
                                           "EndpointSlice gets no endpoints",
}


def check_excluded(ctx) -> pd.DataFrame | None:
    ds = ctx.dataset
    res = ds.resources
    if res.empty:
        return None
    rf = getattr(ctx.settings, "resource_filter", None) or DEFAULT_FILTER
    stopped = stopped_apps(ctx)
    urls = {a: cluster_url(s, n) for a, s, n in
            zip(ds.apps["app"], ds.apps["destination_server"], ds.apps["destination_name"])}
    # decide once per (group, kind, app), then walk only the resources that are excluded
    combos = res[["group", "kind", "app"]].astype({"kind": str}).drop_duplicates()
    hit = {(g, k, a) for g, k, a in combos.itertuples(index=False)
           if a not in stopped and rf.why_excluded(g, k, urls.get(a, ""))}
    if not hit:
        return None
    res = res[[(g, k, a) in hit for g, k, a in
               zip(res["group"], res["kind"].astype(str), res["app"])]]
    rows = []
    memo: dict[tuple[str, str, str], str] = {}
    for r in res.itertuples(index=False):
        if r.app in stopped:  # no comparison, so no condition
            continue
        kind = str(r.kind)
        key = (r.group, kind, urls.get(r.app, ""))
        if key not in memo:
            memo[key] = rf.why_excluded(*key)
        why = memo[key]
        if not why:
            continue
        source = ("Argo CD's core exclusions (always applied)" if why == "core" else
                  f"{why} of {rf.origin}" if why == "resource.exclusions" else
                  f"resource.inclusions of {rf.origin}, which list other kinds for this "
                  "cluster")
        detail = f"excluded by {source}: never applied, pruned or tracked"
        extra = _CONSEQUENCE.get((r.group, kind))
        if extra:
            detail += f"; {extra}"
        rows.append({
            "app": r.app, "cluster": r.cluster, "group": r.group, "version": r.version,
            "kind": kind, "namespace": r.namespace, "name": r.name,
            "message": f"Resource {r.group}/{kind} {r.name} is excluded in the settings",
            "detail": detail, "file": r.file, "line": r.line,
        })
    return pd.DataFrame(rows) if rows else None


register(Rule(
    id="GA801", slug="excluded-resource", severity="warning",
    argocd_condition="ExcludedResourceWarning",
    summary="A rendered resource is of a kind Argo CD excludes: it is never applied",
    what="""A rendered resource (hooks too) whose group and kind are excluded for the app's
destination cluster: by Argo CD's core exclusions (`events.k8s.io`, `metrics.k8s.io`, core
`Event`, `coordination.k8s.io/Lease`, always applied), by argocd-cm `resource.exclusions`
(the stock argocd-cm's list of Argo CD 3.x when no `--argocd-cm` is given: Endpoints,
EndpointSlice, Lease, authn/authz reviews, CertificateSigningRequest, cert-manager
CertificateRequest, Cilium identities and endpoints, Kyverno reports), or by
`resource.inclusions` that list other kinds for that cluster. Apps stopped by a project check
are left out: Argo CD compares nothing of theirs (Argo CD v3.5.1: `controller/state.go`,
`util/settings/resources_filter.go`, `util/settings/filtered_resource.go`,
`manifests/base/config/argocd-cm.yaml`).""",
    why="""Argo CD removes the object from the app before comparing and says only
`ExcludedResourceWarning`: it is never created, updated, pruned or tracked, and the ownership
and dependency analysis leave it out as well. Since Argo CD 3.0 the stock list excludes
Endpoints and EndpointSlice: hand-written Endpoints for a selector-less Service silently stop
being applied.""",
    example="""`Resource /Endpoints external-db is excluded in the settings`""",
    remediation="""Drop the object from the app if it is generated in the cluster anyway; if it
must be declared, set `resource.exclusions` in argocd-cm to a list without its kind (the key
replaces the stock list as a whole; the core exclusions cannot be lifted).""",
    check=check_excluded))
