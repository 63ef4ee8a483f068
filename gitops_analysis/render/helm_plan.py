"""A Helm source planned as Argo CD's repo server plans it (``helmTemplate`` and
``getResolvedValueFiles`` in ``reposerver/repository/repository.go``, v3.5.1).

- release name: ``helm.releaseName``, else the app's name; namespace: ``helm.namespace``, else
  the destination namespace; ``helm.kubeVersion`` and ``helm.apiVersions`` for
  ``.Capabilities`` (Argo CD otherwise passes the cluster's; nothing is passed here);
- ``valueFiles`` in order: relative to the chart folder, ``/x`` relative to the repository root,
  ``$ref/x`` inside the source with ``ref: ref`` (multi-source apps), ``http(s)://`` URLs only
  with ``--allow-remote``; globs expanded in lexical order with an explicitly listed file kept
  at its own position, duplicates dropped; a missing file or a glob with no match skipped with
  ``ignoreMissingValueFiles``;
- ``values`` / ``valuesObject`` (``valuesObject`` wins) as the last values file;
- ``parameters`` (``--set``, or ``--set-string`` with ``forceString``) and ``fileParameters``
  (``--set-file``), values run through Argo CD's ``Envsubst`` (``$ARGOCD_APP_NAME``, ...);
- ``skipCrds``, ``skipSchemaValidation``, ``skipTests``;
- a chart from a Helm repository or OCI registry (``chart`` + ``repoURL`` + ``targetRevision``):
  pulled at build time (:mod:`~gitops_analysis.render.helm_remote`), its value files then
  resolved inside the chart.

Every local file the render reads is listed in the plan; one that leaves its repository is
refused (``escaped``).
"""

from __future__ import annotations

import glob
import json
import os
import re
from typing import Any

from gitops_analysis.core.paths import inside, relative
from gitops_analysis.render.files import collect_files
from gitops_analysis.render.reading import mapping, read_single, strings
from gitops_analysis.render.results import Refused, SourcePlan

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_GLOB = re.compile(r"[*?\[]")
_KUBE_VERSION = re.compile(r"^\s*v?([0-9]+(?:\.[0-9]+)*)")


def envsubst(text: str, env: dict[str, str]) -> str:
    """Argo CD ``Env.Envsubst`` (Go ``os.Expand``): ``$X`` and ``${X}`` replaced by their value
    ("" for an unknown name), ``$$`` is ``$``."""
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch != "$" or i + 1 == len(text):
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "{":
            end = text.find("}", i + 2)
            if end < 0 or end == i + 2:  # bad syntax: Go eats the characters
                i = len(text) if end < 0 else end + 1
                continue
            out.append(env.get(text[i + 2:end], ""))
            i = end + 1
        elif nxt in "*#$@!?-" or nxt.isdigit():
            out.append("$" if nxt == "$" else env.get(nxt, ""))
            i += 2
        else:
            m = _NAME.match(text, i + 1)
            if m is None:
                out.append("$")  # not followed by a name: the dollar stays
                i += 1
            else:
                out.append(env.get(m.group(0), ""))
                i = m.end()
    return "".join(out)


def argocd_env(app_name: str, dest_namespace: str, source: dict[str, Any]) -> dict[str, str]:
    """The variables Argo CD's ``newEnv`` sets that are known without a cluster or a commit."""
    return {"ARGOCD_APP_NAME": app_name, "ARGOCD_APP_NAMESPACE": dest_namespace,
            "ARGOCD_APP_SOURCE_REPO_URL": str(source.get("repoURL") or ""),
            "ARGOCD_APP_SOURCE_PATH": str(source.get("path") or ""),
            "ARGOCD_APP_SOURCE_TARGET_REVISION": str(source.get("targetRevision") or "")}


def _stays_inside(real_root: str, target: str) -> bool:
    return inside(target, real_root) and inside(os.path.realpath(target), real_root)


