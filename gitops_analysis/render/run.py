"""``render_repository``: a GitOps repository -> a dataset (apps/, rendered/, render-status).

Each Argo CD Application is rendered the way Argo CD's repo server would render it, with the
real renderers, never a home-made kustomize or helm: the source type as Argo CD decides it
(:mod:`~gitops_analysis.render.planning`), then kustomize
(:mod:`~gitops_analysis.render.kustomize`), ``helm template``
(:mod:`~gitops_analysis.render.helm`) or a plain directory
(:mod:`~gitops_analysis.render.directory`), in a temporary copy of the files each build can
read, cached by content (:mod:`~gitops_analysis.render.build`). The Applications an app's output
holds (app-of-apps) are rendered next, each once.

Outputs are deterministic: sorted, the same bytes on every run, no timestamps or absolute paths.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from gitops_analysis.core.errors import InputError, UsageError
from gitops_analysis.load.applications import CONTROL_NAMESPACE
from gitops_analysis.load.cache import FileDigests
from gitops_analysis.render.build import Context, execute
from gitops_analysis.render.discovery import AppInput, read_apps, read_rendered, sources_of
from gitops_analysis.render.helm import comparison_failure, find_helm
from gitops_analysis.render.kustomize import find_kustomize
from gitops_analysis.render.planning import plan_source
from gitops_analysis.render.reading import STDERR, mapping
from gitops_analysis.render.repositories import RepoMap, roots, url_key
from gitops_analysis.render.results import SEVERITY, AppRender, RenderReport, one_line
from gitops_analysis.render.write import DatasetWriter, check_out


def _join(values: list[str]) -> str:
    out: list[str] = []
    for v in values:
        if v and v not in out:
            out.append(v)
    return ", ".join(out)


def render_app(app: AppInput, ctx: Context) -> tuple[AppRender, str | None]:
    """Render every source of one app: its result, and its output (None when nothing
    rendered); the sources of a multi-source app each get a ``# Source:`` part."""
    result = AppRender(app.key, "ok", where=app.where, parent=app.parent)
    spec = app.data.get("spec")
    sources = sources_of(app.data)
    if not isinstance(spec, dict) or not sources:
        result.status = "failed"
        result.message = (f"{app.where}: Application {app.key} has no spec.source or "
                          "spec.sources: Argo CD cannot render it; add a source")
        return result, None
    dest_ns = str(mapping(spec.get("destination")).get("namespace") or "")
    refs = {str(s["ref"]): ctx.roots.get(url_key(str(s.get("repoURL") or "")))
            for s in sources if isinstance(s, dict) and s.get("ref")}
    deadline = time.monotonic() + ctx.timeout
    multi = len(sources) > 1
    parts: list[str] = []
    problems: list[tuple[str, str]] = []
    renderers: list[str] = []
    versions: list[str] = []
    cached = []
    for i, source in enumerate(sources):
        plan = plan_source(source, i, app_name=app.name, dest_namespace=dest_ns,
                           roots=ctx.roots, ref_sources=refs, allow_remote=ctx.allow_remote)
        result.source_types.append(plan.type)
        if plan.skip:
            continue
        built, renderer, version = execute(plan, ctx, deadline)
        if built.failure and result.failure is None:  # Argo CD's ComparisonError text
            result.failure = comparison_failure(built.failure, plan.index, len(sources))
        renderers.append(renderer)
        versions.append(version)
        if plan.status == "ok":
            cached.append(built.cached)
        if built.status == "ok":
            text = built.text or ""
            if text and not text.endswith("\n"):
                text += "\n"
            parts.append((f"# Source: {plan.label}\n" if multi else "") + text)
        else:
            where = f"sources[{plan.index}] {plan.label or '(no path)'}: " if multi else ""
            problems.append((built.status, where + built.message))
    result.renderer, result.version = _join(renderers), _join(versions)
    if problems:
        result.status = min((s for s, _ in problems), key=SEVERITY.index)
        result.message = "; ".join(m for _, m in problems)
    result.cached = bool(cached) and all(cached)
    return result, "---\n".join(parts) if parts else None


def _is_tty(stream: TextIO | None) -> bool:
    return stream is not None and hasattr(stream, "isatty") and stream.isatty()


