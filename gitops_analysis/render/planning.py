"""What one Application source needs before it is rendered, decided as Argo CD decides it.

Nothing here runs a renderer. For one source this module

- resolves its repository (``repoURL`` -> a local folder, or ``external``);
- merges ``.argocd-source.yaml`` / ``.argocd-source-<app>.yaml`` as Argo CD's repo server does;
- decides its type (``reposerver/repository/repository.go`` ``GetAppSourceType``: an explicit
  ``kustomize:``/``helm:``/``directory:``/``plugin:`` key, else the files directly in the path:
  a kustomization file -> kustomize, a file named ``*Chart.yaml`` -> helm, the later name in
  sorted order winning, else a plain directory);
- hands the source to its type's planner (:mod:`~gitops_analysis.render.kustomization`,
  :mod:`~gitops_analysis.render.helm`, :mod:`~gitops_analysis.render.directory`), which lists
  every file the render can read and refuses what leaves the repository or is remote.

Every path kept is relative to its repository root, with symbolic links resolved, so nothing
absolute leaks into outputs or cache keys.
"""

from __future__ import annotations

import os
from typing import Any

from gitops_analysis.core.paths import inside, relative
from gitops_analysis.render.directory import plan_directory
from gitops_analysis.render.helm_plan import plan_chart, plan_helm
from gitops_analysis.render.kustomization import KUSTOMIZATION_FILES, plan_kustomize
from gitops_analysis.render.reading import mapping, read_single
from gitops_analysis.render.repositories import url_key
from gitops_analysis.render.results import Refused, SourcePlan, repo_server_error

_EXPLICIT = (("kustomize", "Kustomize"), ("helm", "Helm"), ("directory", "Directory"),
             ("plugin", "Plugin"))


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (what ``jsonpatch.MergePatch`` does in Argo CD)."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = _merge_patch(out.get(k), v)
    return out


def merge_source_parameters(source: dict[str, Any], app_dir: str, app_name: str,
                            real_root: str) -> dict[str, Any]:
    """Argo CD's ``mergeSourceParameters``: ``.argocd-source.yaml`` then ``-<app>.yaml``."""
    merged = dict(source)
    for name in (".argocd-source.yaml", f".argocd-source-{app_name}.yaml"):
        path = os.path.join(app_dir, name)
        if not os.path.isfile(path):
            continue
        if not inside(os.path.realpath(path), real_root):
            raise Refused("escaped", f"{relative(os.path.abspath(path), real_root)}: symbolic "
                          "link that leaves the repository: refused; copy the file into it")
        rel = relative(path, real_root)
        read = read_single(path, rel)
        if not isinstance(read, tuple):
            raise Refused("failed", read.message)
        patch = read[1]
        if patch is None:
            continue
        if not isinstance(patch, dict):
            raise Refused("failed", f"{rel}: not a mapping of source parameters: fix the file")
        merged = _merge_patch(merged, patch)
    for key in ("chart", "path", "repoURL", "targetRevision"):
        if key in source:
            merged[key] = source[key]
        else:
            merged.pop(key, None)
    return merged


def explicit_type(source: dict[str, Any]) -> str | None:
    """``ApplicationSource.ExplicitType()``; several -> Refused like Argo CD's error."""
    found = [(t, go) for t, go in _EXPLICIT if source.get(t) is not None]
    if len(found) > 1:
        raise Refused("failed", "multiple application sources defined: " +
                      ",".join(go for _, go in found) + ": keep one of " +
                      "/".join(t + ":" for t, _ in found), "unknown")
    return found[0][0] if found else None


def discovered_type(app_dir: str) -> str:
    """``discovery.AppType``: the files directly in the app path (sorted; the last match wins)."""
    kind = "directory"
    try:
        names = sorted(os.listdir(app_dir))
    except OSError:
        return kind
    for name in names:
        if os.path.isdir(os.path.join(app_dir, name)) and \
                not os.path.islink(os.path.join(app_dir, name)):
            continue
        if name.endswith("Chart.yaml"):
            kind = "helm"
        if name in KUSTOMIZATION_FILES:
            kind = "kustomize"
    return kind


