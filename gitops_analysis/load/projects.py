"""AppProjects as Argo CD reads them: the model, Argo CD's matching, and ``--projects FILE``.

- ``--projects FILE``: multi-document YAML (or ``kubectl get appprojects -o yaml``'s List)
  for projects that live outside the repository (:func:`read_projects_file`);
- ``default``: argocd-server creates it at start-up when absent (``server/server.go``
  ``initializeDefaultProject``) with every repository, destination and cluster-scoped kind
  (:data:`STOCK_DEFAULT`).

The projects of a dataset (``apps/``, rendered output, project-scoped Secrets) are read by
:mod:`gitops_analysis.load.argo_objects`.

The matching methods follow ``pkg/apis/application/v1alpha1/app_project_types.go`` (v3.5.1):
``IsSourcePermitted``, ``isDestinationMatched``, ``IsGroupKindNamePermitted``,
``IsAppNamespacePermitted``; see ``docs/notes/argocd-conditions.md`` §C.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_analysis.core.errors import InputError
from gitops_analysis.core.globs import glob_match, match_in_list, path_match
from gitops_analysis.load.manifests import expand
from gitops_analysis.load.yaml_reader import read_documents

DEFAULT_PROJECT = "default"
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
