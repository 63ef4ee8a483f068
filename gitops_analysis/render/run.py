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
from dataclasses import dataclass, field
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
from gitops_analysis.render.helm import comparison_failure, find_helm
from gitops_analysis.render.kustomize import find_kustomize
from gitops_analysis.render.planning import plan_source
from gitops_analysis.render.reading import STDERR, mapping
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
    for i, source in enumerate(sources):
        plan = plan_source(source, i, app_name=app.name, dest_namespace=dest_ns,
                           roots=ctx.roots, ref_sources=refs, allow_remote=ctx.allow_remote,
                           chart_cache=ctx.helm.chart_cache if ctx.helm else "")
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


#: renders one app in a run's context: (its result, its output or None)
RenderApp = Callable[[AppInput, Context], tuple[AppRender, str | None]]


def _is_tty(stream: TextIO | None) -> bool:
    return stream is not None and hasattr(stream, "isatty") and stream.isatty()


@dataclass
class _Node:
    """One rendered app: its input, result, and what its output holds (app-of-apps)."""

    app: AppInput
    result: AppRender
    children: list[AppInput] = field(default_factory=list)  # incl. generated by ``sets``
    sets: list[AppSetDoc] = field(default_factory=list)


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
                      argocd_namespace: str = CONTROL_NAMESPACE,
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

    initial, appset_docs = read_inputs(repo, apps_paths, warn, argocd_namespace)
    kustomize_renderer, helm_renderer = find_kustomize(kustomize), \
        find_helm(helm, chart_cache)
    urls = [str(s["repoURL"]) for a in initial for s in sources_of(a.data)
            if isinstance(s, dict) and s.get("repoURL") and not s.get("chart")]
    ctx = Context(kustomize_renderer, helm_renderer,
                  roots(repo, repo_map, urls + _appset_urls(appset_docs)), allow_remote,
                  float(timeout), use_cache, FileDigests())
    sets = _AppSets(ExpandContext(repos=ctx.roots, clusters=secrets,
                                  argocd_namespace=argocd_namespace), warn)
    generated = [g for d in appset_docs for g in sets.expand(d)]
    sets.owners(appset_docs)
    # an ApplicationSet adopts an Application of its name that no controller owns: generated
    # apps first
    candidates = unique_inputs(generated + initial, "Application", warn)
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

    nodes: dict[str, _Node] = {}
    try:
        with DatasetWriter(out) as writer, ThreadPoolExecutor(max_workers=int(jobs)) as pool:

            def render_level(level: list[AppInput]) -> None:
                for app, (result, text) in zip(level, pool.map(one, level)):
                    _describe(result, app)
                    node = nodes[app.key] = _Node(app, result)
                    rendered = writer.add(app, result, text)
                    if rendered is None:
                        continue
                    result.documents, node.children, node.sets = \
                        read_rendered_inputs(rendered, app)
                    node.children += [g for d in node.sets for g in sets.expand(d)]

            def grow(count: int) -> None:
                if count:
                    with STDERR:
                        bar.total += count
                        bar.refresh()

            render_level(candidates)
            if apps_paths:
                kept, used = _follow_given(candidates, appset_docs, nodes, render_level, grow)
                unreachable: list[Unreachable] = []
            else:
                kept, used, unreachable = _follow_roots(candidates, appset_docs, nodes, sets,
                                                        render_level, grow, warn)
            for key, node in nodes.items():
                if key not in kept:
                    writer.drop(node.app)
            statuses = [sets.status[(d.key, d.where)] for d in used]
            writer.commit(statuses, unreachable)
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


def _describe(result: AppRender, app: AppInput) -> None:
    result.where, result.parent = app.where, app.parent
    result.appset, result.appset_params, result.rollout_step = \
        app.appset, app.appset_params, app.rollout_step


Level = Callable[[list[AppInput]], None]


def _follow_given(candidates: list[AppInput], docs: list[AppSetDoc], nodes: dict[str, _Node],
                  render_level: Level, grow: Callable[[int], None]
                  ) -> tuple[set[str], list[AppSetDoc]]:
    """``--apps``: every app given, and what their outputs hold, each once."""
    seen = {a.key for a in candidates}
    used = list(docs)
    level = candidates
    while level:
        children: dict[str, AppInput] = {}
        for app in level:
            node = nodes[app.key]
            used += node.sets
            for child in node.children:
                if child.key not in seen:
                    seen.add(child.key)
                    children[child.key] = child
        level = [children[k] for k in sorted(children)]
        grow(len(level))
        render_level(level)
    return seen, _unique_docs(used)


