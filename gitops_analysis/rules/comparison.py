"""Render failures that Argo CD's repo server hits too: the app's ComparisonError."""

from __future__ import annotations

import pandas as pd

from gitops_analysis.core import messages
from gitops_analysis.rules.registry import Rule, register


def check_comparison_error(ctx) -> pd.DataFrame | None:
    apps = ctx.dataset.apps
    hit = apps[apps["comparison_error"] != ""]
    if hit.empty:
        return None
    return pd.DataFrame({
        "app": hit["app"], "cluster": hit["cluster"], "group": "argoproj.io",
        "version": "v1alpha1", "kind": "Application", "namespace": hit["app_namespace"],
        "name": hit["name"],
        "message": [messages.comparison_error(m) for m in hit["comparison_error"]],
        "detail": hit["render_message"],
        "file": hit["file"], "line": hit["line"],
    })


register(Rule(
    id="GA001", slug="comparison-error", severity="error", argocd_condition="ComparisonError",
    summary="The app's manifests cannot be generated: a missing path, a kustomize or Helm error, "
            "a manifest that does not parse",
    what="""An app whose render failed the way Argo CD's repo server fails: the source path does
not exist or is not a folder, `kustomize build` or `helm template` exits with an error, or a
plain-directory manifest does not parse. Failures of our own (a remote base not fetched, no
renderer, a plugin) are not findings: they are coverage gaps, listed as not analysed.""",
    why="""The controller cannot load the target state: the app shows `ComparisonError`
(`controller/state.go`, "Failed to load target state: failed to generate manifest for source %d
of %d: ..."), its sync status is Unknown, and nothing of it is applied: whatever it would have
created (CRDs, namespaces) is missing for the apps that need it. After three failures in a row
the repo server answers from its cache for an hour (`Manifest generation error (cached)`).""",
    example="""`Failed to load target state: failed to generate manifest for source 1 of 1: rpc
error: code = Unknown desc = apps/web: app path does not exist`""",
    remediation="""Fix what the message names: point `spec.source.path` at a folder that exists,
make `kustomize build` or `helm template` pass locally, fix the manifest that does not parse.
The render log (`render-status.json`) has the renderer's full message.""",
    check=check_comparison_error))
