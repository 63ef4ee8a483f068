"""Argo CD's own settings where the repository deploys them: an ``ArgoCD`` resource
(argocd-operator, OpenShift GitOps) or the ``argocd-cm`` ConfigMap, in the control-plane
namespace, rendered by an app of the dataset.

Argo CD reads argocd-cm from its own namespace; when an app of the repository deploys it, that
is what Argo CD will read once the app has synced, so the rules read it too instead of assuming
the stock one. ``--argocd-cm FILE`` still wins: it is what runs now.
"""

from __future__ import annotations

from dataclasses import replace

from gitops_analysis.load.argo_objects import documents_at
from gitops_analysis.load.argocdcm import (
    ArgoCDSettings,
    argocd_cr_data,
    settings_from_data,
)
from gitops_analysis.load.exclusions import EXCLUSIONS_KEY, STOCK_EXCLUSIONS


def settings_in_dataset(ds) -> ArgoCDSettings | None:
    """The settings an app of the dataset deploys into Argo CD's namespace: an ``ArgoCD``
    resource first (its operator rewrites argocd-cm from it), else ``argocd-cm``; None when no
    analysed app deploys either."""
    res = ds.resources
    ctl = ds.argocd_namespace
    here = res[res["namespace"] == ctl]
    for group, kind, name in (("argoproj.io", "ArgoCD", None), ("", "ConfigMap", "argocd-cm")):
        rows = here[(here["group"] == group) & (here["kind"] == kind)]
        if name:
            rows = rows[rows["name"] == name]
        if rows.empty:
            continue
        rows = rows.sort_values(["app", "file", "doc_index", "item"])
        first = rows.iloc[0]
        wanted = {(str(first["file"]), int(first["doc_index"]), int(first["item"]))}
        for file, _, _, line, data in documents_at(ds, wanted):
            if not isinstance(data, dict):
                continue
            where = f"{file}:{line} ({kind} {first['name']} of {first['app']})"
            if kind == "ArgoCD":
                spec = data.get("spec")
                cm = argocd_cr_data(spec if isinstance(spec, dict) else {})
                found = settings_from_data(cm, where, line)
                if EXCLUSIONS_KEY not in cm:  # the operator writes Argo CD's default list
                    found = replace(found, resource_filter=replace(
                        found.resource_filter, exclusions=STOCK_EXCLUSIONS))
                return found
            values = data.get("data")
            return settings_from_data(values if isinstance(values, dict) else {}, where, line)
    return None

