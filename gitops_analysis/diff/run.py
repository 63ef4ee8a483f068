"""``run_diff``: two revisions of a repository -> findings new, fixed and unchanged.

Both revisions are written out of git into a temporary folder
(:mod:`~gitops_analysis.diff.revisions`), the head rendered first and the base only where the
changed files reach (:mod:`~gitops_analysis.diff.render`), both loaded, every rule run on both
with the same configuration (:mod:`~gitops_analysis.rules.policy`), and the findings matched by
identity (:mod:`~gitops_analysis.diff.compare`). Nothing of the temporary folder is left.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, cast

import pandas as pd

from gitops_analysis.analysis.coverage import Coverage, coverage
from gitops_analysis.core.errors import NotADatasetError, UsageError
from gitops_analysis.core.words import plural
from gitops_analysis.diff.compare import Changes, FindingsDiff, changes, match_findings
from gitops_analysis.diff.render import Options, Rendered, Reuse, render_revision
from gitops_analysis.diff.revisions import WORKTREE, Repository, open_repository
from gitops_analysis.load.applications import CONTROL_NAMESPACE
from gitops_analysis.load.config import Config
from gitops_analysis.load.dataset import load_dataset
from gitops_analysis.render.repositories import git_origin, parse_repo_map
from gitops_analysis.render.write import check_out
from gitops_analysis.rules import run_rules
from gitops_analysis.rules.policy import Silenced, apply_policy, policy_from


@dataclass
class Side:
    """One revision: what it is, how it rendered, what the rules found there."""

    label: str  # base | head
    revision: str  # as given
    commit: str  # full hash, or WORKTREE
    ds: object  # the Dataset
    coverage: Coverage
    findings: pd.DataFrame  # after the configuration and annotations
    silenced: Silenced
    apps_rendered: int
    apps_reused: int

    @property
    def short(self) -> str:
        return self.commit[:12] if self.commit != WORKTREE else WORKTREE


@dataclass
class DiffResult:
    base: Side
    head: Side
    changed_files: list[str]
    findings: FindingsDiff
    changes: Changes

    def exit_code(self, fail_on: str) -> int:
        """1 when a new finding reaches ``fail_on`` (error | warning | never), else 0."""
        if fail_on == "never":
            return 0
        levels = {"error"} if fail_on == "error" else {"error", "warning"}
        return int(bool(set(self.findings.new["severity"].astype(str)) & levels))


def _apps_paths(paths: Sequence[str | Path] | None, repo: Repository, folder: Path,
                top: Path) -> list[Path] | None:
    """``--apps``: relative to REPO, read at the revision; absolute paths inside the checkout
    are read at the revision too."""
    if not paths:
        return None
    out = []
    for p in map(Path, paths):
        out.append(repo.translate(p, top) if p.is_absolute() else folder / p)
    return out


def _repo_map(repo_map: Sequence[str] | None, config: Config, repo: Repository, folder: Path,
              top: Path) -> list[tuple[str, str]]:
    """``--repo-map`` then the configuration's (the flag wins for a URL both name); an entry that
    names REPO or a folder of its checkout is read at the revision; REPO's ``origin`` is REPO."""
    pairs: dict[str, str] = {}
    for url, folder_ in [*config.repo_map, *parse_repo_map(list(repo_map or []))]:
        pairs[url] = folder_
    out = [(url, str(repo.translate(d, top))) for url, d in pairs.items()]
    origin = git_origin(repo.folder)
    if origin and folder != repo.folder:
        out.append((origin, str(folder)))
    return out


class _Prefixed(io.TextIOBase):
    """A progress stream whose lines (render's warnings and summary) name the revision."""

    def __init__(self, stream: TextIO, label: str) -> None:
        super().__init__()
        self.stream, self.label = stream, label

    def write(self, text: str) -> int:
        return self.stream.write("".join(f"diff: {self.label}: {line}" if line.strip() else line
                                         for line in text.splitlines(keepends=True)))

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return False


@dataclass(frozen=True)
class _Analysis:
    """How each revision's dataset is loaded and checked (the same for both)."""

    config: Config
    cluster_api: str | None
    cluster_namespaces: str | None
    argocd_namespace: str
    health_check: bool
    projects: tuple = ()
    settings: Any = None

    def side(self, label: str, revision: str, commit: str, dataset: Path, rendered: int,
             reused: int) -> Side:
        cfg = self.config
        ds = load_dataset(dataset, cluster_api=self.cluster_api or cfg.cluster_api,
                          argocd_namespace=self.argocd_namespace,
                          cluster_namespaces=self.cluster_namespaces or cfg.cluster_namespaces)
        cov = coverage(ds)
        found = run_rules(ds, health_check_configured=self.health_check,
                          projects=self.projects, settings=self.settings, cov=cov)
        kept, silenced = apply_policy(found, ds, policy_from(cfg))
        return Side(label, revision, commit, ds, cov, kept, silenced, rendered, reused)


