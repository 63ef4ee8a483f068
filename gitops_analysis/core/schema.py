"""The columns of every frame, their dtypes and what they mean: the one place they are written.

``docs/frames.md`` is generated from this module (``gitops-analysis docs``) and a test keeps it
current. Frames are built as plain records and passed through :func:`conform`, which fixes the
column order and dtypes, so every producer yields the same shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

import pandas as pd

from gitops_analysis.core.kinds import SCOPES

SEVERITIES = ("error", "warning", "info")
SOURCE_TYPES = ("kustomize", "helm", "directory", "plugin", "unknown")
RENDER_STATUSES = ("ok", "missing", "external", "remote", "unsupported", "failed", "escaped",
                   "fetch-failed")


STR: Final = "string"
INT: Final = "int64"
BOOL: Final = "bool"
#: a column's dtype: one of these names, or a category with its values
Dtype: TypeAlias = Literal["string", "int64", "bool", "object", "category"] | pd.CategoricalDtype


@dataclass(frozen=True)
class Column:
    name: str
    dtype: Dtype
    doc: str


def _cat(values: Iterable[str]) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(list(values))

FRAMES: dict[str, tuple[Column, ...]] = {
    "apps": (
        Column("app", STR, "the app: <namespace>/<name>, its identity in every frame"),
        Column("name", STR, "Application metadata.name"),
        Column("app_namespace", STR, "Application metadata.namespace (the control-plane "
                                     "namespace when not set)"),
        Column("instance", STR, "Argo CD's instance name: <name> in the control-plane namespace, "
                                "else <namespace>_<name> (tracking, rendered/<instance>.yaml)"),
        Column("project", STR, "spec.project"),
        Column("wave", INT, "argocd.argoproj.io/sync-wave as Argo CD reads it (not an integer: "
                            "helm.sh/hook-weight, else 0; reported in warnings)"),
        Column("source_count", INT, "number of entries of spec.source / spec.sources"),
        Column("source_paths", "object", "tuple of each source's path (or chart), in spec order"),
        Column("source_type", _cat(SOURCE_TYPES + ("multi",)),
               "type of the single source, or 'multi' (see the sources frame)"),
        Column("destination_server", STR, "spec.destination.server"),
        Column("destination_name", STR, "spec.destination.name"),
        Column("destination_namespace", STR, "spec.destination.namespace ('' when empty)"),
        Column("cluster", STR, "destination cluster identity: server, else name ('in-cluster' is "
                               "https://kubernetes.default.svc)"),
        Column("sync_options", "object", "tuple of spec.syncPolicy.syncOptions strings"),
        Column("automated", BOOL, "spec.syncPolicy.automated is set"),
        Column("create_namespace", BOOL, "sync option CreateNamespace=true"),
        Column("skip_dry_run", BOOL, "sync option SkipDryRunOnMissingResource=true"),
        Column("fail_on_shared_resource", BOOL, "sync option FailOnSharedResource=true"),
        Column("ignore", STR, "gitops-analysis.io/ignore annotation: rules (ids or slugs, "
                              "comma-separated) not reported for this app"),
        Column("render_status", _cat(RENDER_STATUSES),
               "ok, missing (no rendered file), or what DATASET/render-status.json says"),
        Column("render_message", STR, "render-status.json message, or why the render is missing"),
        Column("comparison_error", STR, "when the render failed as Argo CD's repo server would "
                                        "fail: what its ComparisonError says after 'Failed to "
                                        "load target state: ' ('' otherwise)"),
        Column("appset", STR, "the ApplicationSet that generated it (<namespace>/<name>, from "
                              "render-status.json); '' for an Application written as such"),
        Column("appset_params", STR, "the generator's parameter set it was rendered from, as "
                                     "JSON with sorted keys; '' when not generated"),
        Column("rollout_step", INT, "the RollingSync step of its ApplicationSet that selects it "
                                    "(1-based: the order of the rollout); 0: none"),
        Column("rollout_steps", INT, "how many RollingSync steps its ApplicationSet has; 0: no "
                                     "RollingSync (with steps and rollout_step 0, no step "
                                     "selects the app: the ApplicationSet controller never "
                                     "syncs it)"),
        Column("resources", INT, "resource rows of this app"),
        Column("file", STR, "the Application's file, relative to the dataset"),
        Column("line", INT, "line of the Application document in that file"),
    ),
    "sources": (
        Column("app", STR, "the app (<namespace>/<name>)"),
        Column("index", INT, "position in spec.sources (0 for spec.source)"),
        Column("repo_url", STR, "repoURL"),
        Column("path", STR, "path ('' for a chart from a Helm repository)"),
        Column("target_revision", STR, "targetRevision"),
        Column("chart", STR, "chart (Helm repository sources)"),
        Column("ref", STR, "ref (a values-only source of a multi-source app)"),
        Column("type", _cat(SOURCE_TYPES), "kustomize|helm|directory|plugin from the spec or "
                                           "render-status.json; unknown without either"),
    ),
    "resources": (
        Column("app", STR, "the Application that deploys this resource"),
        Column("cluster", STR, "the app's destination cluster (part of the resource identity)"),
        Column("api_version", STR, "apiVersion as written"),
        Column("group", STR, "API group ('' for the core group)"),
        Column("version", STR, "API version"),
        Column("kind", "category", "kind"),
        Column("name", STR, "metadata.name"),
        Column("declared_namespace", STR, "metadata.namespace as written ('' when absent)"),
        Column("namespace", STR, "effective namespace, as Argo CD normalises it: '' for "
                                 "cluster-scoped kinds; declared, else the destination namespace, "
                                 "for namespaced and unknown kinds"),
        Column("scope", _cat(SCOPES), "Namespaced|Cluster|Unknown (built-in table, CRDs of any "
                                      "app, --cluster-api)"),
        Column("scope_from", _cat(("builtin", "crd", "cluster-api", "argocd", "unknown")),
               "where the scope came from"),
        Column("sync_wave", INT, "argocd.argoproj.io/sync-wave (else helm.sh/hook-weight, else 0)"),
        Column("hook", STR, "argocd.argoproj.io/hook, else helm.sh/hook ('' when not a hook)"),
        Column("is_hook", BOOL, "Argo CD treats it as a hook (split off before comparison)"),
        Column("sync_options", STR, "argocd.argoproj.io/sync-options annotation"),
        Column("skip_dry_run", BOOL, "SkipDryRunOnMissingResource=true on the resource or app"),
        Column("tracking_id", STR, "argocd.argoproj.io/tracking-id Argo CD would write "
                                   "(<app>:<group>/<kind>:<namespace>/<name>)"),
        Column("instance_label", STR, "app.kubernetes.io/instance label already in the manifest"),
        Column("ignore", STR, "gitops-analysis.io/ignore annotation: rules (ids or slugs, "
                              "comma-separated) not reported for this resource"),
        Column("origin", STR, "config.kubernetes.io/origin path when present, else the "
                              "'# Source:' part"),
        Column("source", STR, "the '# Source: <path>' part of a multi-source render"),
        Column("file", STR, "rendered file, relative to the dataset"),
        Column("doc_index", INT, "0-based index of the document among the file's non-empty "
                                 "documents"),
        Column("item", INT, "index inside a kind: List document (-1 when not a list item)"),
        Column("line", INT, "1-based line where the document starts"),
        Column("content_hash", STR, "digest of the document, independent of key order and "
                                    "formatting"),
    ),
    "crds": (
        Column("app", STR, "app that renders the CRD"),
        Column("cluster", STR, "that app's destination cluster"),
        Column("name", STR, "metadata.name (<plural>.<group>)"),
        Column("group", STR, "spec.group"),
        Column("kind", STR, "spec.names.kind"),
        Column("plural", STR, "spec.names.plural"),
        Column("scope", _cat(SCOPES), "spec.scope"),
        Column("versions", STR, "comma-separated served versions in spec order"),
        Column("content_hash", STR, "digest of the CRD document"),
        Column("file", STR, "rendered file"),
        Column("line", INT, "line of the CRD document"),
    ),
    "webhooks": (
        Column("app", STR, "app that renders the webhook configuration"),
        Column("cluster", STR, "that app's destination cluster"),
        Column("kind", STR, "ValidatingWebhookConfiguration or MutatingWebhookConfiguration"),
        Column("config", STR, "metadata.name of the configuration"),
        Column("webhook", STR, "webhooks[].name (one row per entry that calls a Service)"),
        Column("failure_policy", STR, "failurePolicy (Fail when absent, the v1 default)"),
        Column("service_namespace", STR, "clientConfig.service.namespace"),
        Column("service_name", STR, "clientConfig.service.name"),
        Column("service_path", STR, "clientConfig.service.path ('' when absent)"),
        Column("service_port", INT, "clientConfig.service.port (443 when absent)"),
        Column("timeout_seconds", INT, "timeoutSeconds (10 when absent)"),
        Column("object_selector", BOOL, "a non-empty objectSelector is set (not evaluated)"),
        Column("rules", "object", "tuple of (apiGroups, resources, operations) tuples, one per "
                                  "rules[] entry"),
        Column("file", STR, "rendered file"),
        Column("line", INT, "line of the configuration document"),
    ),
    "load_errors": (
        Column("part", _cat(("apps", "rendered")), "apps/ (Application files) or rendered/"),
        Column("app", STR, "the app the file belongs to ('' when unknown)"),
        Column("file", STR, "file, relative to the dataset"),
        Column("doc_index", INT, "document index in the file (-1: the whole file)"),
        Column("item", INT, "index inside a kind: List (-1 when not a list item)"),
        Column("line", INT, "line of the problem"),
        Column("reason", STR, "file:line: what is wrong: what to do"),
    ),
    "warnings": (
        Column("part", _cat(("apps", "rendered")), "apps/ or rendered/"),
        Column("app", STR, "the app concerned ('' when unknown)"),
        Column("file", STR, "file, relative to the dataset"),
        Column("doc_index", INT, "document index (-1: the whole file)"),
        Column("line", INT, "line"),
        Column("reason", STR, "file:line: what is worth saying: what to do"),
    ),
}


def empty(frame: str) -> pd.DataFrame:
    return conform(pd.DataFrame(columns=[c.name for c in FRAMES[frame]]), frame)


def conform(df: pd.DataFrame, frame: str) -> pd.DataFrame:
    """Order the columns of ``df`` as the schema says and give them their dtypes."""
    return conform_columns(df, FRAMES[frame])


def conform_columns(df: pd.DataFrame, cols: Sequence[Column]) -> pd.DataFrame:
    """``df`` with exactly the columns ``cols``, in their order and with their dtypes; a missing
    value is "", 0 or False by the column's dtype."""
    out: dict[str, pd.Series] = {}
    for c in cols:
        s = df[c.name] if c.name in df.columns else pd.Series([None] * len(df), index=df.index)
        if isinstance(c.dtype, pd.CategoricalDtype):
            s = s.astype(c.dtype)
        elif c.dtype == STR:
            s = s.fillna("").astype(STR)
        elif c.dtype == INT:
            s = s.fillna(0).astype(INT)
        elif c.dtype == BOOL:
            s = s.fillna(False).astype(BOOL)
        elif c.dtype == "object":
            s = s.astype(object)
        else:
            s = s.astype("category")
        out[c.name] = s
    return pd.DataFrame(out, index=df.index).reset_index(drop=True)


def frames_markdown() -> str:
    """The reference of every frame's columns, for docs/frames.md."""
    lines = ["# Frames", "", "Generated from `gitops_analysis/schema.py` by "
             "`gitops-analysis docs`; do not edit by hand.", ""]
    for frame, cols in FRAMES.items():
        lines += [f"## `{frame}`", "", "| column | dtype | meaning |", "|---|---|---|"]
        for c in cols:
            categorical = isinstance(c.dtype, pd.CategoricalDtype) or c.dtype == "category"
            dtype = "category" if categorical else str(c.dtype)
            if isinstance(c.dtype, pd.CategoricalDtype):
                dtype += " (" + ", ".join(map(str, c.dtype.categories)) + ")"
            lines.append(f"| `{c.name}` | {dtype} | {c.doc} |")
        lines.append("")
    return "\n".join(lines)
