"""Argo CD's own objects in a dataset: the AppProjects it would read, the Application specs
and annotations the ``apps`` frame leaves out, the repository and cluster Secrets scoped to a
project. Read once per dataset (:func:`projects_of`), through the hardened reader.

Where projects come from (the model and Argo CD's matching: :mod:`gitops_analysis.load.projects`):

- the dataset: AppProject documents in ``apps/`` and AppProjects that an app renders. Argo CD
  reads projects only from its own namespace (``getAppProj``; ``projLister.AppProjects(ns)``),
  so one that lands in another namespace is kept apart (``Projects.elsewhere``);
- ``--projects FILE`` (:func:`~gitops_analysis.load.projects.read_projects_file`). A project the
  dataset defines too is taken from the dataset: that is what syncing the repository makes it;
- ``default``: argocd-server creates it at start-up when absent.

A repository or cluster Secret scoped to a project (``project`` key) adds to its
``sourceRepos`` or ``destinations`` (``util/argo/argo.go`` ``GetAppProjectByName``); plain
Secrets the dataset renders into Argo CD's namespace are read for that.
"""

from __future__ import annotations

import base64
import binascii
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_analysis.load.applications import CONTROL_NAMESPACE, IN_CLUSTER, app_key
from gitops_analysis.load.files import yaml_files
from gitops_analysis.load.manifests import expand
from gitops_analysis.load.projects import (
    DEFAULT_PROJECT,
    STOCK_DEFAULT,
    Destination,
    Project,
    is_project,
    parse_project,
)
from gitops_analysis.load.yaml_reader import iter_documents

SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"


@dataclass
class Projects:
    """The projects Argo CD would see, and what the dataset's Applications hold besides."""

    by_name: dict[str, Project] = field(default_factory=dict)
    # AppProjects the dataset or --projects define (else the project rules cannot know which
    # projects exist and stay silent, except for ``default``)
    known: bool = False
    elsewhere: dict[str, list[Project]] = field(default_factory=dict)  # another namespace
    problems: list[str] = field(default_factory=list)
    app_specs: dict[str, dict] = field(default_factory=dict)  # app -> raw Application spec
    app_annotations: dict[str, dict] = field(default_factory=dict)  # app -> its annotations
    clusters: dict[str, str] = field(default_factory=dict)  # cluster Secret: server -> name

    def get(self, name: str) -> Project | None:
        return self.by_name.get(name or DEFAULT_PROJECT)


_MEMO: dict[int, tuple[Any, tuple, Projects]] = {}


def projects_of(dataset, extra: tuple[Project, ...] = ()) -> Projects:
    """The projects of ``dataset`` plus ``extra`` (``--projects``), read once per dataset."""
    hit = _MEMO.get(id(dataset))
    if hit and hit[0]() is dataset and hit[1] == extra:
        return hit[2]
    got = _read(dataset, extra)
    _MEMO[id(dataset)] = (weakref.ref(dataset), extra, got)
    weakref.finalize(dataset, _MEMO.pop, id(dataset), None)
    return got


def control_namespace(dataset) -> str:
    """Argo CD's own namespace (``--argocd-namespace``), where it reads projects."""
    return str(getattr(dataset, "argocd_namespace", "") or CONTROL_NAMESPACE)


def _read(dataset, extra: tuple[Project, ...]) -> Projects:
    ctl = control_namespace(dataset)
    out = Projects(known=bool(extra))
    found: list[Project] = []
    root = getattr(dataset, "root", None)
    if root is not None and (Path(root) / "apps").is_dir():
        for d in _documents_of_apps(Path(root)):
            for item, data in expand(d.data):
                where = f"{d.file}:{d.line}" + (f": item {item}" if item >= 0 else "")
                if is_project(data):
                    got = parse_project(data, where, d.file, d.line)
                    _keep(out, found, got, ctl, default_ns=ctl)
                elif isinstance(data, dict) and data.get("kind") == "Application":
                    meta = data.get("metadata")
                    spec = data.get("spec")
                    if isinstance(meta, dict) and isinstance(meta.get("name"), str) and \
                            isinstance(spec, dict):
                        ns = meta.get("namespace")
                        key = app_key(ns if isinstance(ns, str) and ns else ctl, meta["name"])
                        out.app_specs.setdefault(key, spec)
                        notes = meta.get("annotations")
                        out.app_annotations.setdefault(key, notes if isinstance(notes, dict)
                                                       else {})
    for row, data, where in _rendered(dataset, "argoproj.io", "AppProject"):
        got = parse_project(data, f"{where} (rendered by {row['app']})", row["file"],
                            int(row["line"]), app=row["app"])
        _keep(out, found, got, ctl, default_ns=row["namespace"])
    out.known = out.known or bool(found) or bool(out.elsewhere)
    for p in sorted(found, key=lambda p: (p.app != "", p.app, p.file, p.line)):
        out.by_name.setdefault(p.name, p)  # the first definition; a second is a shared resource
    for p in extra:
        out.by_name.setdefault(p.name, p)
    out.by_name.setdefault(DEFAULT_PROJECT, STOCK_DEFAULT)
    _scoped_secrets(dataset, out, ctl)
    return out


