"""Admission webhook rules: a webhook that fails closed and calls a Service that is not there."""

from __future__ import annotations

import pandas as pd

from gitops_analysis.analysis.dependencies import failing_roots, failure_chain, propagate_failures
from gitops_analysis.core import messages
from gitops_analysis.core.findings import Chain, ChainStep
from gitops_analysis.core.kinds import builtin_plural
from gitops_analysis.rules.registry import Rule, register

MATCHED_OPERATIONS = {"CREATE", "UPDATE", "*"}


def _refused_apps(findings: pd.DataFrame, blocked: dict) -> set[str]:
    """Apps whose sync is refused before anything is applied: an InvalidSpecError, a kind the
    cluster does not serve (task validation), FailOnSharedResource. Their webhook
    configurations never reach the cluster."""
    err = findings[(findings["severity"] == "error") & (findings["app"] != "")]
    refused = err[(err["argocd_condition"] == "InvalidSpecError") |
                  err["slug"].isin(["crd-missing", "crd-late"]) |
                  ((err["slug"] == "shared-resource") & (err["argocd_condition"] == "SyncError"))]
    out = set(refused["app"].astype(str))
    out |= {app for app, entries in blocked.items()
            if any(e["need"]["need"] == "crd" for e in entries)}
    return out


def _unavailable(ctx, roots: dict, blocked: dict) -> dict[tuple, tuple[str, Chain]]:
    """(cluster, service namespace, service name) -> (why the Service cannot be there, the
    failure chain behind it when it comes only from failing apps), for every Service a webhook
    calls."""
    res = ctx.dataset.resources
    svc = res[(res["group"] == "") & (res["kind"] == "Service") & ~res["is_hook"]]
    deployers: dict[tuple, list[str]] = {}
    for app, cluster, ns, name in svc[["app", "cluster", "namespace", "name"]] \
            .itertuples(index=False):
        deployers.setdefault((cluster, ns, name), []).append(app)
    n = ctx.needs
    bad_ns = {(r.app, r.namespace): r.status for r in
              n[(n["need"] == "namespace") & n["status"].isin(["missing", "late"])]
              .itertuples(index=False)}
    out: dict[tuple, tuple[str, Chain]] = {}
    hooks = ctx.dataset.webhooks
    for key in set(zip(hooks["cluster"], hooks["service_namespace"], hooks["service_name"])):
        cluster, ns, name = key
        apps = sorted(set(deployers.get(key, [])))
        if not apps:
            out[key] = (f"no app deploys Service {ns}/{name}", ())
            continue
        why: list[str] = []
        chains: list[Chain] = []
        for app in apps:
            if (app, ns) in bad_ns:
                created = ("created by no app" if bad_ns[(app, ns)] == "missing"
                           else "created only by a later wave")
                why.append(f"{app} deploys it into namespace {ns}, which is {created}")
            elif app in roots:
                why.append(f"{app} deploys it and fails ({roots[app]})")
                chains.append((ChainStep(app=app, condition=roots[app]),))
            elif app in blocked:
                why.append(f"{app} deploys it and is blocked ({blocked[app][0]['reason']} comes "
                           f"only from failing apps)")
                chains.append(failure_chain(app, roots, blocked))
            else:
                break
        else:
            # a chain only when every deployer fails because of other apps: a Service whose
            # namespace nobody creates (or too late) is a cause of its own
            chain = chains[0] if len(chains) == len(apps) else ()
            out[key] = (f"Service {ns}/{name}: " + "; ".join(why), chain)
    return out


def _webhook_chain(app: str, hook: dict, deployer_chain: Chain) -> Chain:
    """``app`` needs the webhook's Service from the first app of ``deployer_chain``. A chain that
    comes back to ``app`` itself is cut there: the app fails on its own account."""
    apps = [s.app for s in deployer_chain]
    if not deployer_chain:
        return ()
    if app in apps:
        return deployer_chain[apps.index(app):]
    service = f"{hook['service_namespace']}/{hook['service_name']}"
    return (ChainStep(app=app, kind="Service", name=service),) + deployer_chain


def _plurals(ctx) -> dict[tuple, str]:
    crds = ctx.dataset.crds
    return {(c, g, k): p for c, g, k, p in
            crds[["cluster", "group", "kind", "plural"]].itertuples(index=False) if p}


