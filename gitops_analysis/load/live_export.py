"""What Argo CD reports, read from an export of its Applications: ``load_live(path) -> LiveState``.

Three export forms are read, as JSON or YAML:

- ``kubectl get applications.argoproj.io -A -o json|yaml``: a ``kind: List`` with ``items``;
- ``argocd app list -o json``: a JSON array of Applications (the CLI leaves out kind/apiVersion);
- ``argocd app get NAME -o json`` (or ``kubectl get application NAME -o json``): one object.

Every Application becomes an ``apps`` row (its ``spec`` read by
:func:`gitops_analysis.load.applications.parse_application`, as the dataset loader does) and a
``live_apps`` row; its ``status`` becomes rows of ``live_resources``, ``conditions``,
``operations`` and ``sync_results``. Field names and defaults follow Argo CD's Go types
(``pkg/apis/application/v1alpha1/types.go``): a field left out (``omitempty``) takes Go's zero
value, so an omitted core group is ``""``, an omitted ``syncWave`` is ``0`` and an omitted
``hook``/``requiresPruning`` is false.

Nothing is dropped silently: an Application without ``status`` is a ``live_apps`` row with
``has_status=False`` (and a warning); a condition type Argo CD does not define is a
``conditions`` row with ``known=False`` (and a warning). A file that cannot be read as an export
(truncated JSON, a field of the wrong type, an item that is not an Application) raises
:class:`~gitops_analysis.core.errors.InputError` with ``file:line: what is wrong: what to do``.
The file is read by the one hardened reader
(:func:`~gitops_analysis.load.json_reader.read_json_or_yaml`), with its limits (size, depth,
YAML tags and aliases): nothing in the input is executed, and each Application keeps the line
it starts on. The frames are described in :mod:`gitops_analysis.load.live_frames`;
``import-live`` is :mod:`gitops_analysis.live.import_live`.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from gitops_analysis.core import schema
from gitops_analysis.core.errors import InputError
from gitops_analysis.core.names import valid_app_name
from gitops_analysis.load.applications import AppRecord, parse_application
from gitops_analysis.load.json_reader import read_json_or_yaml
from gitops_analysis.load.live_frames import (
    LIVE_FRAMES,
    LiveState,
    conform_live,
    live_frames_markdown,
)

__all__ = ["ARGOCD_CONDITION_TYPES", "EXPORT_SUFFIXES", "LIVE_FRAMES", "LiveState", "load_live",
           "load_live_dir", "live_frames_markdown"]

EXPORT_SUFFIXES = (".json", ".yaml", ".yml")
MAX_EXPORT_BYTES = 512 << 20  # an Application is at most ~1.5 MiB in etcd; thousands fit

# pkg/apis/application/v1alpha1/types.go, the ApplicationCondition* constants
ARGOCD_CONDITION_TYPES = (
    "DeletionError", "InvalidSpecError", "ComparisonError", "SyncError", "UnknownError",
    "SharedResourceWarning", "RepeatedResourceWarning", "ExcludedResourceWarning",
    "OrphanedResourceWarning",
)

# controller/appcontroller.go, between two attempts of a failed sync: the failed attempt's
# message, then ". Retrying attempt #<n> at <time.Kitchen>."
RETRYING = re.compile(r"\. Retrying attempt #\d+ at [^.]*\.$")

TODO_EXPORT = ("export it again, unedited: kubectl get applications.argoproj.io -A -o json > "
               "FILE (or argocd app list -o json)")


# ---------------------------------------------------------------------------- reading the file


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _show(value: Any, limit: int = 40) -> str:
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _read_export(path: Path, display: str, warnings: list[str]) -> list[tuple[int, int, Any]]:
    """The Application objects of an export: (position, line, object), in file order."""
    try:
        if path.is_dir():
            raise InputError("is a folder, not an export file", file=display, todo=TODO_EXPORT)
        if not path.is_file():
            raise InputError("not a regular file", file=display, todo=TODO_EXPORT)
        if path.stat().st_size > MAX_EXPORT_BYTES:
            raise InputError(f"larger than {MAX_EXPORT_BYTES >> 20} MiB: refused", file=display,
                             todo="export fewer Applications at a time (-n NAMESPACE, -l ...)")
        # an export is one List: the whole file may be one document
        docs, file_warnings, problem = read_json_or_yaml(
            path, display, max_bytes=MAX_EXPORT_BYTES, item_lines=True, json_todo=TODO_EXPORT)
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc})", file=display,
                         todo=TODO_EXPORT) from exc
    if problem:
        raise problem.input_error()
    warnings.extend(w.message for w in file_warnings)
    if not docs:
        raise InputError("empty file (no document in it)", file=display, todo=TODO_EXPORT)
    out: list[tuple[int, int, Any]] = []
    for doc in docs:
        if doc.error:
            raise doc.error.input_error()
        warnings.extend(w.message for w in doc.warnings)
        items = _items_of(doc.data, display, doc.line)
        lines = doc.item_lines if _is_list(doc.data) else None
        if lines is None or len(lines) != len(items):
            lines = [doc.line] * len(items)
        for line, item in zip(lines, items):
            out.append((len(out), line, item))
    return out


def _is_list(data: Any) -> bool:
    """An array of Applications, or a List with ``items`` (an Application has a spec)."""
    return isinstance(data, list) or isinstance(data, dict) and "items" in data and \
        "spec" not in data


def _items_of(data: Any, display: str, line: int) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        kind = data.get("kind")
        if "items" in data and "spec" not in data:
            items = data["items"]
            if items is None:
                return []
            if not isinstance(items, list):
                raise InputError(f"'items' of the {kind or 'List'} is {_json_type(items)}, not a "
                                 "list", file=display, line=line, todo=TODO_EXPORT)
            return items
        return [data]
    raise InputError(f"the export is {_json_type(data)}: expected a List of Applications, an "
                     "array of Applications or one Application", file=display, line=line,
                     todo=TODO_EXPORT)


# ------------------------------------------------------------------------ reading the objects


class _Fields:
    """Typed reads of one Application's fields; a wrong type is an InputError at its line."""

    def __init__(self, display: str, line: int, app: str) -> None:
        self.display, self.line, self.app = display, line, app

    def fail(self, path: str, value: Any, expected: str) -> None:
        raise InputError(f"Application {self.app}: {path} is {_json_type(value)} "
                         f"({_show(value)}), not {expected}", file=self.display, line=self.line,
                         todo=TODO_EXPORT)

    def mapping(self, obj: dict, key: str, path: str) -> dict:
        value = obj.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(f"{path}.{key}" if path else key, value, "an object")
        return value

    def items(self, obj: dict, key: str, path: str) -> list[dict]:
        value = obj.get(key)
        where = f"{path}.{key}" if path else key
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(where, value, "a list")
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                self.fail(f"{where}[{i}]", item, "an object")
        return value

    def string(self, obj: dict, key: str, path: str) -> str:
        value = obj.get(key)
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        if isinstance(value, _dt.datetime):  # an unquoted YAML timestamp
            if value.tzinfo is not None:
                value = value.astimezone(_dt.UTC)
            return value.strftime("%Y-%m-%dT%H:%M:%SZ")
        if isinstance(value, _dt.date):
            return value.isoformat()
        self.fail(f"{path}.{key}", value, "a string")
        return ""

    def strings(self, obj: dict, key: str, path: str) -> list[str]:
        value = obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(f"{path}.{key}", value, "a list of strings")
        return value

    def integer(self, obj: dict, key: str, path: str) -> int:
        value = obj.get(key)
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"{path}.{key}", value, "an integer")
        if not -(2 ** 63) <= value < 2 ** 63:
            self.fail(f"{path}.{key}", value, "a 64-bit integer")
        return value

    def boolean(self, obj: dict, key: str, path: str) -> bool:
        value = obj.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.fail(f"{path}.{key}", value, "true or false")
        return value