def _unique_docs(docs: list[AppSetDoc]) -> list[AppSetDoc]:
    out: dict[str, AppSetDoc] = {}
    for d in docs:
        out.setdefault(d.key, d)
    return [out[k] for k in sorted(out)]


def _follow_roots(candidates: list[AppInput], docs: list[AppSetDoc], nodes: dict[str, _Node],
                  sets: _AppSets, render_level: Level, grow: Callable[[int], None],
                  warn: Callable[[str], None]
                  ) -> tuple[set[str], list[AppSetDoc], list[Unreachable]]:
    """No ``--apps``: start from the roots, follow their children, list the rest.

    App-of-apps are Application files whose output holds other Applications or
    ApplicationSets. With app-of-apps, the roots are those no other app reaches; without,
    every Application and ApplicationSet file no other app reaches (an ApplicationSet's
    generated apps may hold others). When they only reach each other, all of them. An app
    reached twice with different content keeps the first (in key order), with a warning:
    Argo CD would hold only one of them."""
    files = [a for a in candidates if not a.appset]
    chosen = {id(a) for a in candidates}  # a duplicate name was skipped, with a warning
    generated = {d.key: [g for g in sets.expand(d) if id(g) in chosen] for d in docs}
    # units: ("app", key) for an Application file, ("set", key) for an ApplicationSet file
    edges: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for a in files:
        node = nodes[a.key]
        edges[("app", a.key)] = {("app", c.key) for c in node.children} | \
            {("set", d.key) for d in node.sets}
    for d in docs:
        edges[("set", d.key)] = {("app", g.key) for g in generated[d.key]}
    reached = {r for u, reach in edges.items() for r in reach if r != u}
    parents = {u for u, reach in edges.items() if u[0] == "app" and reach - {u}}
    pool = parents or set(edges)
    roots = sorted(pool - reached) or sorted(pool)
    kept: dict[str, AppInput] = {}
    used: list[AppSetDoc] = []
    level: list[AppInput] = []
    by_key = {a.key: a for a in files}
    for kind, key in roots:
        if kind == "app":
            level.append(by_key[key])
        else:
            doc = next(d for d in docs if d.key == key)
            used.append(doc)
            level += generated[key]
    while level:
        fresh: list[AppInput] = []
        visited: list[AppInput] = []
        for app in level:
            if app.key in kept:
                if kept[app.key].data != app.data:
                    warn(f"{app.where}: Application {app.key} is also {kept[app.key].where}, "
                         "with other content: the first is kept; Argo CD holds one "
                         "Application of that name")
                continue
            kept[app.key] = app
            visited.append(app)
            same = nodes.get(app.key)
            if same is not None and same.app.data == app.data:
                same.app = app  # the same Application, reached through its parent
                _describe(same.result, app)
            else:
                fresh.append(app)
        grow(len(fresh))
        render_level(fresh)
        children: dict[str, AppInput] = {}
        for app in visited:
            done = nodes[app.key]
            used += done.sets
            for child in done.children:
                first = children.setdefault(child.key, child)
                if first is not child and first.data != child.data:
                    warn(f"{child.where}: Application {child.key} is also {first.where}, "
                         "with other content: the first is kept; Argo CD holds one "
                         "Application of that name")
        level = [children[k] for k in sorted(children)]
    used_keys = {d.key for d in used}
    unreachable = [Unreachable("Application", a.key, *_file_line(a.where)) for a in files
                   if a.key not in kept]
    unreachable += [Unreachable("ApplicationSet", d.key, d.file, d.line) for d in docs
                    if d.key not in used_keys]
    unreachable.sort(key=lambda u: (u.file, u.line))
    return set(kept), _unique_docs(used), unreachable


def _file_line(where: str) -> tuple[str, int]:
    file, _, line = where.rpartition(":")
    return (file, int(line)) if line.isdigit() else (where, 0)
