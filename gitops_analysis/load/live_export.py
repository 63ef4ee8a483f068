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
JSON is read with the ``json`` module and YAML with PyYAML's safe loader (through
:mod:`gitops_analysis.load.yaml_reader`): nothing in the input is executed.

The commands ``import-live`` and ``reconcile`` are added to the CLI by :func:`add_commands`.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gitops_analysis.core.errors import InputError, UsageError
from gitops_analysis.core.schema import BOOL, INT, STR, Column
from gitops_analysis.load.applications import AppRecord, parse_application

EXPORT_SUFFIXES = (".json", ".yaml", ".yml")
MAX_EXPORT_BYTES = 512 << 20  # an Application is at most ~1.5 MiB in etcd; thousands fit

# pkg/apis/application/v1alpha1/types.go, the ApplicationCondition* constants
ARGOCD_CONDITION_TYPES = (
    "DeletionError", "InvalidSpecError", "ComparisonError", "SyncError", "UnknownError",
    "SharedResourceWarning", "RepeatedResourceWarning", "ExcludedResourceWarning",
    "OrphanedResourceWarning",
)

TODO_EXPORT = ("export it again, unedited: kubectl get applications.argoproj.io -A -o json > "
               "FILE (or argocd app list -o json)")

LIVE_FRAMES: dict[str, tuple[Column, ...]] = {
    "live_apps": (
        Column("app", STR, "Application metadata.name"),
        Column("app_namespace", STR, "Application metadata.namespace"),
        Column("has_status", BOOL, "the export carries a non-empty status (false: Argo CD has not "
                                   "reconciled the app, or the export left the status out)"),
        Column("sync_status", STR, "status.sync.status: Synced, OutOfSync, Unknown ('' without)"),
        Column("health_status", STR, "status.health.status: Healthy, Suspended, Progressing, "
                                     "Missing, Degraded, Unknown ('' without)"),
        Column("revision", STR, "status.sync.revision, or the status.sync.revisions of a "
                                "multi-source app joined by ','"),
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


def _conform(rows: list[dict], frame: str) -> pd.DataFrame:
    cols = LIVE_FRAMES[frame]
    df = pd.DataFrame(rows, columns=[c.name for c in cols])
    out = {}
    for c in cols:
        s = df[c.name]
        if c.dtype == STR:
            s = s.fillna("").astype(STR)
        elif c.dtype == INT:
            s = s.fillna(0).astype(INT)
        else:
            s = s.fillna(False).astype(BOOL)
        out[c.name] = s
    return pd.DataFrame(out).reset_index(drop=True)


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
    warnings: list[str] = field(default_factory=list)
    applications: dict[str, dict] = field(default_factory=dict, repr=False)

    def app_names(self) -> list[str]:
        return list(self.live_apps["app"])


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


class _Lines:
    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def at(self, offset: int) -> int:
        return bisect.bisect_right(self._starts, offset)


def _skip_ws(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] in " \t\r\n":
        i += 1
    return i


def _json_array_offsets(text: str, i: int, dec: json.JSONDecoder) -> list[int]:
    """Offsets of the elements of the JSON array that starts at ``text[i] == '['``."""
    offsets: list[int] = []
    i = _skip_ws(text, i + 1)
    if text[i] == "]":
        return offsets
    while True:
        offsets.append(i)
        _, i = dec.raw_decode(text, i)
        i = _skip_ws(text, i)
        if text[i] == ",":
            i = _skip_ws(text, i + 1)
            continue
        return offsets


def _json_items(text: str, data: Any) -> list[int]:
    """Offsets of the Applications of an already validated JSON text (a List, array or object)."""
    dec = json.JSONDecoder()
    i = _skip_ws(text, 0)
    if isinstance(data, list):
        return _json_array_offsets(text, i, dec)
    if isinstance(data, dict) and isinstance(data.get("items"), list) and "spec" not in data:
        offsets: list[int] = []
        i = _skip_ws(text, i + 1)
        while text[i] != "}":
            key, i = dec.raw_decode(text, i)
            i = _skip_ws(text, _skip_ws(text, i) + 1)  # past ':'
            if key == "items" and text[i] == "[":
                offsets = _json_array_offsets(text, i, dec)  # the last 'items' wins, as in json
            _, i = dec.raw_decode(text, i)
            i = _skip_ws(text, i)
            if text[i] == ",":
                i = _skip_ws(text, i + 1)
        return offsets
    return [i]


def _yaml_item_lines(text: str, first_line: int, count: int) -> list[int] | None:
    """Lines of the items of a YAML List as kubectl prints it (``items:`` then ``- ...``)."""
    lines = text.split("\n")
    out: list[int] = []
    indent = None
    in_items = False
    for number, line in enumerate(lines[first_line - 1:], start=first_line):
        if not in_items:
            if line.rstrip() == "items:":
                in_items = True
            continue
        if indent is None:
            m = re.match(r"( *)- ", line)
            if m:
                indent = m.group(1)
            elif line.strip() and not line.startswith(" ") and not line.startswith("#"):
                break
            else:
                continue
        if line.startswith(indent + "- "):
            out.append(number)
        elif line.strip() and not line.startswith(indent + " ") and not line.startswith("#") \
                and not line.startswith(indent + "-"):
            break
    return out if len(out) == count else None


def _read_export(path: Path, display: str,
                 warnings: list[str]) -> list[tuple[int, int, Any]]:
    """The Application objects of an export: (position, line, object), in file order."""
    try:
        if path.is_dir():
            raise InputError("is a folder, not an export file", file=display, todo=TODO_EXPORT)
        if not path.is_file():
            raise InputError("not a regular file", file=display, todo=TODO_EXPORT)
        if path.stat().st_size > MAX_EXPORT_BYTES:
            raise InputError(f"larger than {MAX_EXPORT_BYTES >> 20} MiB: refused", file=display,
                             todo="export fewer Applications at a time (-n NAMESPACE, -l ...)")
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc})", file=display,
                         todo=TODO_EXPORT) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputError(f"bytes that are not UTF-8 at offset {exc.start}", file=display,
                         line=line, todo="save the export as UTF-8 (" + TODO_EXPORT + ")") \
            from None
    if not text.strip():
        raise InputError("empty file", file=display, todo=TODO_EXPORT)
    suffix = path.suffix.lower()
    as_json = suffix == ".json" or (suffix not in (".yaml", ".yml") and
                                    text.lstrip()[:1] in ("{", "["))
    if as_json:
        return _read_json(text, display, warnings)
    return _read_yaml(path, text, display, warnings)


