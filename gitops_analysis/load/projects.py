"""AppProjects as Argo CD reads them, and the parts of Applications the ``apps`` frame leaves out.

Where projects come from:

- the dataset: AppProject documents in ``apps/`` and AppProjects that an app renders. Argo CD
  reads projects only from its own namespace (``getAppProj``; ``projLister.AppProjects(ns)``),
  so one that lands in another namespace is kept apart (``Projects.elsewhere``);
- ``--projects FILE``: multi-document YAML (or ``kubectl get appprojects -o yaml``'s List)
  for projects that live outside the repository. A project the dataset defines too is taken
  from the dataset: that is what syncing the repository makes it;
- ``default``: argocd-server creates it at start-up when absent (``server/server.go``
  ``initializeDefaultProject``) with every repository, destination and cluster-scoped kind.

A repository or cluster Secret scoped to a project (``project`` key) adds to its
``sourceRepos`` or ``destinations`` (``util/argo/argo.go`` ``GetAppProjectByName``); plain
Secrets the dataset renders into Argo CD's namespace are read for that.

The matching methods follow ``pkg/apis/application/v1alpha1/app_project_types.go`` (v3.5.1):
``IsSourcePermitted``, ``isDestinationMatched``, ``IsGroupKindNamePermitted``,
``IsAppNamespacePermitted``; see ``docs/notes/argocd-conditions.md`` §C.
"""

from __future__ import annotations

import base64
import binascii
import re
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_analysis.core.errors import InputError
from gitops_analysis.core.globs import glob_match, match_in_list, path_match
from gitops_analysis.load.applications import CONTROL_NAMESPACE, IN_CLUSTER, app_key
from gitops_analysis.load.files import yaml_files
from gitops_analysis.load.manifests import expand
from gitops_analysis.load.yaml_reader import iter_documents, read_documents

DEFAULT_PROJECT = "default"
SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
_SSH = re.compile(r"^(ssh://)?([^/:]*?)@[^@]+$")


@dataclass(frozen=True)
class Destination:
    server: str = ""
    name: str = ""
    namespace: str = ""


@dataclass(frozen=True)
class ResourceItem:
    group: str = ""
    kind: str = ""
    name: str = ""  # cluster lists only: a filepath.Match glob, '' = every name


@dataclass(frozen=True)
class Project:
    """One AppProject's spec, as far as the rules read it. A list that is ``None`` was absent
    (``namespaceResourceWhitelist`` absent allows every namespaced kind, empty allows none)."""

    name: str
    namespace: str = ""
    source_repos: tuple[str, ...] = ()
    destinations: tuple[Destination, ...] = ()
    source_namespaces: tuple[str, ...] = ()
    cluster_whitelist: tuple[ResourceItem, ...] = ()
    cluster_blacklist: tuple[ResourceItem, ...] = ()
    namespace_whitelist: tuple[ResourceItem, ...] | None = None
    namespace_blacklist: tuple[ResourceItem, ...] = ()
    project_scoped_clusters_only: bool = False
    orphaned_warn: bool = False  # spec.orphanedResources.warn: true
    origin: str = ""  # where it was read: file:line, and the app that renders it
    app: str = ""  # the app that renders it ('' for apps/, --projects and default)
    file: str = ""
    line: int = 0

    def with_scoped(self, repos: tuple[str, ...], dests: tuple[Destination, ...]) -> Project:
        return Project(**{**self.__dict__, "source_repos": self.source_repos + repos,
                          "destinations": self.destinations + dests})

    # -- app_project_types.go -------------------------------------------------------------
    def source_permitted(self, repo_url: str) -> bool:
        """``IsSourcePermitted``: normalised URLs, globs with ``/`` separators; a ``!`` entry
        that does not match denies at once."""
        src = normalize_git_url(repo_url)
        any_matched = False
        for entry in self.source_repos:
            if entry.startswith("!"):
                pattern = "!" + normalize_git_url(entry[1:])
            else:
                pattern = normalize_git_url(entry)
            if _glob_neg(pattern, src, "/"):
                any_matched = True
            elif pattern.startswith("!"):
                return False
        return any_matched

    def destination_permitted(self, server: str, name: str, namespace: str,
                              server_known: bool = True, name_known: bool = True
                              ) -> bool | None:
        """``isDestinationMatched`` for a cluster (server URL and name) and a namespace.

        A cluster field that the repository does not show (``*_known`` False) is bounded:
        True or False when every value it could take gives that answer, None when it
        depends on it. ``permitOnlyProjectScopedClusters`` is not decided (None when it would
        matter)."""
        best = self._matched(server, name, namespace, server_known, name_known, True)
        worst = self._matched(server, name, namespace, server_known, name_known, False)
        if best != worst:
            return None
        if best and self.project_scoped_clusters_only:
            return None
        return best

    def _matched(self, server: str, name: str, ns: str, server_known: bool, name_known: bool,
                 hope: bool) -> bool:
        def field_match(pattern: str, value: str, known: bool) -> bool:
            if known:
                return value != "" and _glob_neg(pattern, value)
            if pattern == "*":
                return True
            return hope and pattern != ""

        any_matched = False
        for d in self.destinations:
            name_ok = field_match(d.name, name, name_known)
            server_ok = field_match(d.server, server, server_known)
            ns_ok = _glob_neg(d.namespace, ns)
            if (server_ok or name_ok) and ns_ok:
                any_matched = True
            elif (not name_ok and d.name.startswith("!")) or \
                    (not server_ok and d.server.startswith("!") and ns_ok):
                return False
            elif not ns_ok and d.namespace.startswith("!") and server_ok:
                return False
        return any_matched

    def app_namespace_permitted(self, app_namespace: str, control_namespace: str) -> bool:
        """``IsAppNamespacePermitted``."""
        if app_namespace in ("", control_namespace):
            return True
        return match_in_list(self.source_namespaces, app_namespace)

    def kind_permitted(self, group: str, kind: str, name: str, namespaced: bool) -> bool:
        """``IsGroupKindNamePermitted``."""
        if namespaced:
            white = self.namespace_whitelist
            listed = white is None or (len(white) > 0 and _in_list(white, group, kind, ""))
            return listed and not _in_list(self.namespace_blacklist, group, kind, "")
        return _in_list(self.cluster_whitelist, group, kind, name) and \
            not _in_list(self.cluster_blacklist, group, kind, name)


