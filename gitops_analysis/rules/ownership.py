"""Ownership rules: one resource in several apps, or twice in one app."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gitops_analysis.analysis.keys import apps_per_key, row_codes, value_codes
from gitops_analysis.core import messages
from gitops_analysis.load.exclusions import excluded_mask
from gitops_analysis.rules.projects import stopped_apps
from gitops_analysis.rules.registry import Rule, register

KEY = ["cluster", "group", "kind", "namespace", "name"]


def _tracked(ctx) -> pd.DataFrame:
    """Resources Argo CD compares: hooks are split off first (gitops-engine splitHooks), and
    apps whose project checks fail compare nothing (refreshAppConditions stops them)."""
    if "ownership.tracked" not in ctx.shared:  # three rules read it
        res = ctx.dataset.resources
        res = res[~res["is_hook"] & ~res["app"].isin(stopped_apps(ctx))]
        ctx.shared["ownership.tracked"] = res.assign(kind=res["kind"].astype(str))
    return ctx.shared["ownership.tracked"]


def _applied(ctx) -> pd.DataFrame:
    """Resources Argo CD applies and tracks: kinds excluded in argocd-cm leave the targets
    after deduplication (controller/state.go), so they are never live in any app."""
    if "ownership.applied" not in ctx.shared:
        res = _tracked(ctx)
        ctx.shared["ownership.applied"] = res[~excluded_mask(
            res, ctx.dataset.apps, getattr(ctx.settings, "resource_filter", None))]
    return ctx.shared["ownership.applied"]


def key_codes(ctx, res: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(key codes, app codes) of ``res``, rows of the dataset's resources: the key columns are
    factorised once per run, for every rule that asks (see analysis.keys)."""
    full = ctx.dataset.resources
    if not full.index.equals(pd.RangeIndex(len(full))):
        return row_codes(res, KEY), value_codes(res["app"])
    if "ownership.codes" not in ctx.shared:
        ctx.shared["ownership.codes"] = (row_codes(full, KEY), value_codes(full["app"]))
    keys, apps = ctx.shared["ownership.codes"]
    at = res.index.to_numpy()
    return keys[at], apps[at]


def _shared(ctx, crd: bool) -> pd.DataFrame:
    res = _applied(ctx)
    is_crd = (res["kind"] == "CustomResourceDefinition") & (res["group"] == "apiextensions.k8s.io")
    res = res[is_crd if crd else ~is_crd]
    # the rows of res.drop_duplicates(KEY + ["app"]) whose key two or more apps deploy
    kept, codes, counts = apps_per_key(res, KEY, "app", "first", *key_codes(ctx, res))
    many = counts[codes] > 1
    shared = res[kept & many]
    if shared.empty:
        return shared
    # how many different renders each shared key has
    hashes = pd.DataFrame({"key": codes[many], "hash": res["content_hash"].to_numpy()[many]})
    variants = hashes.groupby("key")["hash"].nunique()
    return shared.assign(variants=variants.reindex(codes[kept & many]).to_numpy())


def _last_writer(waves: dict, names: list[str]) -> str:
    """Among apps that deploy the same object, the one that syncs last under waves owns it."""
    return sorted(names, key=lambda a: (-waves[a], a))[0]


def check_shared_resource(ctx) -> pd.DataFrame | None:
    shared = _shared(ctx, crd=False)
    if shared.empty:
        return None
    apps = ctx.dataset.apps
    waves = dict(zip(apps["app"], apps["wave"].astype(int)))
    instance = dict(zip(apps["app"], apps["instance"]))
    fails = dict(zip(apps["app"], apps["fail_on_shared_resource"].astype(bool)))
    groups = shared.groupby(KEY, sort=True)["app"].apply(lambda s: sorted(s)).to_dict()
    rows = []
    for r in shared.itertuples(index=False):
        names = groups[(r.cluster, r.group, r.kind, r.namespace, r.name)]
        others = [a for a in names if a != r.app]
        other = _last_writer(waves, others)
        # the app as Application.QualifiedName(), the other by its instance name
        msg = messages.shared_resource(r.kind, r.name, r.app, instance[other])
        fail = fails[r.app]
        identical = r.variants == 1
        rows.append({
            "app": r.app, "cluster": r.cluster, "group": r.group, "version": r.version,
            "kind": r.kind, "namespace": r.namespace, "name": r.name,
            "message": messages.shared_resource_failed(msg) if fail else msg,
            "severity": "error" if fail else None,
            "argocd_condition": "SyncError" if fail else None,
            "detail": ("identical manifests" if identical else
                       "manifests differ: the apps overwrite each other on every sync"),
            "related_apps": others, "file": r.file, "line": r.line,
        })
    return pd.DataFrame(rows)


