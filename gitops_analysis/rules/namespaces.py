"""Namespace rules: a namespaced object with no namespace, or deployed into one nobody creates."""

from __future__ import annotations

import pandas as pd

from gitops_analysis.core import messages
from gitops_analysis.core.kinds import NAMESPACED
from gitops_analysis.core.words import plural
from gitops_analysis.rules.ordering import ordering_rows
from gitops_analysis.rules.registry import Rule, register


def check_namespace_missing(ctx) -> pd.DataFrame | None:
    res = ctx.dataset.resources
    # controller/state.go fires only for kinds discovery knows to be namespaced (IsNamespaced,
    # not ...OrUnknown), without metadata.namespace, in an app with no destination namespace.
    # Hooks are split off before this comparison.
    hit = res[(res["scope"] == NAMESPACED) & (res["declared_namespace"] == "") &
              (res["namespace"] == "") & ~res["is_hook"]]
    if hit.empty:
        return None
    out = pd.DataFrame({
        "app": hit["app"], "cluster": hit["cluster"], "group": hit["group"],
        "version": hit["version"], "kind": hit["kind"].astype(str), "namespace": "",
        "name": hit["name"],
        "message": [messages.namespace_missing(n, g, v, k) for n, g, v, k in
                    zip(hit["name"], hit["group"], hit["version"], hit["kind"].astype(str))],
        "detail": "the app has no spec.destination.namespace and the manifest no "
                  "metadata.namespace: every sync of the app fails",
        "file": hit["file"], "line": hit["line"],
    })
    return out


def check_namespace_not_created(ctx) -> pd.DataFrame | None:
    n = ctx.needs
    sel = n[(n["need"] == "namespace") & (n["status"] == "missing")]
    if sel.empty:
        return None
    return pd.DataFrame([{
        "app": r.app, "cluster": r.cluster, "group": "", "version": "v1", "kind": "Namespace",
        "namespace": "", "name": r.namespace,
        "message": messages.apply_failed(messages.namespace_not_found(r.namespace)),
        "detail": (f"{plural(r.resources, 'resource')} go into namespace {r.namespace}; no app "
                   "creates it (no Namespace object, no CreateNamespace=true destination)"),
        "file": r.example_file, "line": r.example_line,
    } for r in sel.itertuples(index=False)])


def check_namespace_late(ctx) -> pd.DataFrame | None:
    late = ordering_rows(ctx, "namespace", late=True)
    race = ordering_rows(ctx, "namespace", late=False)
    frames = [f.assign(severity=sev) for f, sev in ((late, "error"), (race, "warning"))
              if f is not None]
    return pd.concat(frames, ignore_index=True) if frames else None


register(Rule(
    id="GA201", slug="namespace-missing", severity="error", argocd_condition="InvalidSpecError",
    summary="A namespaced resource has no namespace and the app no destination namespace",
    what="""A resource of a kind known to be namespaced (built-in, or by a CRD's `spec.scope`)
whose manifest has no `metadata.namespace`, in an Application whose
`spec.destination.namespace` is empty. Kinds of unknown scope never trigger it, as in Argo CD.""",
    why="""Argo CD cannot place the object and marks the whole app with `InvalidSpecError`: every
sync of the app fails (operation phase Error), so nothing else the app carries is applied
either — CRDs and namespaces that other apps wait for included.""",
    example="""`Namespace for default-install-config-9h2h2b6hbk /v1, Kind=ConfigMap is missing.` — a
configMapGenerator without a namespace in an aggregate kustomization, deployed by an app with
`destination.namespace: ''`.""",
    remediation="""Give the manifest a namespace (`namespace:` in its kustomization, or
`metadata.namespace`), or set `spec.destination.namespace` on the Application.""",
    check=check_namespace_missing))

register(Rule(
    id="GA202", slug="namespace-not-created", severity="error", argocd_condition="SyncError",
    summary="Resources go into a namespace that no app creates",
    what="""A namespace that an app deploys into (declared or defaulted) that no app creates with
a Namespace object or a `CreateNamespace=true` destination, and that is not built in
(default, kube-system, kube-public, kube-node-lease).""",
    why="""`CreateNamespace=true` creates only the destination namespace. Any other namespace must
exist already, or the apply fails with `namespaces "<ns>" not found` and the sync fails.""",
    example="""`one or more objects failed to apply, reason: namespaces "auth" not found`""",
    remediation="""Add a Namespace object to an app of an earlier wave, or set
`CreateNamespace=true` on the app whose destination it is. If the namespace is made outside
Argo CD, ignore this finding for it.""",
    check=check_namespace_not_created))

register(Rule(
    id="GA203", slug="namespace-late", severity="error", argocd_condition="SyncError",
    summary="The namespace an app needs is created by a later (error) or the same (warning) wave",
    what="""An app deploys into a namespace that only apps of a later wave create (error: the
first sync fails), or that the earliest creator is in the same wave (warning: a race).""",
    why="""Under an app-of-apps parent, child Applications are applied in wave order; an app
whose namespace comes from a later wave fails its first sync with `namespaces "<ns>" not
found` and only recovers by retry, if at all.""",
    example="""`trainer` (wave 1) deploys into `kubeflow-system`, created by `platform`
(wave 2).""",
    remediation="""Move the Namespace to an app of an earlier wave, or lower the creator's wave
(`gitops-analysis fix` proposes wave changes).""",
    check=check_namespace_late))