def _glob_neg(pattern: str, value: str, separators: str = "") -> bool:
    """``globMatch(pattern, value, true, separators...)``."""
    if pattern.startswith("!"):
        return not glob_match(pattern[1:], value, separators)
    return pattern == "*" or glob_match(pattern, value, separators)


def _in_list(items: tuple[ResourceItem, ...], group: str, kind: str, name: str) -> bool:
    """``isResourceInList`` / ``isNamedResourceInList`` (filepath.Match)."""
    for it in items:
        if path_match(it.kind, kind) and path_match(it.group, group) and \
                (not it.name or path_match(it.name, name)):
            return True
    return False


def normalize_git_url(repo: str) -> str:
    """``util/git.NormalizeGitURL``: lower case, scp-style SSH as ``host/path``, no ``.git``,
    then Go's ``url.Parse(...).String()``, which escapes a path holding characters a URL path
    may not (``{``, ``}``, spaces): ``${GIT_ORG}`` becomes ``$%7Bgit_org%7D`` on both sides."""
    repo = repo.strip().lower()
    if _SSH.match(repo) and not repo.startswith("ssh://"):
        repo = "ssh://" + repo.replace(":", "/", 1)
    repo = repo.removesuffix(".git")
    return _go_url_string(repo).removeprefix("ssh://")


_AUTHORITY = re.compile(r"^[a-z][a-z0-9+.-]*://[^/?#]*")
_PATH_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                     "-_.~$&+,/:;=@")
_ENCODED_OK = _PATH_OK | frozenset("!'()*[]%")


def _go_url_string(url: str) -> str:
    """The path part as Go's ``URL.EscapedPath`` writes it: kept when every character may
    stand in an escaped path, else unescaped and escaped again (net/url)."""
    m = _AUTHORITY.match(url)
    head = m.group(0) if m else ""
    rest = url[len(head):]
    cut = min([i for i in (rest.find("?"), rest.find("#")) if i >= 0], default=len(rest))
    path, tail = rest[:cut], rest[cut:]
    if all(c in _ENCODED_OK for c in path):
        return url
    raw = re.sub(r"%([0-9a-fA-F]{2})", lambda e: chr(int(e.group(1), 16)), path)
    escaped = "".join(c if c in _PATH_OK else "".join(f"%{b:02X}" for b in c.encode())
                      for c in raw)
    return head + escaped + tail


STOCK_DEFAULT = Project(
    name=DEFAULT_PROJECT, source_repos=("*",), destinations=(Destination("*", "", "*"),),
    cluster_whitelist=(ResourceItem("*", "*"),),
    origin="created by argocd-server at start-up when absent")


