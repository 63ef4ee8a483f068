"""Both revisions rendered, the second one only where the change can reach.

The first revision is rendered app by app as ``render`` renders it (its
:func:`~gitops_analysis.render.run.render_app`, its dataset writer, the shared render cache).
For the second, an app is rendered again only when the change can have touched it: its
Application differs, or the plan of one of its sources (render's source planning, the same at
both revisions except for the folder) differs or lists a file that changed. Every other app
keeps the first revision's output, byte for byte. What a plan lists is every file its render
reads (:attr:`SourcePlan.files`), so an app the changed files do not feed renders the same.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from gitops_analysis.load.applications import CONTROL_NAMESPACE
from gitops_analysis.load.cache import FileDigests
from gitops_analysis.render.build import Context
from gitops_analysis.render.discovery import AppInput, read_apps, read_rendered, sources_of
from gitops_analysis.render.helm import Helm
from gitops_analysis.render.kustomize import Kustomize
from gitops_analysis.render.planning import plan_source
from gitops_analysis.render.reading import mapping
from gitops_analysis.render.repositories import RepoMap, roots, url_key
from gitops_analysis.render.results import AppRender, RenderReport, SourcePlan, one_line
from gitops_analysis.render.run import render_app
from gitops_analysis.render.write import DatasetWriter

Warn = Callable[[str], None]


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
    report: RenderReport
    outputs: dict[str, Output]
    roots: dict[str, str]
    folder: str  # real path of REPO at this revision
    reused: list[str] = field(default_factory=list)  # apps whose output the other side gave

    @property
    def rendered(self) -> list[str]:
        return sorted(set(self.outputs) - set(self.reused))


@dataclass(frozen=True)
class Reuse:
    """The other revision, and the files (relative to REPO) that differ from it."""

    other: Rendered
    changed: frozenset[str]


@dataclass
class Renderers:
    """The renderers both revisions share (one pool of kustomize workers)."""

    kustomize: Kustomize | None
    helm: Helm | None
    allow_remote: bool
    timeout: float
    use_cache: bool
    jobs: int


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


def _reusable(app: AppInput, reuse: Reuse, source_roots: dict[str, str], folder: str,
              allow_remote: bool) -> Output | None:
    """The other revision's output of this app when the change cannot reach it, else None."""
    prev = reuse.other.outputs.get(app.key)
    if prev is None or prev.content != app.content:
        return None
    mine = _plans(app, source_roots, allow_remote)
    theirs = _plans(app, reuse.other.roots, allow_remote)
    if not mine or [_plan_key(p) for p in mine] != [_plan_key(p) for p in theirs]:
        return None
    for plan in mine:
        if plan.remote:
            return None  # what a remote reference holds can change
        if plan.root == folder and not reuse.changed.isdisjoint(plan.files):
            return None
    return prev


def render_revision(folder: Path, out: Path, renderers: Renderers, *,
                    apps_paths: Sequence[str | Path] | None, repo_map: RepoMap | None,
                    reuse: Reuse | None = None, warn: Warn,
                    argocd_namespace: str = CONTROL_NAMESPACE) -> Rendered:
    """Render the Applications of REPO at one revision (``folder``) into the dataset ``out``."""
    initial = read_apps(folder, apps_paths, warn, argocd_namespace)
    urls = [str(s["repoURL"]) for a in initial for s in sources_of(a.data)
            if isinstance(s, dict) and s.get("repoURL") and not s.get("chart")]
    source_roots = roots(folder, repo_map, urls)
    ctx = Context(renderers.kustomize, renderers.helm, source_roots, renderers.allow_remote,
                  renderers.timeout, renderers.use_cache, FileDigests())
    real = os.path.realpath(folder)
    reused: list[str] = []
    lock = threading.Lock()

    def one(app: AppInput) -> tuple[AppRender, str | None]:
        try:
            prev = _reusable(app, reuse, source_roots, real, renderers.allow_remote) \
                if reuse is not None else None
            if prev is not None:
                with lock:
                    reused.append(app.key)
                return replace(prev.result, where=app.where, parent=app.parent,
                               cached=True), prev.text
            return render_app(app, ctx)
        except Exception as exc:  # as render does: one app fails, the others go on
            return (AppRender(app.key, "failed", message=f"{app.where}: cannot be rendered "
                              f"({type(exc).__name__}: {one_line(str(exc))}): please report "
                              "it as a bug of gitops-analysis", where=app.where,
                              parent=app.parent), None)

    outputs: dict[str, Output] = {}
    seen = {a.key for a in initial}
    level = initial
    with DatasetWriter(out) as writer, ThreadPoolExecutor(max_workers=renderers.jobs) as pool:
        while level:
            children: list[AppInput] = []
            for app, (result, text) in zip(level, pool.map(one, level)):
                outputs[app.key] = Output(app.content, result, text)
                rendered = writer.add(app, result, text)
                if rendered is None:
                    continue
                result.documents, found = read_rendered(rendered, app)
                for child in found:  # app-of-apps: each child once
                    if child.key not in seen:
                        seen.add(child.key)
                        children.append(child)
            level = sorted(children, key=lambda a: a.key)
        writer.commit()
    report = RenderReport(out, sorted((o.result for o in outputs.values()), key=lambda a: a.name))
    return Rendered(out, report, outputs, source_roots, real, sorted(reused))