def _application(item: Any, index: int, line: int, display: str) -> tuple[AppRecord, dict]:
    where = f"{display}:{line}"
    if not isinstance(item, dict):
        raise InputError(f"item {index} of the export is {_json_type(item)}, not an Application "
                         "object", file=display, line=line, todo=TODO_EXPORT)
    kind, api = item.get("kind"), item.get("apiVersion")
    if kind not in (None, "", "Application") or \
            (api not in (None, "") and not (isinstance(api, str) and
                                            api.startswith("argoproj.io/"))):
        raise InputError(f"item {index} of the export is a {_show(kind)} ({_show(api)}), not an "
                         "argoproj.io Application", file=display, line=line,
                         todo="export Applications only: kubectl get applications.argoproj.io "
                              "-A -o json")
    try:
        rec = parse_application(item, where, display, line)
    except Exception as exc:
        raise InputError(f"Application that cannot be read ({type(exc).__name__}: "
                         f"{_show(str(exc), 120)})", file=display, line=line,
                         todo=TODO_EXPORT) from None
    if isinstance(rec, str):
        raise InputError(rec)
    name = rec.row["name"]
    if not valid_app_name(name):
        raise InputError(f"Application name {_show(name)} is not a Kubernetes object name",
                         file=display, line=line, todo=TODO_EXPORT)
    return rec, item