# -- reading ----------------------------------------------------------------------------------
def _strs(value: Any) -> tuple[str, ...] | str:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return "is not a list of strings"
    return tuple(value)


def _items(value: Any, key: str, named: bool) -> tuple[ResourceItem, ...] | str:
    if not isinstance(value, list):
        return f"spec.{key} is not a list"
    out = []
    for i, v in enumerate(value):
        if not isinstance(v, dict):
            return f"spec.{key}[{i}] is not a mapping"
        vals: list[str] = []
        for k in ("group", "kind", "name"):
            x = v.get(k)
            if x is not None and not isinstance(x, str):
                return f"spec.{key}[{i}]: group, kind and name are strings"
            vals.append(x or "")
        out.append(ResourceItem(vals[0], vals[1], vals[2] if named else ""))
    return tuple(out)


def parse_project(data: Any, origin: str, file: str = "", line: int = 0, app: str = ""
                  ) -> Project | str:
    """One AppProject document -> Project, or why it cannot be one."""
    meta = data.get("metadata") if isinstance(data, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    if not isinstance(name, str) or not name:
        return f"{origin}: AppProject without metadata.name: add it"
    spec = data.get("spec") or {}
    if not isinstance(spec, dict):
        return f"{origin}: spec of AppProject {name} is not a mapping: fix it"
    repos = _strs(spec.get("sourceRepos"))
    namespaces = _strs(spec.get("sourceNamespaces"))
    for key, got in (("sourceRepos", repos), ("sourceNamespaces", namespaces)):
        if isinstance(got, str):
            return f"{origin}: spec.{key} of AppProject {name} {got}: fix it"
    raw_dest = spec.get("destinations") or []
    if not isinstance(raw_dest, list) or not all(isinstance(d, dict) for d in raw_dest):
        return f"{origin}: spec.destinations of AppProject {name} is not a list of mappings"
    dests = tuple(Destination(*(str(d.get(k) or "") for k in ("server", "name", "namespace")))
                  for d in raw_dest)
    lists: dict[str, Any] = {}
    for key, named in (("clusterResourceWhitelist", True), ("clusterResourceBlacklist", True),
                       ("namespaceResourceWhitelist", False),
                       ("namespaceResourceBlacklist", False)):
        value = spec.get(key)
        if value is None:
            lists[key] = None
            continue
        items = _items(value, key, named)
        if isinstance(items, str):
            return f"{origin}: {items} in AppProject {name}: fix it"
        lists[key] = items
    orphaned = spec.get("orphanedResources")
    ns = meta.get("namespace") if isinstance(meta, dict) else ""
    return Project(
        name=name, namespace=ns if isinstance(ns, str) else "",
        source_repos=repos if isinstance(repos, tuple) else (),
        destinations=dests,
        source_namespaces=namespaces if isinstance(namespaces, tuple) else (),
        cluster_whitelist=lists["clusterResourceWhitelist"] or (),
        cluster_blacklist=lists["clusterResourceBlacklist"] or (),
        namespace_whitelist=lists["namespaceResourceWhitelist"],
        namespace_blacklist=lists["namespaceResourceBlacklist"] or (),
        project_scoped_clusters_only=spec.get("permitOnlyProjectScopedClusters") is True,
        orphaned_warn=isinstance(orphaned, dict) and orphaned.get("warn") is True,
        origin=origin, app=app, file=file, line=line)


def is_project(data: Any) -> bool:
    return isinstance(data, dict) and data.get("kind") == "AppProject" and \
        isinstance(data.get("apiVersion"), str) and data["apiVersion"].startswith("argoproj.io/")


def read_projects_file(path: str | Path) -> tuple[Project, ...]:
    """``--projects FILE``: every AppProject of a multi-document YAML file (``kind: List``
    items too), through the hardened reader. No AppProject at all is an input error."""
    display = str(path)
    todo = "pass AppProjects (kubectl get appprojects -n argocd -o yaml)"
    try:
        docs, _, problem = read_documents(Path(path), display)
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc})", file=display,
                         todo=todo) from None
    if problem:
        raise problem.input_error()
    out: list[Project] = []
    for d in docs:
        if d.error:
            raise d.error.input_error()
        for item, data in expand(d.data):
            if not is_project(data):
                continue
            where = f"{display}:{d.line}" + (f": item {item}" if item >= 0 else "")
            got = parse_project(data, where, display, d.line)
            if isinstance(got, str):
                raise InputError(got.partition(": ")[2], file=display, line=d.line, todo=todo)
            out.append(got)
    if not out:
        raise InputError("no AppProject in the file", file=display, todo=todo)
    return tuple(out)


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
