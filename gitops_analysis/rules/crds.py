"""CRD rules: a custom resource whose CRD nobody supplies, or supplies too late."""

from __future__ import annotations

import pandas as pd

from gitops_analysis.analysis.dependencies import custom_kind_mask
from gitops_analysis.core import messages
from gitops_analysis.rules.ordering import ordering_rows
from gitops_analysis.rules.registry import Rule, register


def check_crd_missing(ctx) -> pd.DataFrame | None:
    ds = ctx.dataset
    res = ds.resources
    custom = res[custom_kind_mask(res) & ~res["skip_dry_run"]]
    if custom.empty:
        return None
    custom = custom.assign(kind=custom["kind"].astype(str))
    crds = ds.crds
    served = crds.groupby(["cluster", "group", "kind"])["versions"] \
        .apply(lambda s: [v for vs in s for v in vs.split(",") if v]).to_dict()
    cluster_has = set(ds.cluster_scopes)
    rows = []
    for r in custom.itertuples(index=False):
        if (r.group, r.kind) in cluster_has:
            continue
        versions = served.get((r.cluster, r.group, r.kind))
        if versions is None:
            msg = messages.crd_missing(r.group, r.kind, r.namespace, r.name)
            detail = f"no app renders a CRD for {r.group}/{r.kind} and the cluster is not known " \
                     "to have it"
        elif r.version not in versions and versions:
            msg = messages.crd_version_missing(r.version, r.group, r.kind, r.namespace, r.name,
                                               versions[0])
            detail = f"the CRD serves {', '.join(dict.fromkeys(versions))}, not {r.version}"
        else:
            continue
        rows.append({"app": r.app, "cluster": r.cluster, "group": r.group, "version": r.version,
                     "kind": r.kind, "namespace": r.namespace, "name": r.name, "message": msg,
                     "detail": detail, "file": r.file, "line": r.line})
    return pd.DataFrame(rows) if rows else None


def check_crd_late(ctx) -> pd.DataFrame | None:
    late = ordering_rows(ctx, "crd", late=True)
    race = ordering_rows(ctx, "crd", late=False)
    frames = [f.assign(severity=sev) for f, sev in ((late, "error"), (race, "warning"))
              if f is not None]
    return pd.concat(frames, ignore_index=True) if frames else None


register(Rule(
    id="GA301", slug="crd-missing", severity="error", argocd_condition="SyncError",
    summary="A custom resource whose CRD no app supplies and the cluster does not have",
    what="""A resource of a kind that is neither built into Kubernetes nor Argo CD's own, whose
CRD (`spec.group` + `spec.names.kind`) no app renders, that the cluster is not known to have
(`--cluster-api`), and that `SkipDryRunOnMissingResource=true` does not cover. Also: a CRD that
exists but does not serve the resource's version.""",
    why="""The dry run of the sync fails for that resource, and the sync fails with Argo CD's
per-resource message; automated sync retries and gives up with a `SyncError` condition.""",
    example="""`The Kubernetes API could not find networking.istio.io/VirtualService for requested
resource kubeflow/centraldashboard. Make sure the "VirtualService" CRD is installed on the
destination cluster.`""",
    remediation="""Add the CRD to an app of an earlier wave (or the same app), install it on the
cluster and declare it with `--cluster-api`, or set `SkipDryRunOnMissingResource=true` when
something else installs it at run time.""",
    check=check_crd_missing))

register(Rule(
    id="GA302", slug="crd-late", severity="error", argocd_condition="SyncError",
    summary="The CRD an app needs comes from a later (error) or the same (warning) wave",
    what="""A custom resource whose CRD only apps of a later wave supply (error), or whose earliest
supplier is in the same wave (warning: a race). A CRD in the same app is fine: Argo CD applies it
first within the sync.""",
    why="""A CRD supplied by another app gives no relief until that app has synced: the consumer
fails with the missing-CRD message at its first sync and depends on retries.""",
    example="""`web-apps` (wave 1) uses `VirtualService`, whose CRD comes from `istio` (wave 3).""",
    remediation="""Lower the supplier's wave below every consumer's, or move the CRDs into a
dedicated early app; `gitops-analysis fix` proposes the wave changes.""",
    check=check_crd_late))