def _status_rows(item: dict, app: str, line: int, display: str, out: dict[str, list],
                 warnings: list[str]) -> dict:
    f = _Fields(display, line, app)
    status = item.get("status")
    if status is not None and not isinstance(status, dict):
        f.fail("status", status, "an object")
    status = status or {}
    sync = f.mapping(status, "sync", "status")
    health = f.mapping(status, "health", "status")
    revisions = f.strings(sync, "revisions", "status.sync")
    summary = f.mapping(status, "summary", "status")
    requested = f.mapping(item, "operation", "")
    req_sync = f.mapping(requested, "sync", "operation")
    row = {"app": app, "has_status": bool(status),
           "sync_status": f.string(sync, "status", "status.sync"),
           "health_status": f.string(health, "status", "status.health"),
           "revision": f.string(sync, "revision", "status.sync") or ",".join(revisions),
           "health_message": f.string(health, "message", "status.health"),
           "reconciled_at": f.string(status, "reconciledAt", "status"),
           "source_type": f.string(status, "sourceType", "status") or
           ",".join(f.strings(status, "sourceTypes", "status")),
           "resource_health_source": f.string(status, "resourceHealthSource", "status"),
           "images": ",".join(f.strings(summary, "images", "status.summary")),
           "external_urls": ",".join(f.strings(summary, "externalURLs", "status.summary")),
           "operation_in_flight": "operation" in item and item["operation"] is not None,
           "operation_revision": _revision(f, req_sync, "operation.sync"),
           "history": len(f.items(status, "history", "status")),
           "file": display, "line": line}
    if not status:
        warnings.append(f"{display}:{line}: Application {app} has no status (Argo CD has not "
                        "reconciled it, or the export left it out): kept with has_status=False")
    for i, r in enumerate(f.items(status, "resources", "status")):
        p = f"status.resources[{i}]"
        h = f.mapping(r, "health", p)
        out["live_resources"].append({
            "app": app, "group": f.string(r, "group", p), "version": f.string(r, "version", p),
            "kind": f.string(r, "kind", p), "namespace": f.string(r, "namespace", p),
            "name": f.string(r, "name", p), "status": f.string(r, "status", p),
            "health": f.string(h, "status", p + ".health"),
            "health_message": f.string(h, "message", p + ".health"),
            "hook": f.boolean(r, "hook", p), "sync_wave": f.integer(r, "syncWave", p),
            "requires_pruning": f.boolean(r, "requiresPruning", p)})
    for i, c in enumerate(f.items(status, "conditions", "status")):
        p = f"status.conditions[{i}]"
        ctype = f.string(c, "type", p)
        known = ctype in ARGOCD_CONDITION_TYPES
        if not known:
            warnings.append(f"{display}:{line}: Application {app}: condition type "
                            f"{_show(ctype)} is not one Argo CD defines: kept with known=False")
        out["conditions"].append({
            "app": app, "type": ctype, "message": f.string(c, "message", p),
            "last_transition_time": f.string(c, "lastTransitionTime", p), "known": known})
    for i, h in enumerate(f.items(status, "history", "status")):
        p = f"status.history[{i}]"
        out["history"].append({
            "app": app, "id": f.integer(h, "id", p), "revision": _revision(f, h, p),
            "deployed_at": f.string(h, "deployedAt", p),
            "deploy_started_at": f.string(h, "deployStartedAt", p),
            "initiated_by": _initiator(f, h, p)})
    op = f.mapping(status, "operationState", "status")
    if op:
        p = "status.operationState"
        operation = f.mapping(op, "operation", p)
        result = f.mapping(op, "syncResult", p)
        phase, message = f.string(op, "phase", p), f.string(op, "message", p)
        out["operations"].append({
            "app": app, "phase": phase, "message": message,
            "started": f.string(op, "startedAt", p), "finished": f.string(op, "finishedAt", p),
            "retry_count": f.integer(op, "retryCount", p),
            "revision": _revision(f, f.mapping(operation, "sync", p + ".operation"),
                                  p + ".operation.sync"),
            "sync_revision": _revision(f, result, p + ".syncResult"),
            "initiated_by": _initiator(f, operation, p + ".operation"),
            "retrying": phase == "Running" and RETRYING.search(message) is not None})
        for i, r in enumerate(f.items(result, "resources", p + ".syncResult")):
            q = f"{p}.syncResult.resources[{i}]"
            out["sync_results"].append({
                "app": app, "group": f.string(r, "group", q), "version": f.string(r, "version", q),
                "kind": f.string(r, "kind", q), "namespace": f.string(r, "namespace", q),
                "name": f.string(r, "name", q), "status": f.string(r, "status", q),
                "message": f.string(r, "message", q), "hook_type": f.string(r, "hookType", q),
                "hook_phase": f.string(r, "hookPhase", q),
                "sync_phase": f.string(r, "syncPhase", q)})
    return row


