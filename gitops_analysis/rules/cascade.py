"""The cascade: apps that fail because what they need comes only from failing apps."""

from __future__ import annotations

import pandas as pd

from gitops_analysis.analysis.dependencies import (
    failing_roots,
    failure_chain,
    need_label,
    propagate_failures,
)
from gitops_analysis.core import messages
from gitops_analysis.core.words import plural
from gitops_analysis.rules.registry import Rule, register


def check_blocked(ctx) -> pd.DataFrame | None:
    roots = failing_roots(ctx.findings)
    blocked = propagate_failures(ctx.needs, roots)
    rows = []
    for app, entries in blocked.items():
        for e in entries:
            need = e["need"]
            chain = failure_chain(app, roots, blocked, e["reason"])
            if need["need"] == "crd":
                msg = messages.crd_missing(need["group"], need["kind"], need["example_namespace"],
                                           need["example_name"])
                group, kind, version = need["group"], need["kind"], need["example_version"]
                name, ns = need["example_name"], need["example_namespace"]
            else:
                msg = messages.apply_failed(messages.namespace_not_found(need["namespace"]))
                group, kind, version, name, ns = "", "Namespace", "v1", need["namespace"], ""
            rows.append({
                "app": app, "cluster": need["cluster"], "group": group, "version": version,
                "kind": kind, "namespace": ns, "name": name, "message": msg,
                "detail": (f"{need_label(e['reason'])} comes only from "
                           f"{', '.join(need['providers'])}, which cannot sync; "
                           f"{plural(need['resources'], 'resource')} of {app} need it"),
                "related_apps": list(need["providers"]), "chain": chain,
                "file": need["example_file"], "line": need["example_line"],
            })
    return pd.DataFrame(rows) if rows else None


register(Rule(
    id="GA601", slug="blocked-by-dependency", severity="error", argocd_condition="SyncError",
    stage=2,
    summary="An app fails because a CRD or namespace it needs comes only from failing apps",
    what="""An app that needs a CRD or a namespace that only other apps supply, all of which fail
(they have an error finding, or are blocked themselves, transitively). The finding carries the
chain back to the root failure.""",
    why="""A sync failure does not stay in its app: the CRDs and namespaces it would have created
never arrive, and every app that needs them fails with messages that point away from the real
cause. This is how one `InvalidSpecError` in a wave-0 app becomes a missing-CRD error in a
wave-4 app.""",
    example="""`web-apps <- VirtualService CRD <- common-services: InvalidSpecError`""",
    remediation="""Fix the root of the chain (the last app named); the blocked apps recover on
their next sync.""",
    check=check_blocked))