class _Values:
    """``valueFiles`` resolved to (kind, path): ``repo`` (relative to the plan's root),
    ``chart`` (relative to a pulled chart, resolved at build time) or ``url``."""

    def __init__(self, helm: dict[str, Any], env: dict[str, str], ref_roots: dict[str, str | None],
                 allow_remote: bool) -> None:
        self.helm, self.env, self.ref_roots, self.allow_remote = helm, env, ref_roots, allow_remote
        self.ignore_missing = helm.get("ignoreMissingValueFiles") is True
        self.root = ""  # the local repository every ``repo`` file is in
        self.files: list[tuple[str, str]] = []
        self.extra: list[str] = []  # absolute paths the render reads
        self.remote: list[str] = []

    def _use_root(self, root: str, what: str) -> None:
        if self.root and self.root != root:
            raise Refused("unsupported", f"helm.valueFiles {what}: values from another "
                          "repository than the source's are not rendered: keep the values in "
                          "one repository", "helm")
        self.root = root

    def ref(self, vf: str) -> tuple[str, str]:
        """(root, absolute path) of a ``$ref/...`` value file."""
        name = vf.split("/", 1)[0][1:]
        if name not in self.ref_roots:
            raise Refused("failed", f"helm.valueFiles {vf}: no source with ref: {name}: add "
                          "it to spec.sources", "helm")
        other = self.ref_roots[name]
        if other is None:
            raise Refused("external", f"helm.valueFiles {vf}: the ref source {name} is not a "
                          "local repository: pass --repo-map URL=DIR to render it", "helm")
        self._use_root(other, vf)
        rest = envsubst(vf.split("/", 1)[1], self.env) if "/" in vf else "."
        return other, os.path.normpath(os.path.join(other, rest))

    def resolve(self, app_root: str | None, app_dir: str | None) -> None:
        """Every valueFile; ``app_root``/``app_dir`` None for a chart pulled at build time."""
        raw = strings(self.helm.get("valueFiles"))
        explicit = set()
        for vf in raw:
            if not vf.startswith("$") and not _GLOB.search(vf):
                explicit.add(envsubst(vf, self.env))
        seen: set[tuple[str, str]] = set()
        for vf in raw:
            for item in self._one(vf, app_root, app_dir, explicit):
                if item not in seen:
                    seen.add(item)
                    self.files.append(item)

    def _one(self, vf: str, app_root: str | None, app_dir: str | None,
             explicit: set[str]) -> list[tuple[str, str]]:
        if vf.startswith("$") and vf.split("/", 1)[0][1:] in self.ref_roots:
            root, target = self.ref(vf)
        else:
            vf_sub = envsubst(vf, self.env)
            if vf_sub.lower().startswith(("http://", "https://")):
                if not self.allow_remote:
                    raise Refused("remote", f"helm.valueFiles {vf}: not fetched (offline): pass "
                                  "--allow-remote to fetch it", "helm")
                self.remote.append(vf_sub)
                return [("url", vf_sub)]
            if vf.startswith("$"):
                raise Refused("failed", f"helm.valueFiles {vf}: no source with ref: "
                              f"{vf.split('/', 1)[0][1:]}: add it to spec.sources", "helm")
            if app_root is None or app_dir is None:  # inside a chart pulled later
                rel = os.path.normpath(vf_sub.lstrip("/"))
                if rel.startswith(".."):
                    raise Refused("escaped", f"helm.valueFiles {vf} leaves the chart: refused; "
                                  "keep the values file inside the chart", "helm")
                return [("chart", rel)]
            root = app_root
            self._use_root(root, vf)
            target = os.path.normpath(os.path.join(root, vf_sub.lstrip("/")) if
                                      vf_sub.startswith("/") else os.path.join(app_dir, vf_sub))
        if not inside(target, root):
            raise Refused("escaped", f"helm.valueFiles {vf} leaves the repository: refused; "
                          "keep the values file inside the repository", "helm")
        if _GLOB.search(target):
            matches = sorted(glob.glob(target, recursive=True))
            if not matches:
                if self.ignore_missing:
                    return []
                raise Refused("failed", f"helm.valueFiles {vf}: values file glob {vf!r} matched "
                              "no files: fix the pattern or set ignoreMissingValueFiles", "helm")
            explicit_abs = {os.path.normpath(os.path.join(app_dir or root, e)) for e in explicit}
            out = []
            for m in matches:
                if not _stays_inside(root, m):
                    raise Refused("escaped", f"helm.valueFiles {vf}: {relative(m, root)} leaves "
                                  "the repository: refused", "helm")
                if m not in explicit_abs and os.path.isfile(m):
                    self.extra.append(m)
                    out.append(("repo", relative(m, root)))
            return out
        if not _stays_inside(root, target):
            raise Refused("escaped", f"helm.valueFiles {vf} leaves the repository: refused; "
                          "keep the values file inside the repository", "helm")
        if not os.path.exists(target) and self.ignore_missing:
            return []
        self.extra.append(target)
        return [("repo", relative(target, root))]