def _keep(out: Projects, found: list[Project], got: Project | str, ctl: str,
          default_ns: str) -> None:
    if isinstance(got, str):
        out.problems.append(got)
        return
    ns = got.namespace or default_ns
    if ns != ctl:
        out.elsewhere.setdefault(got.name, []).append(got)
        return
    found.append(got)


def _documents_of_apps(root: Path) -> Iterator[Any]:
    for path, problem in yaml_files(root / "apps", root):
        if problem:
            continue
        try:
            for d in iter_documents(path, path.relative_to(root).as_posix()):
                if not d.error and d.data is not None:
                    yield d
        except (OSError, RecursionError):
            continue  # the dataset loader has reported it


def _rendered(dataset, group: str, kind: str,
              keep: Callable[[dict], bool] | None = None) -> Iterator[tuple[dict, Any, str]]:
    """The rendered documents of rows of ``group``/``kind``, read again (they are few)."""
    res = dataset.resources
    rows = res[(res["group"] == group) & (res["kind"].astype(str) == kind)]
    if rows.empty:
        return
    wanted: dict[tuple[str, int, int], dict] = {}
    for r in rows.to_dict("records"):
        if keep is None or keep(r):
            wanted[(r["file"], int(r["doc_index"]), int(r["item"]))] = r
    for file, doc, item, line, data in documents_at(dataset, set(wanted)):
        yield wanted[(file, doc, item)], data, \
            f"{file}:{line}" + (f": item {item}" if item >= 0 else "")


def documents_at(dataset, wanted: set[tuple[str, int, int]]
                 ) -> Iterator[tuple[str, int, int, int, Any]]:
    """The documents at (file, doc_index, item) of the dataset, read again through the
    hardened reader: (file, doc_index, item, line, data), files and documents in order. An
    item of -1 is a document that is not a ``kind: List``."""
    root = getattr(dataset, "root", None)
    if root is None or not wanted:
        return
    files: dict[str, set[tuple[int, int]]] = {}
    for file, doc, item in wanted:
        files.setdefault(file, set()).add((doc, item))
    for file in sorted(files):
        keys = files[file]
        try:
            for d in iter_documents(Path(root) / file, file):
                if d.error:
                    continue
                for item, data in expand(d.data):
                    if (d.doc_index, item) in keys:
                        yield file, d.doc_index, item, d.line, data
        except (OSError, RecursionError):
            continue  # the dataset loader has reported it


def _secret_fields(data: dict) -> dict[str, str]:
    out: dict[str, str] = {}
    raw = data.get("data")
    if isinstance(raw, dict):
        for k, v in raw.items():
            if isinstance(k, str) and isinstance(v, str):
                try:
                    out[k] = base64.b64decode(v, validate=True).decode("utf-8")
                except (binascii.Error, UnicodeDecodeError):
                    continue
    plain = data.get("stringData")
    if isinstance(plain, dict):  # stringData wins over data, as the API server merges it
        out.update({k: v for k, v in plain.items() if isinstance(k, str) and isinstance(v, str)})
    return out


def _scoped_secrets(dataset, out: Projects, ctl: str) -> None:
    """Repository and cluster Secrets in Argo CD's namespace: their ``project`` adds
    repositories and destinations to that project; a cluster's server and name pair is kept."""
    repos: dict[str, list[str]] = {}
    dests: dict[str, list[Destination]] = {}
    for _, data, _ in _rendered(dataset, "", "Secret", keep=lambda r: r["namespace"] == ctl):
        meta = data.get("metadata") if isinstance(data, dict) else None
        labels = meta.get("labels") if isinstance(meta, dict) else None
        kind = labels.get(SECRET_TYPE_LABEL) if isinstance(labels, dict) else None
        if kind not in ("repository", "cluster"):
            continue
        f = _secret_fields(data)
        project = f.get("project", "")
        if kind == "cluster" and f.get("server"):
            server = f["server"].rstrip("/")
            if f.get("name"):
                out.clusters[server] = f["name"]
            if project:
                namespaces = [n.strip() for n in f.get("namespaces", "").split(",") if n.strip()]
                dests.setdefault(project, []).extend(
                    Destination(server, "", n) for n in (namespaces or ["*"]))
        elif kind == "repository" and project and f.get("url"):
            repos.setdefault(project, []).append(f["url"])
    for name in sorted(set(repos) | set(dests)):
        p = out.by_name.get(name)
        if p is not None:
            out.by_name[name] = p.with_scoped(tuple(repos.get(name, ())),
                                              tuple(dests.get(name, ())))


def cluster_identity(server: str, name: str, clusters: dict[str, str]
                     ) -> tuple[str, str, bool, bool]:
    """The destination cluster as (server, name, server known, name known): ``in-cluster`` is
    https://kubernetes.default.svc both ways; cluster Secrets of the dataset pair the rest."""
    server = server.rstrip("/")
    if server:
        if server == IN_CLUSTER:
            return server, "in-cluster", True, True
        if server in clusters:
            return server, clusters[server], True, True
        return server, "", True, False
    if name == "in-cluster":
        return IN_CLUSTER, name, True, True
    for s, n in clusters.items():
        if n == name:
            return s, name, True, True
    return "", name, False, True
