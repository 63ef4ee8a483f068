"""``rendered/`` -> resource records, load errors and warnings; ``render-status.json``.

Every non-empty document becomes a resource record or a load error (a ``kind: List`` counts as
its items). Rendered files are read in parallel on the machine's cores when there is enough to
read: each worker parses whole files, and the results are put back in file order, so the frames
are the same whatever the number of workers. Nothing here imports pandas: the workers are forked
before it is imported (see :func:`gitops_analysis.load.dataset.load_dataset`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gitops_analysis.core.errors import InputError
from gitops_analysis.load.files import Collector, Problem, link_problem, printable, yaml_files
from gitops_analysis.load.json_reader import read_json
from gitops_analysis.load.manifests import expand, to_record
from gitops_analysis.load.yaml_fast import quiet
from gitops_analysis.load.yaml_reader import clip

PARALLEL_MIN_BYTES = 4 << 20
RENDER_STATUS = "render-status.json"
_RERENDER = "re-run gitops-analysis render"

#: (app, file, why it is refused or None)
RenderedFile = tuple[str, Path, Problem | None]


def rendered_files(root: Path) -> list[RenderedFile]:
    """``rendered/<app>.yaml`` and ``rendered/<app>/**.yaml``, sorted, each with its app."""
    folder = root / "rendered"
    out = []
    for path, problem in yaml_files(folder, root):
        parts = path.relative_to(folder).parts if path != folder else ("",)
        app = parts[0] if len(parts) > 1 else path.stem if parts[0] else ""
        out.append((printable(app), path, problem))
    return out


def render_status_doc(root: Path) -> dict[str, Any]:
    """``render-status.json`` as a whole ({} without one): ``apps``, what render could not
    reach or expand (``appsets``, ``unreachable``), the ``argocd_namespace`` it was given
    (when it was) and the AppProjects written in the repository (``repository_projects``); an
    unusable file is an InputError."""
    path = root / RENDER_STATUS
    if not path.exists() and not path.is_symlink():
        return {}
    if not path.is_file() or path.is_symlink() and link_problem(os.path.realpath(root), path):
        raise InputError("not a plain file inside the dataset", file=RENDER_STATUS,
                         todo=_RERENDER)
    docs, _, problem = read_json(path, RENDER_STATUS, todo=_RERENDER)
    problem = problem or (docs[0].error if docs else None)
    if problem:
        raise problem.input_error(_RERENDER)
    data = docs[0].data if docs else None
    apps = data.get("apps", data) if isinstance(data, dict) else None
    if not isinstance(apps, dict) or not isinstance(data, dict):
        raise InputError("expected an object of apps", file=RENDER_STATUS, todo=_RERENDER)
    appsets = data.get("appsets") if isinstance(data.get("appsets"), dict) else {}
    unreachable = data.get("unreachable") if isinstance(data.get("unreachable"), list) else []
    doc = {"apps": apps, "appsets": appsets, "unreachable": unreachable}
    if apps is not data and "argocd_namespace" in data:  # what render was given
        doc["argocd_namespace"] = data["argocd_namespace"]
    if isinstance(data.get("repository_projects"), list):  # AppProjects written in its files
        doc["repository_projects"] = data["repository_projects"]
    return doc


def _workers(files: list[RenderedFile]) -> int:
    if len(files) < 2:
        return 1
    try:
        size = sum(p.stat().st_size for _, p, problem in files if not problem)
    except OSError:
        return 1
    if size < PARALLEL_MIN_BYTES:
        return 1
    return max(1, min(os.cpu_count() or 1, 8, len(files)))


def read_rendered(root: Path, files: list[RenderedFile],
                  known_apps: frozenset[str]) -> Iterator[dict[str, Any]]:
    """The result of each file (see :func:`_read_rendered_documents`), in file order."""
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
    results: list[dict[str, Any]] = [{}] * len(files)
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


def _read_job(job: tuple[Path, str, Path, Problem | None, bool]) -> dict[str, Any]:
    return _read_rendered_file(*job)


def _read_rendered_file(root: Path, app: str, path: Path, problem: Problem | None,
                        known: bool) -> dict[str, Any]:
    """Every document of one rendered file as resource records, load errors and warnings."""
    with quiet():  # rapidyaml's own error printing, silenced once for the whole file
        return _read_rendered_documents(root, app, path, problem, known)


def _read_rendered_documents(root: Path, app: str, path: Path, problem: Problem | None,
                             known: bool) -> dict[str, Any]:
    col = Collector(root)
    rows: list[dict] = []
    crds: list[dict] = []
    webhooks: list[dict] = []
    documents = 0
    for d in col.read(path, "rendered", app, problem):
        if d.error:
            documents += 1
            col.error("rendered", app, d.file, d.doc_index, d.error.line, d.error.message)
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
                          f"{where}: no Application in apps/ has the instance name {app} "
                          "(<name>, or <namespace>_<name> outside the control-plane namespace): "
                          "add its Application or rename the rendered file", item)
                continue
            record: dict | None
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
            if record is None:  # then error is set (to_record sets exactly one of them)
                col.error("rendered", app, d.file, d.doc_index, d.line, str(error), item)
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
    return {"app": app, "known": known, "documents": documents, "rows": columns(rows),
            "crds": crds, "webhooks": webhooks,
            "load_errors": col.load_errors, "warnings": col.warnings}


def columns(rows: list[dict]) -> dict[str, list]:
    """Records (all with the same keys) as one list per key: cheaper to send from a worker and
    to make a frame of than a dict per record."""
    if not rows:
        return {}
    return {k: [r[k] for r in rows] for k in rows[0]}


def extend_columns(into: dict[str, list], more: dict[str, list]) -> None:
    """Append the records of ``more`` (see :func:`columns`) to ``into``."""
    for k, values in more.items():
        into.setdefault(k, []).extend(values)


def resolve_sources(rows: dict[str, list], apps_by_name: dict[str, dict]) -> None:
    """In a multi-source app, keep only "# Source:" parts that name one of its sources.

    ``helm template`` starts every document with ``# Source: <chart>/templates/<file>``; in a
    multi-source render those lines are not parts of the app, so such a document belongs to the
    part it stands in (the last line that names a source path of the app). A single-source app
    keeps what its render says.
    """
    if not rows or all(len(a["source_paths"]) < 2 for a in apps_by_name.values()):
        return  # no multi-source app: every render keeps what it says
    current: dict[tuple[str, str], str] = {}
    sources = rows["source"]
    for i, (src, app, file) in enumerate(zip(sources, rows["app"], rows["file"])):
        src = src or ""
        if not src:
            continue
        paths = apps_by_name[app]["source_paths"]
        if len(paths) < 2:
            continue
        key = (app, file)
        if src in paths:
            current[key] = src
        else:
            sources[i] = current.get(key, "")