def _file_parameters(helm: dict[str, Any], values: _Values, app_root: str | None,
                     app_dir: str | None) -> list[tuple[str, str, str]]:
    """``helm.fileParameters``: (name, kind, path) like the value files."""
    out: list[tuple[str, str, str]] = []
    params = helm.get("fileParameters")
    for p in params if isinstance(params, list) else []:
        if not isinstance(p, dict) or not isinstance(p.get("path"), str):
            continue
        path = p["path"]
        if path.startswith("$") and path.split("/", 1)[0][1:] in values.ref_roots:
            root, target = values.ref(path)
        elif app_root is None or app_dir is None:
            rel = os.path.normpath(envsubst(path, values.env).lstrip("/"))
            if rel.startswith(".."):
                raise Refused("escaped", f"helm.fileParameters {path} leaves the chart: "
                              "refused; keep the file inside the chart", "helm")
            out.append((str(p.get("name", "")), "chart", rel))
            continue
        else:
            root = app_root
            values._use_root(root, path)
            sub = envsubst(path, values.env)
            target = os.path.normpath(os.path.join(root, sub.lstrip("/")) if sub.startswith("/")
                                      else os.path.join(app_dir, sub))
        if not _stays_inside(root, target):
            raise Refused("escaped", f"helm.fileParameters {path} leaves the repository: "
                          "refused; keep the file inside the repository", "helm")
        values.extra.append(target)
        out.append((str(p.get("name", "")), "repo", relative(target, root)))
    return sorted(out)


def _dependency_folders(real_root: str, app_dir: str, allow_remote: bool,
                        remote: list[str]) -> list[str]:
    """The folders of the chart's ``file://`` dependencies; a dependency from a repository that
    is not in ``charts/`` is remote (Argo CD runs ``helm dependency build``)."""
    chart_file = os.path.join(app_dir, "Chart.yaml")
    read = read_single(chart_file, relative(chart_file, real_root)) \
        if os.path.isfile(chart_file) else None
    chart = mapping(read[1]) if isinstance(read, tuple) else {}  # helm reports a bad Chart.yaml
    deps = chart.get("dependencies")
    charts_dir = os.path.join(app_dir, "charts")
    present = os.listdir(charts_dir) if os.path.isdir(charts_dir) else []
    folders: list[str] = []
    for dep in deps if isinstance(deps, list) else []:
        if not isinstance(dep, dict):
            continue
        name, repo = str(dep.get("name") or ""), str(dep.get("repository") or "")
        if repo.startswith("file://"):
            target = os.path.normpath(os.path.join(app_dir, repo[len("file://"):]))
            if not _stays_inside(real_root, target):
                raise Refused("escaped", f"{relative(chart_file, real_root)}: dependency {name} "
                              f"({repo}) leaves the repository: refused; keep it inside", "helm")
            folders.append(os.path.realpath(target))
        elif repo and not any(p == name or (p.startswith(name + "-") and p.endswith(".tgz"))
                              for p in present):
            if not allow_remote:
                raise Refused("remote", f"{relative(chart_file, real_root)}: dependency {name} "
                              f"from {repo} is not in charts/: not fetched (offline): pass "
                              "--allow-remote to fetch it", "helm")
            remote.append(repo)
    return folders