def _read_json(text: str, display: str, warnings: list[str]) -> list[tuple[int, int, Any]]:
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict:
        out = dict(items)
        if len(out) != len(items):
            seen: set[str] = set()
            duplicates.extend(k for k, _ in items if k in seen or seen.add(k))
        return out

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        cut = exc.lineno >= text.rstrip().count("\n") + 1  # the error is on the last line
        what = (f"not valid JSON ({exc.msg} at column {exc.colno})"
                + (": the file ends in the middle of a value (cut short?)" if cut else ""))
        raise InputError(what, file=display, line=exc.lineno, todo=TODO_EXPORT) from None
    except RecursionError:
        raise InputError("not an export: nested too deep to read", file=display,
                         todo=TODO_EXPORT) from None
    for key in dict.fromkeys(duplicates):
        warnings.append(f"{display}: duplicate key {key!r} in a JSON object: the last value is "
                        "used, as kubectl and Argo CD do; remove the duplicate")
    lines = _Lines(text)
    offsets = _json_items(text, data)
    items = _items_of(data, display, 1)
    if len(offsets) != len(items):  # never seen; fall back to the start of the file
        offsets = [0] * len(items)
    return [(i, lines.at(off), item) for i, (off, item) in enumerate(zip(offsets, items))]


def _read_yaml(path: Path, text: str, display: str,
               warnings: list[str]) -> list[tuple[int, int, Any]]:
    from gitops_analysis.load.yaml_reader import read_documents

    docs, file_warnings, error = read_documents(path, display)
    if error:  # already "file:line: what is wrong: what to do"
        raise InputError(error)
    warnings.extend(file_warnings)
    out: list[tuple[int, int, Any]] = []
    for doc in docs:
        if doc.error:
            raise InputError(doc.error)
        warnings.extend(doc.warnings)
        items = _items_of(doc.data, display, doc.line)
        if len(items) == 1 and not (isinstance(doc.data, dict) and "items" in doc.data):
            lines = [doc.line]
        else:
            lines = _yaml_item_lines(text, doc.line, len(items)) or [doc.line] * len(items)
        for line, item in zip(lines, items):
            out.append((len(out), line, item))
    if not out and not docs:
        raise InputError("no YAML document in the file", file=display, todo=TODO_EXPORT)
    return out


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