def check_webhook_unavailable(ctx) -> pd.DataFrame | None:
    hooks = ctx.dataset.webhooks
    if hooks.empty:
        return None
    roots = failing_roots(ctx.findings)
    blocked = propagate_failures(ctx.needs, roots)
    refused = _refused_apps(ctx.findings, blocked)
    hooks = hooks[(hooks["failure_policy"] == "Fail") & ~hooks["object_selector"] &
                  ~hooks["app"].isin(refused)]
    if hooks.empty:
        return None
    gone = _unavailable(ctx, roots, blocked)
    hooks = hooks[[(c, ns, n) in gone for c, ns, n in
                   zip(hooks["cluster"], hooks["service_namespace"], hooks["service_name"])]]
    if hooks.empty:
        return None
    plurals = _plurals(ctx)
    res = ctx.dataset.resources
    res = res.assign(kind=res["kind"].astype(str))
    resources = [r._asdict() for r in
                 res[["app", "cluster", "group", "version", "kind", "namespace", "name", "file",
                      "line"]].itertuples(index=False)]
    for r in resources:
        r["plural"] = plurals.get((r["cluster"], r["group"], r["kind"])) or \
            builtin_plural(r["kind"])
    rows = []
    for h in hooks.to_dict(orient="records"):
        msg = messages.webhook_service_not_found(h["webhook"], h["service_name"],
                                                 h["service_namespace"], h["service_port"],
                                                 h["service_path"], h["timeout_seconds"])
        why, chain = gone[(h["cluster"], h["service_namespace"], h["service_name"])]
        for r in resources:
            if r["cluster"] != h["cluster"]:
                continue
            if not any(({r["group"], "*"} & set(groups)) and ({r["plural"], "*"} & set(plural))
                       and (MATCHED_OPERATIONS & set(ops)) for groups, plural, ops in h["rules"]):
                continue
            rows.append({
                "app": r["app"], "cluster": r["cluster"], "group": r["group"],
                "version": r["version"], "kind": r["kind"], "namespace": r["namespace"],
                "name": r["name"], "message": msg,
                "detail": (f"{h['kind']} {h['config']} (app {h['app']}) sends CREATE/UPDATE of "
                           f"{r['plural']} to webhook {h['webhook']} with failurePolicy Fail; "
                           f"{why}"),
                "related_apps": [h["app"]] if h["app"] != r["app"] else [],
                "chain": _webhook_chain(r["app"], h, chain),
                "file": r["file"], "line": r["line"],
            })
    return pd.DataFrame(rows) if rows else None


register(Rule(
    id="GA303", slug="webhook-unavailable", severity="error", argocd_condition="SyncError",
    stage=2,
    summary="An admission webhook that fails closed calls a Service that cannot be there",
    what="""Each entry of a ValidatingWebhookConfiguration or MutatingWebhookConfiguration
(`admissionregistration.k8s.io`) with `failurePolicy: Fail` (the v1 default) and a
`clientConfig.service` that cannot exist when the resources it selects are applied: no app
deploys that Service, or every app that deploys it cannot (its namespace is created by no app
or only by a later wave, or the app fails or is blocked). One finding per resource, in any app of
the same cluster, that the webhook's `rules` select: `apiGroups` holds its group or `*`,
`resources` its plural (the CRD's `spec.names.plural`; for built-in kinds the usual plural) or
`*`, `operations` CREATE, UPDATE or `*`. Configurations of apps whose sync is refused before
anything is applied (InvalidSpecError, a CRD missing or late, FailOnSharedResource) never reach
the cluster and are skipped, as are webhooks with an `objectSelector` (not evaluated);
`namespaceSelector` and `apiVersions` are not evaluated either. When the Service comes only
from failing apps, the finding carries the chain back to the root failure.""",
    why="""The API server calls the webhook on every create and update of those resources; with
`failurePolicy: Fail` an unreachable webhook rejects the request. The webhook configuration is
cluster-scoped, so it is created even when the namespace of its Service is not: from then on,
every apply of the selected resources fails — in the webhook's own app on its retries, and in
every other app — and the sync fails with a message that names a webhook, not the real cause.""",
    example="""`Internal error occurred: failed calling webhook
"validator.clustertrainingruntime.trainer.kubeflow.org": failed to call webhook: Post
"https://kubeflow-trainer-controller-manager.kubeflow-system.svc:443/validate-trainer-kubeflow-org-v1alpha1-clustertrainingruntime?timeout=10s":
service "kubeflow-trainer-controller-manager" not found` — `trainer` creates the
ValidatingWebhookConfiguration, but its Service's namespace `kubeflow-system` comes only from
`common-services`, which never syncs.""",
    remediation="""Make the Service exist first: fix the app that deploys it or its namespace
(see the other findings of the chain), or deploy the webhook configuration in the same app as,
and a later sync wave than, its Service. Where the webhook may be skipped while its backend is
down, `failurePolicy: Ignore` avoids the failure.""",
    check=check_webhook_unavailable))
