"""``load_dataset(path) -> Dataset``: every app and every resource it deploys, as tidy frames.

Layout read (the contract of every command):

- ``apps/``: Argo CD Application manifests (``*.yaml``/``*.yml``, several documents per file).
- ``rendered/<app>.yaml`` or ``rendered/<app>/*.yaml``: what the app deploys.
- ``render-status.json`` (optional): written by ``gitops-analysis render``.

Nothing is dropped silently: every non-empty document of ``rendered/`` becomes a resource row or
a load-error row (``accounting.documents == resources + load_errors``).
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gitops_analysis.core.errors import InputError, NotADatasetError
from gitops_analysis.core.kinds import CLUSTER, NAMESPACED
from gitops_analysis.load.applications import (
    HOOK_WEIGHT_ANNOTATION,
    WAVE_ANNOTATION,
    AppRecord,
    parse_application,
)
from gitops_analysis.load.manifests import expand, sync_wave, to_record, unreadable_wave
from gitops_analysis.load.yaml_reader import RawDocument, clip, iter_documents, quiet, show

if TYPE_CHECKING:
    import pandas as pd

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass
class Accounting:
    files: int = 0  # rendered files read
    documents: int = 0  # non-empty rendered documents (a kind: List counts as its items)
    resources: int = 0
    load_errors: int = 0
    apps_without_render: int = 0
    app_files: int = 0
    app_documents: int = 0
    applications: int = 0
    app_load_errors: int = 0
    skipped_app_documents: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Dataset:
    """The frames of one dataset. Columns: ``docs/frames.md`` (from ``schema.py``)."""

    name: str
    apps: pd.DataFrame
    sources: pd.DataFrame
    resources: pd.DataFrame
    crds: pd.DataFrame
    webhooks: pd.DataFrame
    load_errors: pd.DataFrame
    warnings: pd.DataFrame
    accounting: Accounting
    root: Path | None = field(default=None, repr=False)
    cluster_scopes: dict = field(default_factory=dict, repr=False)
    live: object = field(default=None, repr=False)  # LiveState of DATASET/live/, if any

    def app(self, name: str) -> pd.Series:
        rows = self.apps[self.apps["name"] == name]
        if rows.empty:
            raise KeyError(name)
        return rows.iloc[0]


def _yaml_files(folder: Path, root: Path) -> list[tuple[Path, str | None]]:
    """The YAML files under ``folder``, sorted, each with the reason it is refused (or None).

    Symbolic links are followed only while they stay inside the dataset; a link that leaves it,
    dangles or loops, and a folder link back to one of its own parents, is listed with the
    reason instead, so it becomes a load error rather than an endless or foreign read.
    """
    out: list[tuple[Path, str | None]] = []
    real_root = os.path.realpath(root)
    if folder.is_symlink():
        problem = _link_problem(real_root, folder)
        if problem:
            return [(folder, problem)]
    if not folder.is_dir():
        return out

    def listing(directory: Path, parents: frozenset) -> list[tuple]:
        """The entries of one folder, sorted: ("file", path, problem) or ("dir", path, parents)."""
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            return [("file", directory, f"cannot be listed ({exc.strerror}): check the folder")]
        items: list[tuple] = []
        for entry in entries:
            path = directory / entry.name
            is_yaml = path.suffix in YAML_SUFFIXES
            if entry.is_symlink():
                problem = _link_problem(real_root, path)
                if problem:
                    if is_yaml or "loop" in problem or os.path.isdir(path):
                        items.append(("file", path, problem))
                    continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                try:
                    st = os.stat(path)
                except OSError as exc:
                    items.append(("file", path, f"cannot be read ({exc.strerror}): check the "
                                                "folder"))
                    continue
                key = (st.st_dev, st.st_ino)
                if key in parents:
                    items.append(("file", path, "symbolic link loop (a link to a folder that "
                                                "holds it): refused; remove the link"))
                    continue
                items.append(("dir", path, parents | {key}))
            elif is_yaml:
                items.append(("file", path, None))
        return items

    try:
        st = os.stat(folder)
    except OSError as exc:
        return [(folder, f"cannot be read ({exc.strerror}): check the folder")]
    # depth first, in sorted order, without recursion (folders may nest thousands deep)
    stack: list[tuple] = [("dir", folder, frozenset({(st.st_dev, st.st_ino)}))]
    while stack:
        what, path, extra = stack.pop()
        if what == "file":
            out.append((path, extra))
        else:
            stack.extend(reversed(listing(path, extra)))
    return out


def _link_problem(real_root: str, path: Path) -> str | None:
    """Why a symbolic link may not be followed: it loops, dangles or leaves the dataset."""
    try:
        target = os.path.realpath(path, strict=True)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop: refused; remove the link or point it at a file"
        return ("symbolic link to a file that does not exist: refused; remove the link or "
                "restore its target")
    except RuntimeError:  # a loop, on Pythons whose realpath raises it
        return "symbolic link loop: refused; remove the link or point it at a file"
    if not _inside_real(real_root, target):
        return "symbolic link that leaves the dataset: refused; copy the file into the dataset"
    return None


def _inside_real(real_root: str, real_path: str) -> bool:
    return real_path == real_root or real_path.startswith(real_root.rstrip(os.sep) + os.sep)


def _inside(root: Path, path: Path) -> bool:
    """Whether ``path``, links resolved, is inside ``root``."""
    try:
        return _inside_real(os.path.realpath(root), os.path.realpath(path, strict=True))
    except (OSError, RuntimeError):
        return False


class _Collector:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.load_errors: list[dict] = []
        self.warnings: list[dict] = []

    def rel(self, path: Path) -> str:
        return _printable(path.relative_to(self.root).as_posix())

    def error(self, part: str, app: str, file: str, doc_index: int, line: int, reason: str,
              item: int = -1) -> None:
        self.load_errors.append({"part": part, "app": app, "file": file, "doc_index": doc_index,
                                 "item": item, "line": line, "reason": reason})

    def warn(self, part: str, app: str, file: str, doc_index: int, line: int,
             reason: str) -> None:
        self.warnings.append({"part": part, "app": app, "file": file, "doc_index": doc_index,
                              "line": line, "reason": reason})

    def read(self, path: Path, part: str, app: str,
             problem: str | None = None) -> Iterator[RawDocument]:
        """The documents of one file, one at a time, with its warnings recorded.

        A file that cannot be read at all comes out as one document with ``doc_index == -1``
        and an error, so every caller counts it as one document and one load error.
        """
        file = self.rel(path)
        if file != path.relative_to(self.root).as_posix():
            self.warn(part, app, file, -1, 0, f"{file}: a file name that is not UTF-8 (shown "
                      "with \ufffd): rename the file")
        if problem:
            yield RawDocument(file, -1, 0, error=f"{file}: {problem}")
            return
        reader = iter_documents(path, file)
        try:
            for d in reader:
                self._file_warnings(reader, part, app, file)
                for w in d.warnings:
                    self.warn(part, app, file, d.doc_index, _line_of(w, file), w)
                yield d
        except OSError as exc:
            yield RawDocument(file, -1, 0, error=f"{file}: cannot be read "
                              f"({exc.strerror or exc}): check the file")
        except RecursionError:  # never seen: the parser's own limits come first
            yield RawDocument(file, -1, 0, error=f"{file}: nested too deep to read: refused; "
                              "fix the file")
        self._file_warnings(reader, part, app, file)

    def _file_warnings(self, reader, part: str, app: str, file: str) -> None:
        for w in reader.warnings:
            self.warn(part, app, file, -1, _line_of(w, file), w)
        reader.warnings.clear()


def _printable(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (surrogates in Python) become U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _line_of(message: str, file: str | None = None) -> int:
    """The line of a ``file:line: ...`` message (0: none); ``file`` may hold ':' and ': '."""
    if file is not None and message.startswith(file + ":"):
        head = message[len(file) + 1:].split(": ", 1)[0]
        return int(head) if head.isdigit() else 0
    head = message.split(": ", 1)[0]
    try:
        return int(head.rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return 0


def _read_apps(root: Path, col: _Collector, acc: Accounting) -> list[AppRecord]:
    records: dict[str, AppRecord] = {}
    for path, problem in _yaml_files(root / "apps", root):
        acc.app_files += 1
        for d in col.read(path, "apps", "", problem):
            acc.app_documents += 1
            where = f"{d.file}:{d.line}"
            if d.error:
                col.error("apps", "", d.file, d.doc_index, _line_of(d.error, d.file), d.error)
                acc.app_load_errors += 1
                continue
            data = d.data
            kind = data.get("kind") if isinstance(data, dict) else None
            api = data.get("apiVersion") if isinstance(data, dict) else None
            if kind != "Application" or not isinstance(api, str) or \
                    not api.startswith("argoproj.io/"):
                acc.skipped_app_documents += 1
                what = kind if isinstance(kind, str) and kind else "document"
                col.warn("apps", "", d.file, d.doc_index, d.line,
                         f"{where}: {show(what)[1:-1]} is not an argoproj.io Application: "
                         "skipped; only Applications are read from apps/")
                continue
            rec = _application(data, where, d)
            if isinstance(rec, str):
                col.error("apps", "", d.file, d.doc_index, d.line, rec)
                acc.app_load_errors += 1
                continue
            name = rec.row["name"]
            if name in records:
                first = records[name].row
                col.error("apps", name, d.file, d.doc_index, d.line,
                          f"{where}: a second Application named {name} (first at "
                          f"{first['file']}:{first['line']}): skipped; give each app its own name")
                acc.app_load_errors += 1
                continue
            for w in rec.warnings:
                col.warn("apps", name, d.file, d.doc_index, d.line, w)
            records[name] = rec
    acc.applications = len(records)
    return [records[k] for k in sorted(records)]


def _application(data: dict, where: str, d: RawDocument) -> AppRecord | str:
    """parse_application, guarded: whatever the document holds, a record or a reason."""
    meta = data.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    wave = None
    if isinstance(annotations, dict) and unreadable_wave(annotations):
        # a sync-wave Go's strconv.Atoi refuses (out of range): read as not an integer
        wave = sync_wave(annotations, where)
        kept = {k: v for k, v in annotations.items()
                if k not in (WAVE_ANNOTATION, HOOK_WEIGHT_ANNOTATION)}
        data = {**data, "metadata": {**meta, "annotations": kept}}
    try:
        rec = parse_application(data, where, d.file, d.line)
    except Exception as exc:
        return (f"{where}: Application that cannot be read ({type(exc).__name__}: "
                f"{clip(str(exc), 120)}): fix it")
    if wave is not None and isinstance(rec, AppRecord):
        rec.row["wave"] = wave[0]
        if wave[1]:
            rec.warnings.append(wave[1])
    return rec


def _rendered_files(root: Path) -> list[tuple[str, Path, str | None]]:
    folder = root / "rendered"
    out = []
    for path, problem in _yaml_files(folder, root):
        parts = path.relative_to(folder).parts if path != folder else ("",)
        app = parts[0] if len(parts) > 1 else path.stem if parts[0] else ""
        out.append((_printable(app), path, problem))
    return out


def _read_render_status(root: Path) -> dict:
    path = root / "render-status.json"
    if not path.exists() and not path.is_symlink():
        return {}
    if not path.is_file() or path.is_symlink() and _link_problem(os.path.realpath(root), path):
        raise InputError("not a plain file inside the dataset", file="render-status.json",
                         todo="re-run gitops-analysis render")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError, OSError) as exc:
        raise InputError(f"not valid JSON ({clip(str(exc), 120)})", file="render-status.json",
                         todo="re-run gitops-analysis render") from exc
    apps = data.get("apps", data) if isinstance(data, dict) else None
    if not isinstance(apps, dict):
        raise InputError("expected an object of apps", file="render-status.json",
                         todo="re-run gitops-analysis render")
    return apps


def load_cluster_api(path: str | Path) -> dict[tuple[str, str], str]:
    """Read ``kubectl api-resources -o wide`` output: (group, kind) -> scope."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot be read: {exc}", file=str(path),
                         todo="pass the output of 'kubectl api-resources -o wide'") from exc
    if not lines or "NAMESPACED" not in lines[0] or "KIND" not in lines[0]:
        raise InputError("no NAME/APIVERSION/NAMESPACED/KIND header", file=str(path), line=1,
                         todo="pass the output of 'kubectl api-resources -o wide'")
    header = lines[0]
    cols = {name: header.index(name) for name in ("APIVERSION", "NAMESPACED", "KIND")}
    scopes = {}
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split()
        # SHORTNAMES may be empty, so find fields by their position after APIVERSION
        try:
            api_idx = next(i for i, f in enumerate(fields) if "/" in f or f == "v1")
            api, namespaced, kind = fields[api_idx], fields[api_idx + 1], fields[api_idx + 2]
        except (StopIteration, IndexError):
            raise InputError("cannot read this line", file=str(path), line=number,
                             todo="pass unmodified 'kubectl api-resources -o wide' output") \
                from None
        if namespaced not in ("true", "false"):
            raise InputError(f"NAMESPACED is {namespaced!r}", file=str(path), line=number,
                             todo="pass unmodified 'kubectl api-resources -o wide' output")
        group = api.rpartition("/")[0] if "/" in api else ""
        scopes[(group, kind)] = NAMESPACED if namespaced == "true" else CLUSTER
    del cols
    return scopes


