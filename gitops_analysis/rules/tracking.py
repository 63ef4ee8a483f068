"""Rules about how Argo CD tracks and orders apps: labels, health of Applications, scope."""

from __future__ import annotations

import pandas as pd

from gitops_analysis.core.kinds import UNKNOWN
from gitops_analysis.core.words import plural
from gitops_analysis.rules.registry import Rule, register


def check_instance_label_collision(ctx) -> pd.DataFrame | None:
    # util/argo/resource_tracking.go GetAppName: only `label` tracking reads ownership from the
    # label, and only from app.kubernetes.io/instance unless application.instanceLabelKey says
    # otherwise; Argo CD 3.x defaults to annotation tracking (settings.go GetTrackingMethod)
    settings = ctx.settings
    if settings is None or not settings.label_tracking or \
            settings.instance_label_key != "app.kubernetes.io/instance":
        return None
    res = ctx.dataset.resources
    labelled = res[res["instance_label"] != ""]
    apps = ctx.dataset.apps
    own_name = dict(zip(apps["app"], apps["instance"]))
    hit = labelled[labelled["instance_label"] != labelled["app"].map(own_name)]
    if hit.empty:
        return None
    return pd.DataFrame({
        "app": hit["app"], "cluster": hit["cluster"], "group": hit["group"],
        "version": hit["version"], "kind": hit["kind"].astype(str), "namespace": hit["namespace"],
        "name": hit["name"],
        "message": [f"{k}/{n} already carries app.kubernetes.io/instance={v}: with label "
                    f"tracking Argo CD reads it as owned by an app named {v}, not {a}"
                    for k, n, v, a in zip(hit["kind"].astype(str), hit["name"],
                                          hit["instance_label"], hit["app"].map(own_name))],
        "detail": "argocd-cm selects label tracking: Argo CD overwrites the label on sync and "
                  "reports the object as belonging to another app until then",
        "file": hit["file"], "line": hit["line"],
    })


def check_app_health_missing(ctx) -> pd.DataFrame | None:
    # the waves of apps an ApplicationSet generates order nothing: its controller creates them
    # all at once and never reads sync-wave (only a parent app's sync does)
    apps = ctx.dataset.apps
    apps = apps[apps["appset"] == ""]
    if ctx.health_check_configured or apps["wave"].nunique() < 2:
        return None
    waves = sorted(apps["wave"].unique())
    return pd.DataFrame([{
        "app": "", "kind": "Application", "group": "argoproj.io", "version": "v1alpha1",
        "name": "", "message": (
            f"the apps use {len(waves)} sync waves ({', '.join(map(str, waves))}), but Argo CD "
            "has no health check for Application since 1.8: without "
            "resource.customizations.health.argoproj.io_Application in argocd-cm the parent "
            "does not wait for a wave to be healthy, and every wave is applied back to back"),
        "detail": "pass --argocd-cm with the argocd-cm ConfigMap to confirm it is configured",
    }])


def check_unknown_scope(ctx) -> pd.DataFrame | None:
    res = ctx.dataset.resources
    hit = res[res["scope"] == UNKNOWN].assign(kind=lambda f: f["kind"].astype(str))
    if hit.empty:
        return None
    rows = []
    for (group, kind), f in hit.groupby(["group", "kind"], sort=True):
        apps = sorted(f["app"].unique())
        first = f.iloc[0]
        rows.append({
            "app": apps[0], "cluster": first["cluster"], "group": group,
            "version": first["version"], "kind": kind, "namespace": "", "name": first["name"],
            "message": (f"{group or 'core'}/{kind} is neither a built-in kind nor defined by a "
                        f"CRD in any app: its scope is unknown, so it was treated as namespaced "
                        f"(as Argo CD does) in {plural(len(f), 'resource')}"),
            "detail": "pass --cluster-api with `kubectl api-resources -o wide` output to declare "
                      "it",
            "related_apps": apps[1:], "file": first["file"], "line": int(first["line"]),
        })
    return pd.DataFrame(rows)


register(Rule(
    id="GA401", slug="app-health-missing", severity="warning", argocd_condition="",
    summary="Waves between Applications do nothing without an Application health check",
    what="""The apps use two or more sync waves, and nothing shows that argocd-cm has the
Application health check (`resource.customizations.health.argoproj.io_Application`). Reported
once per dataset; `--argocd-cm FILE` silences it when the check is there.""",
    why="""Argo CD removed the built-in health check of Application in 1.8 (#3781). An app-of-apps
parent then applies every child wave back to back without waiting: the wave order the repository
relies on does not exist.""",
    example="""Waves 0..5 across 13 Kubeflow apps and a stock argocd-cm.""",
    remediation="""Add to argocd-cm:

```yaml
resource.customizations.health.argoproj.io_Application: |
  hs = {}
  hs.status = "Progressing"
  hs.message = ""
  if obj.status ~= nil and obj.status.health ~= nil then
    hs.status = obj.status.health.status
    if obj.status.health.message ~= nil then hs.message = obj.status.health.message end
  end
  return hs
```""",
    check=check_app_health_missing))

register(Rule(
    id="GA402", slug="instance-label-collision", severity="warning", argocd_condition="",
    summary="A resource already carries app.kubernetes.io/instance with another app's name",
    what="""A rendered resource whose `app.kubernetes.io/instance` label (set by its upstream chart)
differs from the instance name of the app that deploys it, when argocd-cm (`--argocd-cm`)
selects label tracking (`application.resourceTrackingMethod: label`, with the default
`application.instanceLabelKey`). Under annotation tracking, Argo CD 3.x's default
(`util/settings/settings.go` `GetTrackingMethod`), and `annotation+label`, ownership is read
from the `argocd.argoproj.io/tracking-id` annotation (`util/argo/resource_tracking.go`
`GetAppName`) and the label does not matter: nothing is reported.""",
    why="""With label tracking that label *is* the ownership record: Argo CD takes the object for
part of an app named after the label, reports it wrongly, and overwrites the label on sync,
which can break selectors that relied on it.""",
    example="""Istio's CRDs carry `app.kubernetes.io/instance: istio` while the app is
`kubeflow-common-services`.""",
    remediation="""Use annotation tracking (`application.resourceTrackingMethod: annotation`, the
default from Argo CD 3.0), or set a different `application.instanceLabelKey`.""",
    check=check_instance_label_collision))

register(Rule(
    id="GA501", slug="unknown-scope", severity="warning", argocd_condition="",
    summary="A kind that is neither built in nor defined by any CRD",
    what="""A kind whose scope the analyser cannot know: not a built-in Kubernetes kind, not
Argo CD's own, and no app renders its CRD. Once per kind.""",
    why="""Argo CD treats objects of unknown kind as namespaced when it normalises them, and the
sync fails if the cluster does not serve the kind. Every rule that depends on the scope (shared
keys, missing namespaces) is uncertain for it.""",
    example="""`monitoring.coreos.com/ServiceMonitor` when the Prometheus operator is installed
outside Argo CD.""",
    remediation="""Pass `--cluster-api` with the output of `kubectl api-resources -o wide`, or add
the CRD to an app.""",
    check=check_unknown_scope))