def _app_path(root: str, path: str, explicit: str | None, guessed: str = "") -> str:
    """The real path of the app's folder; Refused when it leaves the repository or is none.
    ``guessed``: the repoURL REPO was only taken to be (render.repositories.roots)."""
    kind = explicit or "unknown"
    target = os.path.normpath(os.path.join(root, path.lstrip("/")))
    if not inside(target, root):
        raise Refused("escaped", f"path {path} leaves the repository: refused; point the "
                      "app at a folder inside the repository", kind)
    if not os.path.lexists(target) and guessed:
        # nothing says REPO is that repository, and no app finds its path in it: the guess is
        # wrong, not Argo CD's render
        raise Refused("external", f"{path}: not in REPO, which was taken for {guessed} (it has "
                      f"no origin remote): pass --repo-map {guessed}=DIR to render it", kind)
    if not os.path.lexists(target):
        # util/app/path/path.go Path(): "%s: %w" with ErrAppPathDoesNotExist
        raise Refused("failed", f"{path or '.'}: app path does not exist: fix spec.source.path "
                      "or add the folder", kind,
                      failure=repo_server_error(f"{path}: app path does not exist", "path"))
    real = os.path.realpath(target)
    if not inside(real, root):
        raise Refused("escaped", f"path {path} is a symbolic link that leaves the repository: "
                      "refused; point the app at a folder inside the repository", kind)
    if not os.path.isdir(real):
        raise Refused("failed", f"{path}: app path is not a directory: point spec.source.path "
                      "at a folder", kind,
                      failure=repo_server_error(f"{path}: app path is not a directory", "path"))
    return real


def plan_source(source: Any, index: int, *, app_name: str, dest_namespace: str,
                roots: dict[str, str], ref_sources: dict[str, str | None],
                allow_remote: bool, chart_cache: str = "") -> SourcePlan:
    """Decide everything about one source; never raises (a refusal becomes the plan's status)."""
    if not isinstance(source, dict):
        return SourcePlan(index, "", status="failed",
                          message=f"spec.sources[{index}] is not a mapping: fix the Application")
    path = "" if source.get("path") is None else str(source.get("path"))
    chart = str(source.get("chart") or "")
    repo_url = str(source.get("repoURL") or "")
    plan = SourcePlan(index, path or chart)
    if source.get("ref") and not path and not chart:
        plan.skip = True  # values only: Argo CD renders nothing from it
        return plan
    try:
        explicit = explicit_type(source)
        if chart:
            if not repo_url:
                raise Refused("external", f"chart {chart}: no repoURL: Argo CD cannot fetch "
                              "it; set spec.source.repoURL to the chart's Helm repository",
                              "helm")
            plan_chart(plan, source, app_name, dest_namespace, ref_sources, allow_remote)
            return plan
        root = roots.get(url_key(repo_url)) if repo_url else None
        if root is None:
            raise Refused("external", f"{repo_url or '(no repoURL)'} is not the repository "
                          f"rendered: pass --repo-map {repo_url or 'URL'}=DIR to render it",
                          explicit or "unknown")
        plan.root = root
        guessed = repo_url if url_key(repo_url) in getattr(roots, "guessed", ()) else ""
        real = _app_path(root, path, explicit, guessed)
        plan.path = relative(real, root)
        source = merge_source_parameters(source, real, app_name, root)
        kind = explicit_type(source) or discovered_type(real)
        if kind == "plugin":
            name = mapping(source.get("plugin")).get("name") or "(discovered)"
            raise Refused("unsupported", f"config-management plugin {name} is not run by "
                          "gitops-analysis: render the app with the plugin and commit the "
                          "output as a plain directory", "plugin")
        if kind == "kustomize":
            plan_kustomize(plan, root, real, source, allow_remote, chart_cache)
        elif kind == "helm":
            plan_helm(plan, root, real, source, app_name, dest_namespace, ref_sources,
                      allow_remote)
        else:
            plan_directory(plan, root, real, mapping(source.get("directory")))
    except Refused as r:
        plan.status, plan.message, plan.failure = r.status, r.message, r.failure
        if plan.type == "unknown":
            plan.type = r.type
    return plan