def load_dataset(path: str | Path, *, cluster_api: str | Path | dict | None = None) -> Dataset:
    """Load a dataset folder into frames. See the module doc for the layout."""
    root = Path(path)
    if not root.is_dir():
        raise NotADatasetError("not a folder", file=str(path),
                               todo="point at a dataset folder that holds apps/ and rendered/")
    if not (root / "apps").is_dir():
        raise NotADatasetError("not a dataset (no apps/ folder)", file=str(path),
                               todo="point at a folder that holds apps/ and rendered/")
    if isinstance(cluster_api, (str, Path)):
        cluster_api = load_cluster_api(cluster_api)
    cluster_scopes = dict(cluster_api or {})

    acc = Accounting()
    col = _Collector(root)
    app_records = _read_apps(root, col, acc)
    status = _read_render_status(root)
    apps_by_name = {r.row["name"]: r.row for r in app_records}

    files = _rendered_files(root)
    known_apps = frozenset(apps_by_name)
    rows: list[dict] = []
    crds: list[dict] = []
    webhooks: list[dict] = []
    rendered_apps: set[str] = set()
    results = _read_rendered(root, files, known_apps)
    for result in results:
        acc.files += 1
        acc.documents += result["documents"]
        rows += result["rows"]
        crds += result["crds"]
        webhooks += result["webhooks"]
        col.load_errors += result["load_errors"]
        col.warnings += result["warnings"]
        if result["known"]:
            rendered_apps.add(result["app"])
    _resolve_sources(rows, apps_by_name)

    # pandas is imported only now: the reading above runs in workers forked before it
    from gitops_analysis.load import frames

    apps_frame, sources_frame = frames.apps_frames(app_records, rendered_apps, status, rows)
    acc.apps_without_render = int((apps_frame["render_status"] == "missing").sum())
    crd_frame = frames.crds_frame(crds, apps_by_name)
    webhook_frame = frames.webhooks_frame(webhooks, apps_by_name)
    resources = frames.resources_frame(rows, apps_frame, crd_frame, cluster_scopes)
    load_errors = frames.rows_frame(col.load_errors, "load_errors")
    warnings = frames.rows_frame(col.warnings, "warnings")
    acc.resources = len(resources)
    acc.load_errors = int((load_errors["part"] == "rendered").sum())
    live = None
    if (root / "live").is_dir():  # an Argo CD export kept by import-live
        from gitops_analysis.load.live_export import load_live_dir

        live = load_live_dir(root)
    return Dataset(name=root.resolve().name, apps=apps_frame, sources=sources_frame,
                   resources=resources, crds=crd_frame, webhooks=webhook_frame,
                   load_errors=load_errors,
                   warnings=warnings, accounting=acc, root=root, cluster_scopes=cluster_scopes,
                   live=live)


