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
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from gitops_analysis.core.errors import InputError, UsageError
from gitops_analysis.load.applications import CONTROL_NAMESPACE
from gitops_analysis.load.cache import FileDigests
from gitops_analysis.load.clusters import load_cluster_secrets
from gitops_analysis.render.appsets import ExpandContext, Expansion, Gap, expand
from gitops_analysis.render.build import Context, execute
from gitops_analysis.render.discovery import (
    AppInput,
    AppSetDoc,
    generated_inputs,
    read_inputs,
    read_rendered_inputs,
    sources_of,
    unique_inputs,
)
from gitops_analysis.render.following import (
    Node,
    describe,
    follow_given,
    follow_roots,
    other_copies,
    other_sets,
)
from gitops_analysis.render.helm import comparison_failure, find_helm
from gitops_analysis.render.kustomize import find_kustomize
from gitops_analysis.render.planning import plan_source
from gitops_analysis.render.reading import STDERR, mapping
from gitops_analysis.render.repo_projects import repository_projects, sort_projects
from gitops_analysis.render.repositories import RepoMap, roots, url_key
from gitops_analysis.render.results import (
    SEVERITY,
    AppRender,
    AppSetStatus,
    RenderReport,
    Unreachable,
    one_line,
)
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
    origins: list[bool] = []  # per kustomize source: whether its origin annotations are ours
    for i, source in enumerate(sources):
        plan = plan_source(source, i, app_name=app.name, dest_namespace=dest_ns,
                           roots=ctx.roots, ref_sources=refs, allow_remote=ctx.allow_remote,
                           chart_cache=ctx.helm.chart_cache if ctx.helm else "")
        result.source_types.append(plan.type)
        if plan.skip:
            continue
        if plan.renderer == "kustomize":
            origins.append(plan.origin_added)
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
    result.origin_added = bool(origins) and all(origins)
    return result, "---\n".join(parts) if parts else None


#: renders one app in a run's context: (its result, its output or None)
RenderApp = Callable[[AppInput, Context], tuple[AppRender, str | None]]


def _is_tty(stream: TextIO | None) -> bool:
    return stream is not None and hasattr(stream, "isatty") and stream.isatty()


class _AppSets:
    """ApplicationSets expanded once each (per place they were found), with their status."""

    def __init__(self, ctx: ExpandContext, warn: Callable[[str], None]) -> None:
        self.ctx = ctx
        self.warn = warn
        self.status: dict[tuple[str, str], AppSetStatus] = {}
        self.generated: dict[tuple[str, str], list[AppInput]] = {}

    def expand(self, doc: AppSetDoc) -> list[AppInput]:
        ident = (doc.key, doc.where)
        if ident not in self.generated:
            try:
                result = expand(doc.data, doc.file, doc.line, self.ctx)
            except Exception as exc:  # never the whole render for one ApplicationSet
                result = Expansion(doc.name, doc.namespace, doc.file, doc.line, False, None,
                                   gaps=[Gap("", f"{doc.where}: ApplicationSet {doc.key} cannot "
                                                 f"be expanded ({type(exc).__name__}: "
                                                 f"{one_line(str(exc))}): please report it as a "
                                                 "bug of gitops-analysis")])
            apps = generated_inputs(doc, result.applications or [], self.ctx.argocd_namespace,
                                    self.warn)
            cond = result.condition
            self.status[ident] = AppSetStatus(
                doc.key, doc.where, doc.parent, [a.key for a in apps],
                sorted(f"{a.namespace}/{a.name}" for a in result.skipped),
                None if cond is None else {"type": cond.type, "reason": cond.reason,
                                           "message": cond.message},
                [{"generator": g.generator, "message": g.message} for g in result.gaps],
                list(result.warnings), result.rolling_steps, result.complete)
            self.generated[ident] = apps
        return self.generated[ident]

    def owners(self, docs: list[AppSetDoc]) -> None:
        """Two ApplicationSets that generate one Application: the first (in name order) owns
        it, the other gets Argo CD's UpdateApplicationError for the first such name
        (``createOrUpdate.go`` ``mutate``, controller-runtime ``AlreadyOwnedError``). Which one
        Argo CD lets own it depends on which it reconciled first."""
        owner: dict[str, str] = {}
        for doc in sorted(docs, key=lambda d: d.key):
            status = self.status[(doc.key, doc.where)]
            taken = sorted(k for k in status.applications if owner.get(k, doc.key) != doc.key)
            for key in status.applications:
                owner.setdefault(key, doc.key)
            if not taken:
                continue
            status.applications = [k for k in status.applications if k not in taken]
            first = taken[0]
            status.condition = {
                "type": "ErrorOccurred", "reason": "UpdateApplicationError",
                "message": "error while wrapping using MutateFn: Object "
                           f"{first} is already owned by another ApplicationSet controller "
                           f"{owner[first].split('/', 1)[-1]}"}