def _sides(analysis: _Analysis, jobs: list[tuple[str, str, str, Rendered]]) -> dict[str, Side]:
    """Both revisions analysed; the first in a forked process while this one does the second
    (the rules of one revision do not wait for the other's), one after the other where fork
    is not there or there is one core."""
    args = [(label, rev, commit, r.dataset, len(r.rendered), len(r.reused))
            for label, rev, commit, r in jobs]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        (os.cpu_count() or 1)
    if cores < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return {a[0]: analysis.side(*a) for a in args}
    with ProcessPoolExecutor(max_workers=1,
                             mp_context=multiprocessing.get_context("fork")) as pool:
        first = pool.submit(analysis.side, *args[0])
        second = analysis.side(*args[1])
        return {args[0][0]: first.result(), args[1][0]: second}


def run_diff(repo: str | Path, base: str, head: str = WORKTREE, *,
             apps_paths: Sequence[str | Path] | None = None,
             repo_map: Sequence[str] | None = None, allow_remote: bool = False,
             jobs: int | None = None, timeout: float = 120, kustomize: str = "auto",
             helm: str = "auto", chart_cache: str | Path | None = None,
             clusters: str | Path | None = None, use_cache: bool = True,
             config: Config | None = None,
             cluster_api: str | None = None, cluster_namespaces: str | None = None,
             argocd_namespace: str | None = None,
             health_check_configured: bool = False, projects: tuple = (),
             settings: Any = None, datasets: str | Path | None = None,
             progress: TextIO | None = None) -> DiffResult:
    """Render ``base`` and ``head`` of the git repository ``repo`` (``head`` ``WORKTREE``: the
    files on disk) and compare what the rules find. ``config`` applies to both revisions;
    ``datasets``: a folder to keep the two datasets in (``base/`` and ``head/``)."""
    started = time.monotonic()
    config = config or Config()
    namespace = argocd_namespace or config.control_plane_namespace or CONTROL_NAMESPACE
    policy_from(config)  # an unknown rule name fails before anything is rendered
    if jobs is not None and int(jobs) < 1:
        raise UsageError(f"--jobs {jobs}: at least 1", todo="pass a positive number of jobs")
    if not timeout or timeout <= 0:
        raise UsageError(f"--timeout {timeout}: must be positive", todo="pass seconds, e.g. 120")
    r = open_repository(repo)
    if datasets is not None:
        for label in ("base", "head"):
            check_out(Path(datasets) / label, str(r.top))
    base_commit, head_commit = r.resolve(base), r.resolve(head)
    if base_commit == WORKTREE:
        raise UsageError("--base WORKTREE: the base is a revision",
                         todo="pass a branch, tag or commit to --base")

    def say(message: str) -> None:
        if progress is not None:
            progress.write(f"diff: {message}\n")
            progress.flush()

    options = Options(allow_remote, jobs, use_cache, float(timeout), kustomize, helm,
                      chart_cache, clusters,
                      argocd_namespace or config.control_plane_namespace)  # as render records
    with tempfile.TemporaryDirectory(prefix="gitops-analysis-diff-") as tmp:
        work = Path(tmp)
        sides = {}
        for label, commit in (("head", head_commit), ("base", base_commit)):
            top = r.top if commit == WORKTREE else work / f"{label}-tree"
            folder = r.materialize(commit, top)
            sides[label] = (folder, r.top if folder == r.folder else top)
        changed = r.changed(base_commit, head_commit)
        rendered: dict[str, Rendered] = {}
        for label in ("head", "base"):
            folder, top = sides[label]
            reuse = Reuse(rendered["head"], frozenset(changed)) if label == "base" else None
            out = Path(datasets) / label if datasets is not None else work / label
            rendered[label] = render_revision(
                folder, out, options, apps_paths=_apps_paths(apps_paths, r, folder, top),
                repo_map=_repo_map(repo_map, config, r, folder, top), reuse=reuse,
                progress=cast(TextIO, _Prefixed(progress, label)) if progress is not None
                else None)
            done = rendered[label]
            say(f"{label}: {plural(len(done.outputs), 'app')}, {len(done.rendered)} rendered" +
                (f", {len(done.reused)} as at the head" if label == "base" else ""))
        analysis = _Analysis(config, cluster_api, cluster_namespaces, namespace,
                             health_check_configured, tuple(projects), settings)
        made = _sides(analysis, [("base", base, base_commit, rendered["base"]),
                                 ("head", head, head_commit, rendered["head"])])
    cov = made["head"].coverage
    if len(cov.frame) and (cov.frame["state"] == "not-analysed").all():
        # what to do, by reason, as check says it (external: the repositories are elsewhere)
        hints = cov.nothing_analysed()[1:]
        todo = "; ".join(h.strip().replace(" to render", "") for h in hints) or (
            "pass --repo-map URL=DIR for the repositories the apps name (REPO is the one its "
            "origin remote names)")
        raise NotADatasetError(
            f"nothing was analysed at the head: {cov.line('head').split(': ', 1)[1]}",
            file=str(repo), todo=todo)
    result = DiffResult(made["base"], made["head"], sorted(changed),
                        match_findings(made["base"].findings, made["head"].findings),
                        changes(made["base"].ds, made["head"].ds))
    say(f"{len(result.findings.new)} new, {len(result.findings.fixed)} fixed, "
        f"{len(result.findings.unchanged)} unchanged in {time.monotonic() - started:.2f} s")
    return result
