"""Shared by the CRD and namespace ordering rules: needs met too late, or in a race."""

from __future__ import annotations

import pandas as pd

from gitops_analysis.core import messages
from gitops_analysis.core.words import plural


def ordering_rows(ctx, need: str, late: bool) -> pd.DataFrame | None:
    """Findings for needs (``crd`` or ``namespace``) that only a later wave (``late``) or the
    same wave (``race``) provides: Argo CD's message when late, the race explained otherwise."""
    n = ctx.needs
    sel = n[(n["need"] == need) & (n["status"] == ("late" if late else "race"))]
    if sel.empty:
        return None
    rows = []
    for r in sel.itertuples(index=False):
        providers = ", ".join(r.providers)
        if need == "namespace":
            msg = messages.apply_failed(messages.namespace_not_found(r.namespace)) if late else (
                f"namespace {r.namespace} is created by {providers} in the same wave "
                f"({r.wave}): whether it exists when {r.app} applies is a race")
            group, kind, version = "", "Namespace", "v1"
            name, ns = r.namespace, ""
        else:
            msg = messages.crd_missing(r.group, r.kind, r.example_namespace, r.example_name) \
                if late else (f"the {r.kind} CRD ({r.group}) comes from {providers} in the same "
                              f"wave ({r.wave}): whether it exists when {r.app} applies is a race")
            group, kind, version = r.group, r.kind, r.example_version
            name, ns = r.example_name, r.example_namespace
        rows.append({
            "app": r.app, "cluster": r.cluster, "group": group, "version": version, "kind": kind,
            "namespace": ns, "name": name, "message": msg,
            "detail": (f"needed by {plural(r.resources, 'resource')} in wave {r.wave}; provided "
                       f"only by {providers} (later wave)" if late else
                       f"needed by {plural(r.resources, 'resource')}; provider in the same wave "
                       f"{r.wave}: {providers}"),
            "related_apps": list(r.providers), "file": r.example_file, "line": r.example_line,
        })
    return pd.DataFrame(rows)