def _appset_urls(docs: list[AppSetDoc]) -> list[str]:
    """Repository URLs an ApplicationSet names as written (templated ones left out)."""
    out = []

    def walk(value: object, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, str(k))
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif key == "repoURL" and isinstance(value, str) and value and "{{" not in value:
            out.append(value)

    for d in docs:
        walk(mapping(d.data.get("spec")))
    return out


def render_repository(repo: str | Path, out: str | Path, *,
                      apps_paths: Sequence[str | Path] | None = None,
                      repo_map: RepoMap | None = None, allow_remote: bool = False,
                      jobs: int | None = None, use_cache: bool = True, timeout: float = 120,
                      kustomize: str = "auto", helm: str = "auto",
                      chart_cache: str | Path | None = None,
                      progress: TextIO | None = None,
                      argocd_namespace: str | None = None,
                      clusters: str | Path | None = None,
                      render: RenderApp | None = None) -> RenderReport:
    """Render the Applications of ``repo`` into the dataset folder ``out``.

    ``apps_paths``: Application and ApplicationSet files or folders, each rendered, and the
    apps their output holds. Default: the roots of the repository (the Applications and
    ApplicationSets that yield others and that no other app reaches) and everything they
    reach; files no root reaches are listed as unreachable and not rendered; without
    app-of-apps every Application file is a root.
    ``repo_map``: ``{url: folder}`` or ``["URL=DIR", ...]``: repositories available locally
    (sources, and the Git generators of ApplicationSets).
    ``clusters``: Argo CD cluster Secrets, for the clusters generator of ApplicationSets.
    ``argocd_namespace``: Argo CD's control-plane namespace when it is given (recorded in
    render-status.json, so that check and report default to it); None: ``argocd``.
    ``kustomize``: ``auto`` (a binary on PATH, else pykustomize), ``binary`` or ``pykustomize``;
    ``helm``: ``auto`` (a binary on PATH, else helm-python-sdk), ``binary``, ``helm-python-sdk``
    or ``none``; ``chart_cache``: a folder that keeps pulled charts and is read first (see
    :mod:`~gitops_analysis.render.helm_remote`). ``progress``: a stream for warnings, a
    progress bar (on a terminal) and the closing summary. Usage and input errors raise
    :class:`~gitops_analysis.core.errors.GitopsAnalysisError` subclasses before anything is
    written. ``render``: what renders one app (default :func:`render_app`; ``diff`` passes one
    that keeps the other revision's output where the change cannot reach).
    """
    started = time.monotonic()
    render_one = render or render_app
    recorded, argocd_namespace = argocd_namespace, argocd_namespace or CONTROL_NAMESPACE
    repo, out = Path(repo), Path(out)
    if not repo.is_dir():
        raise InputError("no such folder" if not repo.exists() else "not a folder",
                         file=str(repo), todo="pass the repository's folder as REPO")
    if jobs is not None and int(jobs) < 1:
        raise UsageError(f"--jobs {jobs}: at least 1", todo="pass a positive number of jobs")
    if not timeout or timeout <= 0:
        raise UsageError(f"--timeout {timeout}: must be positive", todo="pass seconds, e.g. 120")
    check_out(out, os.path.realpath(repo))
    secrets = load_cluster_secrets(clusters) if clusters is not None else None

    def warn(message: str) -> None:
        if progress is not None:
            with STDERR:
                progress.write(f"render: {message}\n")
                progress.flush()

    # from the roots, which copy of a name the dataset holds is known only at the end
    losers: list[AppInput] | None = None if apps_paths else []
    set_losers: list[AppSetDoc] | None = None if apps_paths else []
    projects: list[dict] = []  # the AppProjects written in REPO's files, found on the way
    initial, appset_docs = read_inputs(repo, apps_paths, warn, argocd_namespace, losers,
                                       set_losers, projects)
    kustomize_renderer, helm_renderer = find_kustomize(kustomize), \
        find_helm(helm, chart_cache)
    urls = [(str(s["repoURL"]), str(s.get("path") or "")) for a in initial
            for s in sources_of(a.data)
            if isinstance(s, dict) and s.get("repoURL") and not s.get("chart")]
    urls += [(u, "") for u in _appset_urls(appset_docs)]  # their paths are templated
    ctx = Context(kustomize_renderer, helm_renderer,
                  roots(repo, repo_map, urls), allow_remote,
                  float(timeout), use_cache, FileDigests())
    sets = _AppSets(ExpandContext(repos=ctx.roots, clusters=secrets,
                                  argocd_namespace=argocd_namespace), warn)
    generated = [g for d in appset_docs for g in sets.expand(d)]
    sets.owners(appset_docs)
    # an ApplicationSet adopts an Application of its name that no controller owns: generated
    # apps first
    candidates = unique_inputs(generated + initial, "Application", warn, losers)
    if not jobs:
        jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
            (os.cpu_count() or 1)
    bar = tqdm(total=len(candidates), file=progress, desc="render", unit="app", leave=False,
               dynamic_ncols=True, disable=not _is_tty(progress))

    def one(app: AppInput) -> tuple[AppRender, str | None]:
        try:
            res = render_one(app, ctx)
        except Exception as exc:
            res = (AppRender(app.key, "failed", message=f"{app.where}: cannot be rendered "
                             f"({type(exc).__name__}: {one_line(str(exc))}): please report it "
                             "as a bug of gitops-analysis", where=app.where, parent=app.parent),
                   None)
        with STDERR:
            bar.set_postfix_str(app.key[:40], refresh=False)
            bar.update()
        return res

    nodes: dict[str, Node] = {}
    try:
        with DatasetWriter(out) as writer, ThreadPoolExecutor(max_workers=int(jobs)) as pool:

            def render_level(level: list[AppInput]) -> None:
                for app, (result, text) in zip(level, pool.map(one, level)):
                    describe(result, app)
                    node = nodes[app.key] = Node(app, result)
                    rendered = writer.add(app, result, text)
                    if rendered is None:
                        continue
                    result.documents, node.children, node.sets = \
                        read_rendered_inputs(rendered, app, result.origin_added)
                    node.children += [g for d in node.sets for g in sets.expand(d)]

            def grow(count: int) -> None:
                if count:
                    with STDERR:
                        bar.total += count
                        bar.refresh()

            render_level(candidates)
            if apps_paths:
                kept, used = follow_given(candidates, appset_docs, nodes, render_level, grow)
                unreachable: list[Unreachable] = []
            else:
                kept, used, unreachable = follow_roots(candidates, appset_docs, nodes,
                                                       sets.expand, render_level, grow, warn)
                unreachable = other_copies(candidates, losers or [], nodes, kept, unreachable,
                                            warn)
                unreachable = other_sets(appset_docs + (set_losers or []), used, unreachable,
                                          warn)
            for key, node in nodes.items():
                if key not in kept:
                    writer.drop(node.app)
            statuses = [sets.status[(d.key, d.where)] for d in used]
            writer.commit(statuses, unreachable, recorded,
                          repository_projects(repo) if apps_paths else sort_projects(projects))
    finally:
        bar.close()
        if ctx.kustomize is not None:
            ctx.kustomize.close()
        if ctx.helm is not None:
            ctx.helm.close()
    report = RenderReport(out, sorted((nodes[k].result for k in kept), key=lambda a: a.name),
                          round(time.monotonic() - started, 3),
                          sorted(statuses, key=lambda s: s.name), unreachable)
    if progress is not None:
        progress.write(report.summary() + "\n")
        progress.flush()
    return report