def check_shared_crd(ctx) -> pd.DataFrame | None:
    shared = _shared(ctx, crd=True)
    if shared.empty:
        return None
    groups = shared.groupby(KEY, sort=True)["app"].apply(lambda s: sorted(s)).to_dict()
    rows = []
    for r in shared.itertuples(index=False):
        names = groups[(r.cluster, r.group, r.kind, r.namespace, r.name)]
        others = [a for a in names if a != r.app]
        identical = r.variants == 1
        rows.append({
            "app": r.app, "cluster": r.cluster, "group": r.group, "version": r.version,
            "kind": r.kind, "namespace": r.namespace, "name": r.name,
            "message": (f"CustomResourceDefinition {r.name} is also rendered by "
                        f"{', '.join(others)}: Argo CD shows no warning (CRDs carry no tracking); "
                        "the last app to sync wins, and pruning or deleting any of them deletes "
                        "the CRD and every resource of it"),
            "detail": "identical manifests" if identical else
                      "manifests differ: each sync of one app overwrites the other's CRD",
            "related_apps": others, "file": r.file, "line": r.line,
        })
    return pd.DataFrame(rows)


def check_repeated_resource(ctx) -> pd.DataFrame | None:
    res = _tracked(ctx)
    keys, apps = key_codes(ctx, res)
    if len(keys):  # the repeated keys only
        _, at, counts = np.unique(keys * (int(apps.max()) + 1) + apps, return_inverse=True,
                                  return_counts=True)
        res = res[counts[at] > 1]
    counts = res.groupby(["app"] + KEY, sort=True).size()
    repeated = counts[counts > 1]
    if repeated.empty:
        return None
    first = res.drop_duplicates(["app"] + KEY).set_index(["app"] + KEY)
    rows = []
    for (app, cluster, group, kind, ns, name), n in repeated.items():
        ex = first.loc[(app, cluster, group, kind, ns, name)]
        rows.append({
            "app": app, "cluster": cluster, "group": group, "version": ex["version"],
            "kind": kind, "namespace": ns, "name": name,
            "message": messages.repeated_resource(group, kind, ns, name, int(n)),
            "detail": f"{n} documents; Argo CD keeps the last one",
            "file": ex["file"], "line": int(ex["line"]),
        })
    return pd.DataFrame(rows)


register(Rule(
    id="GA101", slug="shared-resource", severity="warning",
    argocd_condition="SharedResourceWarning",
    summary="A resource (not a CRD) is deployed by two or more apps",
    what="""A resource key (cluster, group, kind, effective namespace, name) that the rendered
manifests of two or more Applications contain. Hooks are left out, as Argo CD splits them off
before comparing. One finding per app that would show Argo CD's warning; the detail says whether
the manifests are identical or differ.""",
    why="""Argo CD tracks each live object to one app. The app that synced last owns it, every other
app shows `SharedResourceWarning` and reports the object OutOfSync; with automated sync the apps
take it from each other in turn, and pruning one app deletes what the other still needs. With
`FailOnSharedResource=true` the sync fails instead (`Shared resource found: ...`).""",
    example="""`ConfigMap/katib-config is part of applications argocd/kubeflow-common-services and
kubeflow-katib`: the aggregate app renders all of Kubeflow, and the katib app renders katib
again.""",
    remediation="""Give every resource one owner: narrow the aggregate app's source to what no
other app deploys (a kustomization that lists only its own bases), or drop the duplicate app.
`gitops-analysis fix` proposes the split.""",
    check=check_shared_resource))

register(Rule(
    id="GA102", slug="shared-crd", severity="warning", argocd_condition="",
    summary="A CustomResourceDefinition is deployed by two or more apps",
    what="""A CustomResourceDefinition object that two or more Applications render. The finding
names the CRD itself (kind CustomResourceDefinition) and says whether the renders differ.""",
    why="""Argo CD never stamps CRDs with tracking (reposerver/repository/repository.go), so no
app warns: the last writer silently wins, differing renders flip on every sync, and pruning or
deleting either app deletes the CRD and with it every custom resource of that kind in the
cluster.""",
    example="""`jobsets.jobset.x-k8s.io` rendered by both kubeflow-common-services and
kubeflow-trainer, with different certificate annotations.""",
    remediation="""Keep each CRD in exactly one app, ideally an early-wave app for CRDs only, and
add `argocd.argoproj.io/sync-options: Delete=false` or `Prune=false` to CRDs that must outlive
their app.""",
    check=check_shared_crd))

register(Rule(
    id="GA103", slug="repeated-resource", severity="warning",
    argocd_condition="RepeatedResourceWarning",
    summary="The same resource appears twice in one app",
    what="""A resource key that appears in two or more documents of one app's rendered output
(for example two sources of a multi-source app that both render it).""",
    why="""Argo CD keeps only the last document and raises `RepeatedResourceWarning`; the other
copies are silently ignored, so edits to them have no effect.""",
    example="""`Resource /ConfigMap/kubeflow/app-config appeared 2 times among application
resources.`""",
    remediation="""Remove the duplicate from one of the sources, or split the sources into
separate apps.""",
    check=check_repeated_resource))