_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")


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
    if not _NAME.fullmatch(name) or len(name) > 253:
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
    row = {"app": app, "has_status": bool(status),
           "sync_status": f.string(sync, "status", "status.sync"),
           "health_status": f.string(health, "status", "status.health"),
           "revision": f.string(sync, "revision", "status.sync") or ",".join(revisions),
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
    op = f.mapping(status, "operationState", "status")
    if op:
        p = "status.operationState"
        out["operations"].append({
            "app": app, "phase": f.string(op, "phase", p), "message": f.string(op, "message", p),
            "started": f.string(op, "startedAt", p), "finished": f.string(op, "finishedAt", p),
            "retry_count": f.integer(op, "retryCount", p)})
        result = f.mapping(op, "syncResult", p)
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


def load_live(path: str | Path, display: str | None = None) -> LiveState:
    """Read an Argo CD export (see the module doc) into a :class:`LiveState`."""
    from gitops_analysis.core import schema

    path = Path(path)
    display = display or str(path)
    if not path.exists():
        raise InputError("no such file", file=display, todo=TODO_EXPORT)
    warnings: list[str] = []
    objects = _read_export(path, display, warnings)
    out: dict[str, list] = {"live_resources": [], "conditions": [], "operations": [],
                            "sync_results": []}
    records: dict[str, tuple[AppRecord, dict, dict]] = {}
    for index, line, item in objects:
        rec, raw = _application(item, index, line, display)
        name = rec.row["name"]
        if name in records:
            first = records[name][0].row
            raise InputError(f"a second Application named {name} (first at {display}:"
                             f"{first['line']}, namespace {first['app_namespace'] or '-'})",
                             file=display, line=line,
                             todo="apps are keyed by name: export one of them")
        app_rows = {k: [] for k in out}
        live_row = _status_rows(raw, name, line, display, app_rows, warnings)
        live_row["app_namespace"] = rec.row["app_namespace"]
        for w in rec.warnings:
            warnings.append(w)
        records[name] = (rec, raw, {"live": live_row, **app_rows})
    names = sorted(records)
    app_rows, source_rows, live_rows = [], [], []
    frames: dict[str, list] = {k: [] for k in out}
    for name in names:
        rec, _raw, rows = records[name]
        row = dict(rec.row)
        row.update(render_status="missing", resources=0,
                   render_message=f"{row['file']}:{row['line']}: read from a live export: no "
                                  "rendered manifests; render the app (gitops-analysis render)")
        app_rows.append(row)
        source_rows.extend(rec.sources)
        live_rows.append(rows["live"])
        for k in frames:
            frames[k].extend(rows[k])
    apps = schema.conform(pd.DataFrame(app_rows), "apps") if app_rows else schema.empty("apps")
    sources = schema.conform(pd.DataFrame(source_rows), "sources") if source_rows \
        else schema.empty("sources")
    key = ["app", "group", "kind", "namespace", "name"]
    resources = _conform(frames["live_resources"], "live_resources")
    resources = resources.sort_values(key, kind="stable").reset_index(drop=True)
    conditions = _conform(frames["conditions"], "conditions")
    conditions = conditions.sort_values(["app", "type", "message"], kind="stable") \
        .reset_index(drop=True)
    return LiveState(
        path=display, apps=apps, sources=sources, live_apps=_conform(live_rows, "live_apps"),
        live_resources=resources, conditions=conditions,
        operations=_conform(frames["operations"], "operations"),
        # sync results keep the export's order within an app: it is the order Argo CD ran them
        sync_results=_conform(frames["sync_results"], "sync_results"),
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


# ------------------------------------------------------------------------------ import-live

_DROP_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",
                     "argocd.argoproj.io/refresh")


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def application_manifest(raw: dict) -> dict:
    """The Application as it would be written in Git: metadata and spec, no status or server
    fields (uid, resourceVersion, managedFields, ...)."""
    meta = raw.get("metadata") or {}
    out_meta: dict[str, Any] = {"name": meta.get("name")}
    if meta.get("namespace"):
        out_meta["namespace"] = meta["namespace"]
    if isinstance(meta.get("labels"), dict) and meta["labels"]:
        out_meta["labels"] = _sorted(meta["labels"])
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items()
                   if k not in _DROP_ANNOTATIONS} if isinstance(meta.get("annotations"), dict) \
        else {}
    if annotations:
        out_meta["annotations"] = _sorted(annotations)
    if isinstance(meta.get("finalizers"), list) and meta["finalizers"]:
        out_meta["finalizers"] = list(meta["finalizers"])
    api = raw.get("apiVersion") if isinstance(raw.get("apiVersion"), str) and \
        raw.get("apiVersion") else "argoproj.io/v1alpha1"
    return {"apiVersion": api, "kind": "Application", "metadata": out_meta,
            "spec": _sorted(raw.get("spec") or {})}