def _kube_version(text: str) -> str:
    """Argo CD's ``parseKubeVersion``: ``k8sversion.ParseGeneric(v).String()`` (the ``v`` and a
    vendor suffix dropped: ``v1.29.4-gke.1`` -> ``1.29.4``)."""
    if not text:
        return ""
    m = _KUBE_VERSION.match(text)
    if m is None or "." not in m.group(1):
        raise Refused("failed", f"helm.kubeVersion {text}: could not parse kubernetes version "
                      f"{text}: write it as 1.29 or v1.29.4", "helm")
    return m.group(1)


def _options(helm: dict[str, Any], app_name: str, dest_namespace: str,
             env: dict[str, str]) -> dict[str, Any]:
    values_text = ""
    if isinstance(helm.get("valuesObject"), (dict, list)):
        values_text = json.dumps(helm["valuesObject"], sort_keys=True, ensure_ascii=False) + "\n"
    elif isinstance(helm.get("values"), str) and helm["values"].strip():
        values_text = helm["values"]
    params = helm.get("parameters")
    sets: dict[str, str] = {}
    set_strings: dict[str, str] = {}
    for p in params if isinstance(params, list) else []:
        if isinstance(p, dict) and isinstance(p.get("name"), str):
            value = "" if p.get("value") is None else str(p.get("value"))
            (set_strings if p.get("forceString") is True else sets)[p["name"]] = \
                envsubst(value, env)
    api_versions = strings(helm.get("apiVersions"))
    return {
        "release": str(helm.get("releaseName") or app_name),
        "namespace": str(helm.get("namespace") or dest_namespace or ""),
        "kube_version": _kube_version(str(helm.get("kubeVersion") or "")),
        "api_versions": api_versions,
        "values": values_text,
        "set": sorted(sets.items()),
        "set_string": sorted(set_strings.items()),
        "include_crds": helm.get("skipCrds") is not True,
        "skip_tests": helm.get("skipTests") is True,
        "skip_schema_validation": helm.get("skipSchemaValidation") is True,
    }


def plan_helm(plan: SourcePlan, real_root: str, app_dir: str, source: dict[str, Any],
              app_name: str, dest_namespace: str, ref_roots: dict[str, str | None],
              allow_remote: bool) -> None:
    """A chart folder in a local repository."""
    helm = mapping(source.get("helm"))
    plan.type, plan.renderer = "helm", "helm"
    env = argocd_env(app_name, dest_namespace, source)
    values = _Values(helm, env, ref_roots, allow_remote)
    values.root = real_root
    values.resolve(real_root, app_dir)
    set_files = _file_parameters(helm, values, real_root, app_dir)
    remote = list(values.remote)
    folders = [app_dir, *_dependency_folders(real_root, app_dir, allow_remote, remote)]
    plan.files = collect_files(real_root, folders, values.extra)
    plan.remote = remote
    plan.helm = {**_options(helm, app_name, dest_namespace, env),
                 "value_files": values.files, "set_file": set_files}


def plan_chart(plan: SourcePlan, source: dict[str, Any], app_name: str, dest_namespace: str,
               ref_roots: dict[str, str | None], allow_remote: bool) -> None:
    """A chart from a Helm repository or an OCI registry: pulled at build time (from the chart
    cache, or with ``--allow-remote``)."""
    helm = mapping(source.get("helm"))
    plan.type, plan.renderer = "helm", "helm"
    env = argocd_env(app_name, dest_namespace, source)
    values = _Values(helm, env, ref_roots, allow_remote)
    values.resolve(None, None)
    set_files = _file_parameters(helm, values, None, None)
    plan.root = values.root
    plan.path = "."
    plan.files = collect_files(values.root, [], values.extra) if values.root else {}
    repo_url = str(source.get("repoURL") or "")
    plan.remote = [repo_url, *values.remote]
    plan.helm = {**_options(helm, app_name, dest_namespace, env),
                 "value_files": values.files, "set_file": set_files,
                 "chart": {"repo_url": repo_url, "name": str(source.get("chart") or ""),
                           "version": str(source.get("targetRevision") or "")}}
