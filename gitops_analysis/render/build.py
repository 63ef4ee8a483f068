"""One source built: from the cache, or by its renderer in a temporary copy of its files.

Builds are cached by content in the one cache (:mod:`gitops_analysis.load.cache`, kind
``render``): the key covers every file the build reads (for Helm: the chart's files, its
``charts/*.tgz`` and every values file), the renderer, its engine and version, and the options
(for Helm every ``helm template`` option of the plan); a build with a remote reference (a chart
pulled from a repository, a remote values file or base) is never cached (what it fetches can
change).
Renderer messages name no temporary or absolute path.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass

from gitops_analysis.load import cache
from gitops_analysis.render.directory import VERSION as DIRECTORY_VERSION
from gitops_analysis.render.directory import render_directory
from gitops_analysis.render.fetch import fetch_cause, fetch_message
from gitops_analysis.render.files import copy_tree
from gitops_analysis.render.helm import NO_HELM, Helm, render_helm
from gitops_analysis.render.helm_remote import unpack
from gitops_analysis.render.helm_values import HelmFailure
from gitops_analysis.render.kustomization import add_origin_annotations
from gitops_analysis.render.kustomize import NO_KUSTOMIZE, Kustomize, KustomizeError
from gitops_analysis.render.results import Built, SourcePlan, one_line, repo_server_error

_CACHE_KIND = "render"


@dataclass
class Context:
    """What every build of a run shares."""

    kustomize: Kustomize | None
    helm: Helm | None
    roots: dict[str, str]  # url_key -> real path of the local repository
    allow_remote: bool
    timeout: float  # seconds, for all the builds of one app
    use_cache: bool
    digests: cache.FileDigests


def _sanitize(message: str, paths: list[str]) -> str:
    """Temporary and repository paths out of a renderer's message: relative paths only."""
    variants = {v for p in paths if p for v in (p, os.path.realpath(p))}
    for p in sorted(variants, key=len, reverse=True):
        message = message.replace(p + os.sep, "").replace(p, ".")
    return one_line(message)