def _dump(doc: dict) -> str:
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def _str(dumper, data):  # block style for multi-line strings (Helm values, ...)
        style = "|" if "\n" in data else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    _Dumper.add_representer(str, _str)
    body = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=4096)
    return ("# written by gitops-analysis import-live from an Argo CD export: metadata and spec "
            "only (status left out)\n" + body)


def import_live(path: str | Path, out: str | Path, *, force: bool = False) -> tuple[LiveState,
                                                                                  list[Path]]:
    """Write ``OUT/apps/<app>.yaml`` from each Application of the export and copy the export to
    ``OUT/live/``. Refuses to overwrite a different file unless ``force``."""
    path, out = Path(path), Path(out)
    live = load_live(path)
    if out.exists() and not out.is_dir():
        raise UsageError("exists and is not a folder", file=str(out),
                         todo="pass a dataset folder to --out")
    apps_dir, live_dir = out / "apps", out / "live"
    texts = {apps_dir / f"{name}.yaml": _dump(application_manifest(raw))
             for name, raw in live.applications.items()}
    target = live_dir / path.name
    clashes = [p for p, text in texts.items()
               if p.exists() and p.read_text(encoding="utf-8", errors="replace") != text]
    others = sorted(p for p in live_dir.iterdir() if p.suffix.lower() in EXPORT_SUFFIXES
                    and p.name != path.name) if live_dir.is_dir() else []
    same_file = target.exists() and target.resolve() == path.resolve()
    if not force:
        if target.exists() and not same_file and target.read_bytes() != path.read_bytes():
            clashes.append(target)
        if clashes or others:
            shown = ", ".join(str(p) for p in (clashes + others)[:3])
            more = len(clashes) + len(others) - 3
            raise UsageError(f"would overwrite or leave beside another export: {shown}"
                             + (f" and {more} more" if more > 0 else ""), file=str(out),
                             todo="pass --force to replace them, or choose another --out")
    apps_dir.mkdir(parents=True, exist_ok=True)
    live_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for p, text in sorted(texts.items()):
        p.write_text(text, encoding="utf-8")
        written.append(p)
    for p in others:
        p.unlink()
    if not same_file:
        shutil.copyfile(path, target)
    written.append(target)
    return live, written


# ------------------------------------------------------------------------------ commands
