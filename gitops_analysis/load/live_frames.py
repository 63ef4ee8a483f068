"""The frames of an Argo CD export: their columns (:data:`LIVE_FRAMES`) and :class:`LiveState`.

Field names and defaults follow Argo CD's Go types (``pkg/apis/application/v1alpha1/types.go``);
the rows are read by :mod:`gitops_analysis.load.live_export`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from gitops_analysis.core.schema import BOOL, INT, STR, Column, conform_columns

LIVE_FRAMES: dict[str, tuple[Column, ...]] = {
    "live_apps": (
        Column("app", STR, "the app: <namespace>/<name>"),
        Column("app_namespace", STR, "Application metadata.namespace"),
        Column("has_status", BOOL, "the export carries a non-empty status (false: Argo CD has not "
                                   "reconciled the app, or the export left the status out)"),
        Column("sync_status", STR, "status.sync.status: Synced, OutOfSync, Unknown ('' without)"),
        Column("health_status", STR, "status.health.status: Healthy, Suspended, Progressing, "
                                     "Missing, Degraded, Unknown ('' without)"),
        Column("revision", STR, "status.sync.revision, or the status.sync.revisions of a "
                                "multi-source app joined by ','"),
        Column("health_message", STR, "status.health.message (Argo CD >= 3.6 names the resources "
                                      "that make the app unhealthy)"),
        Column("reconciled_at", STR, "status.reconciledAt: when the controller last compared"),
        Column("source_type", STR, "status.sourceType (Helm, Kustomize, Directory, Plugin), or "
                                   "the status.sourceTypes of a multi-source app joined by ','"),
        Column("resource_health_source", STR, "status.resourceHealthSource: 'appTree' when "
                                              "resource health is kept in the resource tree "
                                              "(Argo CD 3.x default), '' when inline"),
        Column("images", STR, "status.summary.images joined by ','"),
        Column("external_urls", STR, "status.summary.externalURLs joined by ','"),
        Column("operation_in_flight", BOOL, "the Application's top-level operation is set: a "
                                            "sync is requested or running"),
        Column("operation_revision", STR, "that operation's sync revision (or revisions joined "
                                          "by ',')"),
        Column("history", INT, "entries of status.history (deployments)"),
        Column("file", STR, "the export file"),
        Column("line", INT, "line of the Application in the export"),
    ),
    "live_resources": (
        Column("app", STR, "the Application whose status.resources lists the resource"),
        Column("group", STR, "group ('' for the core group: omitempty)"),
        Column("version", STR, "version"),
        Column("kind", STR, "kind"),
        Column("namespace", STR, "namespace ('' for cluster-scoped kinds)"),
        Column("name", STR, "name"),
        Column("status", STR, "sync status: Synced, OutOfSync, Unknown ('' for hooks)"),
        Column("health", STR, "health.status ('' when not reported: kinds without a health "
                              "check, or health kept in the resource tree)"),
        Column("health_message", STR, "health.message"),
        Column("hook", BOOL, "hook"),
        Column("sync_wave", INT, "syncWave (0 when omitted)"),
        Column("requires_pruning", BOOL, "requiresPruning"),
    ),
    "conditions": (
        Column("app", STR, "Application"),
        Column("type", STR, "condition type"),
        Column("message", STR, "message, as Argo CD wrote it"),
        Column("last_transition_time", STR, "lastTransitionTime (RFC 3339, '' when absent)"),
        Column("known", BOOL, "the type is one Argo CD defines (DeletionError, InvalidSpecError, "
                              "ComparisonError, SyncError, UnknownError, SharedResourceWarning, "
                              "RepeatedResourceWarning, ExcludedResourceWarning, "
                              "OrphanedResourceWarning)"),
    ),
    "operations": (
        Column("app", STR, "Application"),
        Column("phase", STR, "operationState.phase: Running, Terminating, Failed, Error, "
                             "Succeeded"),
        Column("message", STR, "operationState.message (the last attempt, with Argo CD's "
                               "'(retried N times).' suffix)"),
        Column("started", STR, "operationState.startedAt"),
        Column("finished", STR, "operationState.finishedAt ('' while running)"),
        Column("retry_count", INT, "operationState.retryCount (0 when omitted)"),
        Column("revision", STR, "operationState.operation.sync.revision (or revisions joined by "
                                "','): what the operation was asked to sync"),
        Column("sync_revision", STR, "operationState.syncResult.revision (or revisions joined "
                                     "by ','): the commit the result is about"),
        Column("initiated_by", STR, "operation.initiatedBy: the username, or 'automated'"),
        Column("retrying", BOOL, "phase Running after a failed attempt, waiting to retry "
                                 "('. Retrying attempt #N at <time>.', "
                                 "controller/appcontroller.go)"),
    ),
    "history": (
        Column("app", STR, "Application"),
        Column("id", INT, "status.history[].id"),
        Column("revision", STR, "revision (or revisions joined by ',')"),
        Column("deployed_at", STR, "deployedAt"),
        Column("deploy_started_at", STR, "deployStartedAt ('' when absent)"),
        Column("initiated_by", STR, "initiatedBy: the username, or 'automated' ('' when absent)"),
    ),
    "sync_results": (
        Column("app", STR, "Application"),
        Column("group", STR, "group ('' for the core group)"),
        Column("version", STR, "version"),
        Column("kind", STR, "kind"),
        Column("namespace", STR, "namespace (a cluster-scoped resource carries the destination "
                                 "namespace here: gitops-engine sets it on every task)"),
        Column("name", STR, "name"),
        Column("status", STR, "Synced, SyncFailed, Pruned, PruneSkipped ('' for hooks)"),
        Column("message", STR, "message of the last attempt"),
        Column("hook_type", STR, "hookType ('' for non-hooks)"),
        Column("hook_phase", STR, "hookPhase: Running, Failed, Succeeded, ..."),
        Column("sync_phase", STR, "syncPhase: PreSync, Sync, PostSync, SyncFail"),
    ),
}


def conform_live(rows: list[dict[str, Any]], frame: str) -> pd.DataFrame:
    """Rows -> the live frame ``frame``, with its columns and dtypes."""
    cols = LIVE_FRAMES[frame]
    return conform_columns(pd.DataFrame(rows, columns=[c.name for c in cols]), cols)


def live_frames_markdown() -> str:
    """The columns of the live frames, in the form of ``docs/frames.md``."""
    lines = []
    for frame, cols in LIVE_FRAMES.items():
        lines += [f"## `{frame}`", "", "| column | dtype | meaning |", "|---|---|---|"]
        lines += [f"| `{c.name}` | {c.dtype} | {c.doc} |" for c in cols]
        lines.append("")
    return "\n".join(lines)


@dataclass
class LiveState:
    """The frames of one Argo CD export. Columns: :data:`LIVE_FRAMES`; ``apps`` and ``sources``
    have the dataset's columns (``docs/frames.md``)."""

    path: str
    apps: pd.DataFrame
    sources: pd.DataFrame
    live_apps: pd.DataFrame
    live_resources: pd.DataFrame
    conditions: pd.DataFrame
    operations: pd.DataFrame
    sync_results: pd.DataFrame
    history: pd.DataFrame = field(default_factory=lambda: conform_live([], "history"))
    warnings: list[str] = field(default_factory=list)
    applications: dict[str, dict] = field(default_factory=dict, repr=False)

    def app_names(self) -> list[str]:
        return list(self.live_apps["app"])
