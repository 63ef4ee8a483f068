"""Both revisions rendered by ``render`` itself, the second one only where the change can reach.

Each revision goes through :func:`~gitops_analysis.render.run.render_repository` (discovery,
ApplicationSets, app-of-apps, the dataset writer, the shared render cache), with one app's
render wrapped: at the first revision it is kept (its Application, result and output); at the
second, an app is rendered again only when the change can have touched it: its Application
differs, the plan of one of its sources (render's source planning, the same at both revisions
but for the folder) differs, lists a file that changed, or has a remote reference, or the first
render failed. Every other app keeps the first revision's output, byte for byte. What a plan
lists is every file its render reads (:attr:`SourcePlan.files`), so an app the changed files
do not feed renders the same.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

from gitops_analysis.render.build import Context
from gitops_analysis.render.discovery import AppInput, sources_of
from gitops_analysis.render.planning import plan_source
from gitops_analysis.render.reading import mapping
from gitops_analysis.render.repositories import RepoMap, url_key
from gitops_analysis.render.results import AppRender, RenderReport, SourcePlan
from gitops_analysis.render.run import render_app, render_repository


@dataclass
class Output:
    """What one app rendered to at a revision."""

    content: bytes  # the Application as written to apps/
    result: AppRender
    text: str | None


@dataclass
class Rendered:
    """One revision rendered into a dataset folder."""

    dataset: Path
    report: RenderReport | None = None
    outputs: dict[str, Output] = field(default_factory=dict)
    roots: dict[str, str] = field(default_factory=dict)
    reused: list[str] = field(default_factory=list)  # apps whose output the other side gave

    @property
    def rendered(self) -> list[str]:
        return sorted(set(self.outputs) - set(self.reused))


@dataclass(frozen=True)
class Reuse:
    """The other revision, and the files (relative to REPO) that differ from it."""

    other: Rendered
    changed: frozenset[str]


@dataclass(frozen=True)
class Options:
    """``render``'s options, the same for both revisions."""

    allow_remote: bool = False
    jobs: int | None = None
    use_cache: bool = True
    timeout: float = 120
    kustomize: str = "auto"
    helm: str = "auto"
    chart_cache: str | Path | None = None
    clusters: str | Path | None = None
    argocd_namespace: str | None = None  # given (recorded by render), else argocd


def _plan_key(plan: SourcePlan) -> tuple:
    """A plan without its folder: equal at both revisions when the render reads the same."""
    return (plan.index, plan.label, plan.type, plan.status, plan.message, plan.renderer,
            plan.skip, plan.path, tuple(sorted(plan.files.items())), plan.kustomization,
            plan.needs_helm, tuple(plan.remote), repr(sorted(plan.helm.items())),
            tuple(plan.directory_files))


def _plans(app: AppInput, source_roots: dict[str, str], allow_remote: bool) -> list[SourcePlan]:
    """The plans of every source of an app, as render_app makes them."""
    spec = mapping(app.data.get("spec"))
    dest_ns = str(mapping(spec.get("destination")).get("namespace") or "")
    sources = sources_of(app.data)
    refs = {str(s["ref"]): source_roots.get(url_key(str(s.get("repoURL") or "")))
            for s in sources if isinstance(s, dict) and s.get("ref")}
    return [plan_source(s, i, app_name=app.name, dest_namespace=dest_ns, roots=source_roots,
                        ref_sources=refs, allow_remote=allow_remote)
            for i, s in enumerate(sources)]


def _reusable(app: AppInput, ctx: Context, reuse: Reuse, folder: str) -> Output | None:
    """The other revision's output of this app when the change cannot reach it, else None."""
    prev = reuse.other.outputs.get(app.key)
    if prev is None or prev.content != app.content or prev.result.status != "ok":
        return None
    mine = _plans(app, ctx.roots, ctx.allow_remote)
    theirs = _plans(app, reuse.other.roots, ctx.allow_remote)
    if not mine or [_plan_key(p) for p in mine] != [_plan_key(p) for p in theirs]:
        return None
    for plan in mine:
        if plan.remote:
            return None  # what a remote reference holds can change
        if plan.root == folder and not reuse.changed.isdisjoint(plan.files):
            return None
    return prev


def render_revision(folder: Path, out: Path, options: Options, *,
                    apps_paths: Sequence[str | Path] | None, repo_map: RepoMap | None,
                    reuse: Reuse | None = None, progress: TextIO | None = None) -> Rendered:
    """Render the Applications of REPO at one revision (``folder``) into the dataset ``out``;
    with ``reuse``, keep the other revision's output of every app the change cannot reach."""
    done = Rendered(out)
    real = os.path.realpath(folder)
    lock = threading.Lock()

    def one(app: AppInput, ctx: Context) -> tuple[AppRender, str | None]:
        with lock:
            done.roots = ctx.roots
        prev = _reusable(app, ctx, reuse, real) if reuse is not None else None
        if prev is not None:
            result, text = replace(prev.result, cached=True), prev.text
        else:
            result, text = render_app(app, ctx)
        with lock:
            done.outputs[app.key] = Output(app.content, replace(result), text)
            if prev is not None:
                done.reused.append(app.key)
        return result, text

    done.report = render_repository(
        folder, out, apps_paths=apps_paths, repo_map=repo_map,
        allow_remote=options.allow_remote, jobs=options.jobs, use_cache=options.use_cache,
        timeout=options.timeout, kustomize=options.kustomize, helm=options.helm,
        chart_cache=options.chart_cache, progress=progress,
        argocd_namespace=options.argocd_namespace, clusters=options.clusters, render=one)
    done.reused.sort()
    kept = {a.name for a in done.report.apps}  # apps render kept (reached from the roots)
    done.outputs = {k: v for k, v in done.outputs.items() if k in kept}
    done.reused = [k for k in done.reused if k in kept]
    return done