# Rendered files are read in parallel on the machine's cores when there is enough to read:
# each worker parses whole files, and the results are put back in file order, so the frames
# are the same whatever the number of workers.
PARALLEL_MIN_BYTES = 4 << 20


def _workers(files: list) -> int:
    if len(files) < 2:
        return 1
    try:
        size = sum(p.stat().st_size for _, p, problem in files if not problem)
    except OSError:
        return 1
    if size < PARALLEL_MIN_BYTES:
        return 1
    return max(1, min(os.cpu_count() or 1, 8, len(files)))


def _read_rendered(root: Path, files: list, known_apps: frozenset):
    workers = _workers(files)
    if workers == 1:
        for app, path, problem in files:
            yield _read_rendered_file(root, app, path, problem, app in known_apps)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # the largest files first, dealt out so that no worker waits on another
    order = sorted(range(len(files)), key=lambda i: -_size(files[i][1]))
    jobs = [(root, *files[i], files[i][0] in known_apps) for i in order]
    results: list = [None] * len(files)
    try:
        ctx = multiprocessing.get_context("fork")
    except ValueError:
        ctx = None
    if ctx is None:
        for app, path, problem in files:
            yield _read_rendered_file(root, app, path, problem, app in known_apps)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        done = pool.map(_read_job, jobs)
        import pandas  # noqa: F401  (imported here, while the workers parse)
        for i, result in zip(order, done):
            results[i] = result
    yield from results


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _read_job(job):
    return _read_rendered_file(*job)