def _revision(f: _Fields, obj: dict, path: str) -> str:
    """``revision``, else a multi-source object's ``revisions`` joined by ','."""
    return f.string(obj, "revision", path) or ",".join(f.strings(obj, "revisions", path))


def _initiator(f: _Fields, obj: dict, path: str) -> str:
    """``initiatedBy``: the username, or 'automated' (OperationInitiator)."""
    who = f.mapping(obj, "initiatedBy", path)
    return f.string(who, "username", path + ".initiatedBy") or \
        ("automated" if f.boolean(who, "automated", path + ".initiatedBy") else "")


def load_live(path: str | Path, display: str | None = None) -> LiveState:
    """Read an Argo CD export (see the module doc) into a :class:`LiveState`."""
    path = Path(path)
    display = display or str(path)
    if not path.exists():
        raise InputError("no such file", file=display, todo=TODO_EXPORT)
    warnings: list[str] = []
    objects = _read_export(path, display, warnings)
    keys = ("live_resources", "conditions", "operations", "sync_results", "history")
    records: dict[str, tuple[AppRecord, dict, dict[str, Any], dict[str, list[dict]]]] = {}
    for index, line, item in objects:
        rec, raw = _application(item, index, line, display)
        name = rec.row["app"]  # <namespace>/<name>
        if name in records:
            first = records[name][0].row
            raise InputError(f"a second Application {name} (first at {display}:"
                             f"{first['line']})", file=display, line=line,
                             todo="export each Application once")
        status_rows: dict[str, list[dict]] = {k: [] for k in keys}
        live_row = _status_rows(raw, name, line, display, status_rows, warnings)
        live_row["app_namespace"] = rec.row["app_namespace"]
        warnings.extend(rec.warnings)
        records[name] = (rec, raw, live_row, status_rows)
    names = sorted(records)
    app_rows: list[dict] = []
    source_rows: list[dict] = []
    live_rows: list[dict] = []
    frames: dict[str, list[dict]] = {k: [] for k in keys}
    for name in names:
        rec, _raw, live_row, status_rows = records[name]
        row = dict(rec.row)
        row.update(render_status="missing", resources=0,
                   render_message=f"{row['file']}:{row['line']}: read from a live export: no "
                                  "rendered manifests; render the app (gitops-analysis render)")
        app_rows.append(row)
        source_rows.extend(rec.sources)
        live_rows.append(live_row)
        for k in frames:
            frames[k].extend(status_rows[k])
    apps = schema.conform(pd.DataFrame(app_rows), "apps") if app_rows else schema.empty("apps")
    sources = schema.conform(pd.DataFrame(source_rows), "sources") if source_rows \
        else schema.empty("sources")
    key = ["app", "group", "kind", "namespace", "name"]
    resources = conform_live(frames["live_resources"], "live_resources")
    resources = resources.sort_values(key, kind="stable").reset_index(drop=True)
    conditions = conform_live(frames["conditions"], "conditions")
    conditions = conditions.sort_values(["app", "type", "message"], kind="stable") \
        .reset_index(drop=True)
    return LiveState(
        path=display, apps=apps, sources=sources, live_apps=conform_live(live_rows, "live_apps"),
        live_resources=resources, conditions=conditions,
        operations=conform_live(frames["operations"], "operations"),
        # sync results keep the export's order within an app: it is the order Argo CD ran them
        sync_results=conform_live(frames["sync_results"], "sync_results"),
        history=conform_live(frames["history"], "history"),
        warnings=warnings, applications={n: records[n][1] for n in names})


def load_live_dir(dataset_root: str | Path) -> LiveState | None:
    """The export kept under ``DATASET/live/`` (see ``import-live``), or None without one."""
    folder = Path(dataset_root) / "live"
    if not folder.is_dir():
        return None
    files = sorted(p for p in folder.iterdir()
                   if p.suffix.lower() in EXPORT_SUFFIXES and not p.name.startswith(".")
                   and p.is_file())
    if not files:
        return None
    if len(files) > 1:
        raise InputError(f"{len(files)} exports in live/ ({', '.join(p.name for p in files)})",
                         file=str(folder), todo="keep one: import-live --force replaces them")
    return load_live(files[0], display=f"live/{files[0].name}")