def _cache_key(plan: SourcePlan, ctx: Context, renderer: str, version: str) -> str | None:
    if plan.remote or not ctx.use_cache:
        return None  # what a remote reference holds can change: never cached
    files = []
    for rel, (kind, payload) in sorted(plan.files.items()):
        files.append([rel, kind, payload if kind == "link" else
                      ctx.digests(os.path.join(plan.root, rel))])
    engine = ctx.kustomize.engine if renderer == "kustomize" and ctx.kustomize else "binary"
    uses_helm = ctx.helm is not None and (plan.needs_helm or renderer == "helm")
    helm_version = f"{ctx.helm.engine} {ctx.helm.version}" if uses_helm and ctx.helm else ""
    if renderer == "helm" and ctx.helm is not None:
        engine = ctx.helm.engine
    material = {"renderer": renderer, "version": version, "engine": engine,
                "options": {"origin_annotations": True, "load_restrictions": "RootOnly",
                            "enable_helm": plan.needs_helm, "helm": helm_version},
                "path": plan.path, "kustomization": plan.kustomization, "helm": plan.helm,
                "files": files}
    blob = json.dumps(material, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return cache.key(_CACHE_KIND, hashlib.sha256(blob).hexdigest())


def _from_cache(key: str) -> Built | None:
    hit = cache.get(_CACHE_KIND, key)
    if hit is None:
        return None
    data, meta = hit
    if meta.get("status") not in ("ok", "failed"):
        return None
    failure = meta.get("failure")
    return Built(str(meta["status"]), data.decode("utf-8") if meta.get("has_text") else None,
                 str(meta.get("message", "")), cached=True,
                 failure=failure if isinstance(failure, dict) else None)


def _to_cache(key: str, built: Built) -> None:
    cache.put(_CACHE_KIND, key, (built.text or "").encode("utf-8"),
              {"status": built.status, "message": built.message,
               "has_text": built.text is not None, "failure": built.failure})


def _build_kustomize(plan: SourcePlan, ctx: Context, base: str, tmp: str,
                     deadline: float) -> Built:
    assert ctx.kustomize is not None  # checked by the caller
    if plan.kustomization:
        add_origin_annotations(os.path.join(base, plan.kustomization))
    for home, archive in plan.cached_charts:
        # a helmCharts chart from --chart-cache, where kustomize looks before it pulls: no
        # network, and the same for a helm binary (which knows no chart cache)
        try:
            chart = unpack(archive, tempfile.mkdtemp(prefix="cached-chart-", dir=tmp))
        except HelmFailure as exc:
            return Built("failed", message=f"--chart-cache {archive}: {exc}: remove it from "
                         "the chart cache")
        target = os.path.join(base, home)
        os.makedirs(target, exist_ok=True)
        if not os.path.exists(os.path.join(target, os.path.basename(chart))):
            shutil.move(chart, target)
    helm_command = ""
    if plan.needs_helm and ctx.helm is not None:  # helmCharts: through the same Helm
        os.makedirs(os.path.join(tmp, "bin"), exist_ok=True)
        helm_command = ctx.helm.command(os.path.join(tmp, "bin"), ctx.allow_remote)
    try:
        text = ctx.kustomize.build(os.path.join(base, plan.path), cwd=base,
                                   timeout=deadline - time.monotonic(),
                                   enable_helm=plan.needs_helm, helm_command=helm_command)
    except KustomizeError as exc:
        # util/kustomize/kustomize.go runs the binary; util/exec CmdError: "`%v` failed %v: %s"
        detail = _helm_shim_text(
            str(exc).removeprefix("kustomize build failed: ").removeprefix("Error: "))
        cause = fetch_cause(detail) if _fetching(plan, detail) else None
        if cause:  # our network or credentials, not the repository: a coverage gap
            return Built("fetch-failed", message=fetch_message(
                cause, "a remote base or helm chart of the kustomization", detail,
                chart="pull --untar" in detail))
        command = f"kustomize build <path to cached source>/{plan.path}"
        return Built("failed", message=_helm_shim_text(str(exc)), failure=repo_server_error(
            f"`{command}` failed exit status 1: Error: {detail}", "kustomize"))
    return Built("ok", text)


def _fetching(plan: SourcePlan, detail: str) -> bool:
    """Whether a kustomize error is about a fetch: it names a remote reference of the plan,
    or the ``helm pull`` of a helmCharts entry."""
    return "pull --untar" in detail or any(r and r in detail for r in plan.remote)


_SHIM_ENV = re.compile(r" with env=\[[^\]]*\]")
_SHIM_INSTALLED = re.compile(r" \(is '[^']*' installed\?\)")
_SHIM_PATH = re.compile(r"'(?:[^' ]*/)?bin/helm ")


def _helm_shim_text(text: str) -> str:
    """kustomize's text for a helm command that failed, without what names our helm shim:
    its environment (temporary folders) and "(is 'bin/helm' installed?)", which blames the
    user for a helm that is there and ran (its own error comes first)."""
    text = _SHIM_ENV.sub("", _SHIM_INSTALLED.sub("", text))
    return _SHIM_PATH.sub("'helm ", text)


def execute(plan: SourcePlan, ctx: Context, deadline: float) -> tuple[Built, str, str]:
    """Render one source by ``deadline`` (``time.monotonic``): (result, renderer, version)."""
    renderer = plan.renderer or (plan.type if plan.type in ("kustomize", "helm", "directory")
                                 else "")
    version = {"kustomize": ctx.kustomize.version if ctx.kustomize else "",
               "helm": ctx.helm.version if ctx.helm else "",
               "directory": DIRECTORY_VERSION}.get(renderer, "")
    if renderer == "kustomize" and plan.needs_helm and ctx.helm is not None:
        version = f"{version}; helm {ctx.helm.version}"
    if plan.status != "ok":
        return Built(plan.status, message=plan.message, failure=plan.failure), renderer, version
    if plan.renderer == "directory":
        return render_directory(plan), renderer, version
    if plan.renderer == "kustomize" and ctx.kustomize is None:
        return Built("unsupported", message=NO_KUSTOMIZE), renderer, version
    if (plan.renderer == "helm" or plan.needs_helm) and ctx.helm is None:
        return Built("unsupported", message=NO_HELM), "helm", version
    key = _cache_key(plan, ctx, renderer, version)
    hit = _from_cache(key) if key else None
    if hit is not None:
        return hit, renderer, version
    tmp = tempfile.mkdtemp(prefix="gitops-analysis-render-")
    base = os.path.join(tmp, "repo")
    try:
        copy_tree(plan, base)
        if ctx.kustomize is not None and plan.renderer == "kustomize":
            built = _build_kustomize(plan, ctx, base, tmp, deadline)
        else:
            assert ctx.helm is not None  # checked above
            built = render_helm(plan, ctx.helm, base, tmp, deadline, ctx.allow_remote)
    except TimeoutError:
        return Built("failed", message=f"timed out after {ctx.timeout:g} s: the render was "
                                       "stopped; raise --timeout if it needs longer"), \
            renderer, version
    except RuntimeError as exc:  # a worker process that died
        return Built("failed", message=one_line(str(exc))), renderer, version
    except OSError as exc:  # a file that cannot be read or copied
        where = _sanitize(str(exc.filename or ""), [base, tmp, plan.root])
        return Built("failed", message=f"{where}: cannot be read ({exc.strerror}): check the "
                                       "file"), renderer, version
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    built.message = _sanitize(built.message, [base, tmp, plan.root])
    if built.failure and built.failure.get("kind") == "kustomize":
        # the repo server's sanitizer writes its checkout root as <path to cached source>
        text = str(built.failure["message"])
        for root in sorted({v for p in (base, plan.root) for v in (p, os.path.realpath(p))},
                           key=len, reverse=True):
            text = text.replace(root, "<path to cached source>")
        built.failure = {**built.failure, "message": one_line(text)}

    if key and built.status in ("ok", "failed"):
        _to_cache(key, built)
    return built, renderer, version