def render_repository(repo: str | Path, out: str | Path, *,
                      apps_paths: Sequence[str | Path] | None = None,
                      repo_map: RepoMap | None = None, allow_remote: bool = False,
                      jobs: int | None = None, use_cache: bool = True, timeout: float = 120,
                      kustomize: str = "auto", helm: str = "auto",
                      chart_cache: str | Path | None = None,
                      progress: TextIO | None = None,
                      argocd_namespace: str = CONTROL_NAMESPACE) -> RenderReport:
    """Render the Applications of ``repo`` into the dataset folder ``out``.

    ``apps_paths``: Application files or folders (default: every Application under ``repo``).
    ``repo_map``: ``{url: folder}`` or ``["URL=DIR", ...]``: repositories available locally.
    ``kustomize``: ``auto`` (a binary on PATH, else pykustomize), ``binary`` or ``pykustomize``;
    ``helm``: ``auto`` (a binary on PATH, else helm-python-sdk), ``binary``, ``helm-python-sdk``
    or ``none``; ``chart_cache``: a folder that keeps pulled charts and is read first (see
    :mod:`~gitops_analysis.render.helm_remote`). ``progress``: a stream for warnings, a
    progress bar (on a terminal) and the closing summary. Usage and input errors raise
    :class:`~gitops_analysis.core.errors.GitopsAnalysisError` subclasses before anything is
    written.
    """
    started = time.monotonic()
    repo, out = Path(repo), Path(out)
    if not repo.is_dir():
        raise InputError("no such folder" if not repo.exists() else "not a folder",
                         file=str(repo), todo="pass the repository's folder as REPO")
    if jobs is not None and int(jobs) < 1:
        raise UsageError(f"--jobs {jobs}: at least 1", todo="pass a positive number of jobs")
    if not timeout or timeout <= 0:
        raise UsageError(f"--timeout {timeout}: must be positive", todo="pass seconds, e.g. 120")
    check_out(out, os.path.realpath(repo))

    def warn(message: str) -> None:
        if progress is not None:
            with STDERR:
                progress.write(f"render: {message}\n")
                progress.flush()

    initial = read_apps(repo, apps_paths, warn, argocd_namespace)
    kustomize_renderer, helm_renderer = find_kustomize(kustomize), \
        find_helm(helm, chart_cache)
    urls = [str(s["repoURL"]) for a in initial for s in sources_of(a.data)
            if isinstance(s, dict) and s.get("repoURL") and not s.get("chart")]
    ctx = Context(kustomize_renderer, helm_renderer, roots(repo, repo_map, urls), allow_remote,
                  float(timeout), use_cache, FileDigests())
    if not jobs:
        jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
            (os.cpu_count() or 1)
    bar = tqdm(total=len(initial), file=progress, desc="render", unit="app", leave=False,
               dynamic_ncols=True, disable=not _is_tty(progress))

    def one(app: AppInput) -> tuple[AppRender, str | None]:
        try:
            res = render_app(app, ctx)
        except Exception as exc:
            res = (AppRender(app.key, "failed", message=f"{app.where}: cannot be rendered "
                             f"({type(exc).__name__}: {one_line(str(exc))}): please report it "
                             "as a bug of gitops-analysis", where=app.where, parent=app.parent),
                   None)
        with STDERR:
            bar.set_postfix_str(app.key[:40], refresh=False)
            bar.update()
        return res

    results: list[AppRender] = []
    seen = {a.key for a in initial}
    level = initial
    try:
        with DatasetWriter(out) as writer, ThreadPoolExecutor(max_workers=int(jobs)) as pool:
            while level:
                children: list[AppInput] = []
                for app, (result, text) in zip(level, pool.map(one, level)):
                    results.append(result)
                    rendered = writer.add(app, result, text)
                    if rendered is None:
                        continue
                    result.documents, found = read_rendered(rendered, app)
                    for child in found:  # app-of-apps: each child once, cycles end here
                        if child.key not in seen:
                            seen.add(child.key)
                            children.append(child)
                level = sorted(children, key=lambda a: a.key)
                if level:
                    with STDERR:
                        bar.total += len(level)
                        bar.refresh()
            writer.commit()
    finally:
        bar.close()
        if ctx.kustomize is not None:
            ctx.kustomize.close()
        if ctx.helm is not None:
            ctx.helm.close()
    report = RenderReport(out, sorted(results, key=lambda a: a.name),
                          round(time.monotonic() - started, 3))
    if progress is not None:
        progress.write(report.summary() + "\n")
        progress.flush()
    return report
