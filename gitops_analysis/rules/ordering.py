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
        when, later = _when(r)
        if need == "namespace":
            msg = messages.apply_failed(messages.namespace_not_found(r.namespace)) if late else (
                f"namespace {r.namespace} is created by {providers} {when}: whether it exists "
                f"when {r.app} applies is a race")
            group, kind, version = "", "Namespace", "v1"
            name, ns = r.namespace, ""
        else:
            msg = messages.crd_missing(r.group, r.kind, r.example_namespace, r.example_name) \
                if late else (f"the {r.kind} CRD ({r.group}) comes from {providers} {when}: "
                              f"whether it exists when {r.app} applies is a race")
            group, kind, version = r.group, r.kind, r.example_version
            name, ns = r.example_name, r.example_namespace
        rows.append({
            "app": r.app, "cluster": r.cluster, "group": group, "version": version, "kind": kind,
            "namespace": ns, "name": name, "message": msg,
            "detail": (f"needed by {plural(r.resources, 'resource')} {_at(r)}; provided only by "
                       f"{providers} ({later})" if late else
                       f"needed by {plural(r.resources, 'resource')}; provider {when}: "
                       f"{providers}"),
            "related_apps": list(r.providers), "file": r.example_file, "line": r.example_line,
        })
    return pd.DataFrame(rows)


def _when(r) -> tuple[str, str]:
    """How the provider is ordered with the app, in words: (same, later)."""
    by = getattr(r, "ordered_by", "wave") or "wave"
    kind, _, appset = by.partition(":")
    if kind == "appset":
        return (f"of the same ApplicationSet {appset}, which syncs its apps with no order (it "
                "never reads sync-wave)", "")
    if kind == "steps":
        return (f"in the same RollingSync step of ApplicationSet {appset}",
                "a later RollingSync step")
    return f"in the same wave ({r.wave})", "later wave"


def _at(r) -> str:
    return "of its RollingSync step" if str(getattr(r, "ordered_by", "")).startswith("steps:") \
        else f"in wave {r.wave}"
