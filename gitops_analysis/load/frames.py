"""Frames built from what the loader read: apps, sources, resources, CRDs, webhooks.

Kept apart from the reading so that pandas is imported only once the reading has started.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pandas as pd

from gitops_analysis.core import schema
from gitops_analysis.core.kinds import ARGOCD_KINDS, BUILTIN_SCOPES, CLUSTER, UNKNOWN
from gitops_analysis.load.applications import AppRecord


def apps_frames(records: list[AppRecord], rendered: set[str], status: dict[str, Any],
                resource_apps: list[str], appsets: dict[str, Any] | None = None
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The apps and sources frames; ``resource_apps``: the app of each resource record;
    ``status`` and ``appsets`` are render-status.json's."""
    counts = Counter(resource_apps)
    app_rows = []
    source_rows = []
    for rec in records:
        row = dict(rec.row)
        name = row["app"]
        # render-status.json names apps by <namespace>/<name>; older ones by instance name
        entry = status.get(name, status.get(row["instance"]))
        st: dict[str, Any] = entry if isinstance(entry, dict) else {}
        if st.get("status") == "ok" and name not in rendered:
            row["render_status"] = "missing"  # said to be rendered, but nothing is there
            row["render_message"] = (f"{row['file']}:{row['line']}: render-status.json says it "
                                     f"rendered, but there is no rendered/{row['instance']}.yaml: "
                                     "render the app again (gitops-analysis render)")
        elif st.get("status") in schema.RENDER_STATUSES:
            row["render_status"] = st["status"]
            row["render_message"] = str(st.get("message", ""))
            failure = st.get("failure")
            if st["status"] == "failed" and isinstance(failure, dict):
                row["comparison_error"] = str(failure.get("message", ""))
        elif name in rendered:
            row["render_status"], row["render_message"] = "ok", ""
        else:
            row["render_status"] = "missing"
            stem = row["instance"]
            row["render_message"] = (f"{row['file']}:{row['line']}: no rendered/{stem}.yaml or "
                                     f"rendered/{stem}/: render the app (gitops-analysis render)")
        row["resources"] = counts.get(name, 0)
        _appset_columns(row, st, appsets or {})
        app_rows.append(row)
        found = st.get("source_types")
        types: list[Any] = found if isinstance(found, list) else []
        if row.get("source_type") == "unknown" and len(types) == 1 and \
                types[0] in schema.SOURCE_TYPES:
            row["source_type"] = types[0]  # what the render step found in the repository
        for s in rec.sources:
            s = dict(s)
            if s["type"] == "unknown" and s["index"] < len(types) and \
                    types[s["index"]] in schema.SOURCE_TYPES:
                s["type"] = types[s["index"]]
            source_rows.append(s)
    apps = schema.conform(pd.DataFrame(app_rows), "apps") if app_rows else schema.empty("apps")
    sources = schema.conform(pd.DataFrame(source_rows), "sources") if source_rows \
        else schema.empty("sources")
    apps = apps.sort_values("app", kind="stable").reset_index(drop=True)
    return apps, sources


def _appset_columns(row: dict, st: dict[str, Any], appsets: dict[str, Any]) -> None:
    """The ApplicationSet that generated the app, as render-status.json records it, and its
    RollingSync: the step that selects the app, and how many steps there are."""
    appset = st.get("appset")
    if not isinstance(appset, str) or not appset:
        return
    row["appset"] = appset
    params = st.get("appset_params")
    row["appset_params"] = json.dumps(params if isinstance(params, dict) else {},
                                      sort_keys=True, ensure_ascii=False)
    step = st.get("rollout_step")
    row["rollout_step"] = step if isinstance(step, int) and not isinstance(step, bool) and \
        step > 0 else 0
    entry = appsets.get(appset)
    steps = entry.get("rolling_steps") if isinstance(entry, dict) else None
    row["rollout_steps"] = len(steps) if isinstance(steps, list) else 0


def crds_frame(crds: list[dict], apps_by_name: dict) -> pd.DataFrame:
    if not crds:
        return schema.empty("crds")
    df = pd.DataFrame(crds)
    df["cluster"] = df["app"].map(lambda a: apps_by_name[a]["cluster"])
    return schema.conform(df, "crds").sort_values(["group", "kind", "app"], kind="stable") \
        .reset_index(drop=True)