def _read_rendered_file(root: Path, app: str, path: Path, problem: str | None,
                        known: bool) -> dict:
    """Every document of one rendered file as resource records, load errors and warnings."""
    with quiet():  # rapidyaml's own error printing, silenced once for the whole file
        return _read_rendered_documents(root, app, path, problem, known)


def _read_rendered_documents(root: Path, app: str, path: Path, problem: str | None,
                             known: bool) -> dict:
    col = _Collector(root)
    rows: list[dict] = []
    crds: list[dict] = []
    webhooks: list[dict] = []
    documents = 0
    for d in col.read(path, "rendered", app, problem):
        if d.error:
            documents += 1
            col.error("rendered", app, d.file, d.doc_index, _line_of(d.error, d.file), d.error)
            continue
        items = expand(d.data)
        if not items:
            col.warn("rendered", app, d.file, d.doc_index, d.line,
                     f"{d.file}:{d.line}: a kind: List without items: nothing to deploy; "
                     "remove it or add its items")
        for item, data in items:
            documents += 1
            where = f"{d.file}:{d.line}" + (f": item {item}" if item >= 0 else "")
            if not known:
                col.error("rendered", app, d.file, d.doc_index, d.line,
                          f"{where}: no Application named {app} in apps/: add its "
                          "Application or rename the rendered file", item)
                continue
            try:
                record, error, warnings = to_record(data, where)
            except RecursionError:  # the content hash of a document built to nest deep
                record, error, warnings = None, (
                    f"{where}: nested too deep to read: refused; Kubernetes objects never "
                    "nest this deep, fix the document"), []
            except Exception as exc:
                record, error, warnings = None, (
                    f"{where}: cannot be read ({type(exc).__name__}: {clip(str(exc), 120)})"
                    ": fix the document, and please report it as a bug of "
                    "gitops-analysis"), []
            for w in warnings:
                col.warn("rendered", app, d.file, d.doc_index, d.line, w)
            if error:
                col.error("rendered", app, d.file, d.doc_index, d.line, error, item)
                continue
            record.update(app=app, file=d.file, doc_index=d.doc_index, item=item,
                          line=d.line, source=d.source or "")
            crd = record.pop("crd", None)
            if crd is not None:
                crds.append({**crd, "app": app, "name": record["name"],
                             "content_hash": record["content_hash"], "file": d.file,
                             "line": d.line})
            for hook in record.pop("webhooks", None) or []:
                webhooks.append({**hook, "app": app, "kind": record["kind"],
                                 "config": record["name"], "file": d.file, "line": d.line})
            rows.append(record)
        d.data = None  # only the record is kept
    return {"app": app, "known": known, "documents": documents, "rows": rows, "crds": crds,
            "webhooks": webhooks,
            "load_errors": col.load_errors, "warnings": col.warnings}


def _resolve_sources(rows: list[dict], apps_by_name: dict) -> None:
    """In a multi-source app, keep only "# Source:" parts that name one of its sources.

    ``helm template`` starts every document with ``# Source: <chart>/templates/<file>``; in a
    multi-source render those lines are not parts of the app, so such a document belongs to the
    part it stands in (the last line that names a source path of the app). A single-source app
    keeps what its render says.
    """
    current: dict[tuple[str, str], str] = {}
    for r in rows:
        src = r.get("source") or ""
        if not src:
            continue
        paths = apps_by_name[r["app"]]["source_paths"]
        if len(paths) < 2:
            continue
        key = (r["app"], r["file"])
        if src in paths:
            current[key] = src
        else:
            r["source"] = current.get(key, "")