def webhooks_frame(webhooks: list[dict], apps_by_name: dict) -> pd.DataFrame:
    if not webhooks:
        return schema.empty("webhooks")
    df = pd.DataFrame(webhooks)
    df["cluster"] = df["app"].map(lambda a: apps_by_name[a]["cluster"])
    return schema.conform(df, "webhooks")


def scope_table(crds: pd.DataFrame, cluster_scopes: dict) -> pd.DataFrame:
    """(group, kind) -> scope and where it came from; later sources win over earlier ones."""
    entries: dict[tuple[str, str], tuple[str, str]] = {}
    for key, scope in BUILTIN_SCOPES.items():
        entries[key] = (scope, "builtin")
    for key, scope in ARGOCD_KINDS.items():
        entries[key] = (scope, "argocd")
    for g, k, s in crds[["group", "kind", "scope"]].itertuples(index=False):
        if s != UNKNOWN and (g, k) not in BUILTIN_SCOPES:
            entries[(g, k)] = (s, "crd")
    for key, scope in cluster_scopes.items():
        entries[key] = (scope, "cluster-api")
    return pd.DataFrame([(g, k, s, f) for (g, k), (s, f) in sorted(entries.items())],
                        columns=["group", "kind", "scope", "scope_from"])


def resources_frame(rows: dict[str, list], apps: pd.DataFrame, crds: pd.DataFrame,
                    cluster_scopes: dict) -> pd.DataFrame:
    """The resources frame from the records' columns (see ``rendered.columns``): the app's
    columns and the kind's scope looked up once per app and kind, the derived columns built
    row by row in plain Python (cheaper than pandas string operations on a million rows)."""
    if not rows or not rows.get("app"):
        return schema.empty("resources")
    df = dict(rows)
    per_app = {a: (c, d, i, bool(s)) for a, c, d, i, s in zip(
        apps["app"], apps["cluster"], apps["destination_namespace"], apps["instance"],
        apps["skip_dry_run"])}
    scopes = {(g, k): (s, f) for g, k, s, f in scope_table(crds, cluster_scopes)
              .itertuples(index=False)}
    unknown = (UNKNOWN, "unknown")
    app_of = [per_app[a] for a in rows["app"]]
    scope_of = [scopes.get(gk, unknown) for gk in zip(rows["group"], rows["kind"])]
    df["cluster"] = [a[0] for a in app_of]
    df["instance"] = [a[2] for a in app_of]
    df["scope"] = [s[0] for s in scope_of]
    df["scope_from"] = [s[1] for s in scope_of]
    # controller/state.go NormalizeTargetObjects: cluster-scoped -> no namespace; namespaced
    # and unknown kinds (IsNamespacedOrUnknown) -> the destination namespace when empty
    df["namespace"] = namespaces = [
        "" if s[0] == CLUSTER else (declared if declared != "" else a[1])
        for declared, a, s in zip(rows["declared_namespace"], app_of, scope_of)]
    df["skip_dry_run"] = [a[3] or bool(own) for a, own in
                          zip(app_of, rows["resource_skip_dry_run"])]
    # util/argo/resource_tracking.go: an empty namespace (cluster-scoped) takes the app's
    # destination namespace; the app part is Application.InstanceName()
    df["tracking_id"] = [f"{a[2]}:{g}/{k}:{ns if ns != '' else a[1]}/{n}" for a, g, k, ns, n in
                         zip(app_of, rows["group"], rows["kind"], namespaces, rows["name"])]
    df["origin"] = [o if o != "" else s for o, s in zip(rows["origin"], rows["source"])]
    frame = schema.conform(pd.DataFrame(df), "resources")
    return frame.sort_values(["app", "file", "doc_index", "item"], kind="stable") \
        .reset_index(drop=True)


def rows_frame(rows: list[dict], frame: str) -> pd.DataFrame:
    """A frame of ``schema`` name ``frame`` from plain rows (empty, with its columns, if none)."""
    return schema.conform(pd.DataFrame(rows), frame) if rows else schema.empty(frame)
