"""Revisions of a git repository as folders, and the files that differ between two of them.

A revision is written out of git into a temporary folder with ``git archive`` (the commit's
files, symbolic links as links, submodules and ``export-ignore`` paths left out), so the user's
checkout, index and worktree list are never touched. The working tree itself (``WORKTREE``),
or a clean checkout of the very commit, is read where it is.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from gitops_analysis.core.errors import InputError, UsageError

WORKTREE = "WORKTREE"  # --head WORKTREE (the default): the files as they are on disk
_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}


def git(args: list[str], cwd: str | Path, *, env: dict[str, str] | None = None,
        what: str = "", todo: str = "pass a folder of a git repository and revisions it has"
        ) -> bytes:
    """Run git; a failure is an InputError naming the folder and git's own message."""
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False,
                              env={**os.environ, **_ENV, **(env or {})}, timeout=600)
    except FileNotFoundError:
        raise UsageError("git is not installed", todo="install git to compare revisions") \
            from None
    except subprocess.TimeoutExpired:
        raise InputError(f"git {args[0]} took longer than 600 s", file=str(cwd),
                         todo="check the repository") from None
    if proc.returncode != 0:
        message = " ".join(proc.stderr.decode("utf-8", "replace").split()) or "failed"
        raise InputError(what or f"git {args[0]}: {message}", file=str(cwd), todo=todo)
    return proc.stdout


@dataclass(frozen=True)
class Repository:
    """REPO inside its git checkout."""

    folder: Path  # REPO as given
    top: Path  # the checkout's top folder (real path)
    prefix: str  # REPO relative to top ('' or 'sub/dir/')

    def resolve(self, rev: str) -> str:
        """The commit a revision names (its full hash), or ``WORKTREE``."""
        if rev == WORKTREE:
            return WORKTREE
        if not rev or rev.startswith("-"):
            raise UsageError(f"revision {rev!r}", todo="pass a branch, tag or commit")
        out = git(["rev-parse", "--verify", "--end-of-options", f"{rev}^{{commit}}"], self.top,
                  what=f"{rev} is not a commit of this repository",
                  todo="pass a branch, tag or commit it has (a shallow clone in CI: fetch the "
                       "base branch first, e.g. fetch-depth: 0)")
        return out.decode().strip()

    def materialize(self, commit: str, into: Path) -> Path:
        """The folder that is REPO at ``commit``: REPO itself for ``WORKTREE``, or when the
        checkout is at that commit with nothing changed, untracked or ignored under REPO; else
        the commit written into ``into`` (``git archive``, read as a stream)."""
        if commit == WORKTREE or self._clean_at(commit):
            return self.folder
        into.mkdir(parents=True, exist_ok=True)
        try:
            proc = subprocess.Popen(["git", "archive", "--format=tar", commit], cwd=self.top,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    env={**os.environ, **_ENV})
        except FileNotFoundError:
            raise UsageError("git is not installed", todo="install git to compare revisions") \
                from None
        assert proc.stdout is not None and proc.stderr is not None
        try:
            with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
                if hasattr(tarfile, "tar_filter"):  # Python >= 3.11.4: no absolute paths
                    tar.extractall(into, filter="tar")
                else:  # pragma: no cover - git writes no such member
                    tar.extractall(into)
        except tarfile.TarError as exc:
            raise InputError(f"git archive {commit[:12]}: {exc}", file=str(self.top),
                             todo="check the repository") from None
        finally:
            proc.stdout.close()
            err = proc.stderr.read().decode("utf-8", "replace")
            proc.stderr.close()
            proc.wait()
        if proc.returncode != 0:
            raise InputError(f"git archive {commit[:12]}: {' '.join(err.split())}",
                             file=str(self.top), todo="check the repository")
        folder = into / self.prefix if self.prefix else into
        folder.mkdir(parents=True, exist_ok=True)  # REPO may not exist at that commit
        return folder

    def _clean_at(self, commit: str) -> bool:
        head = git(["rev-parse", "--verify", "HEAD^{commit}"], self.top).decode().strip()
        if head != commit:
            return False
        status = git(["status", "--porcelain", "--ignored", "--untracked-files=all", "-z", "--",
                      self.prefix or "."], self.top)
        return not status.strip(b"\0")

    def changed(self, base: str, head: str) -> set[str]:
        """Paths (relative to REPO, ``/``-separated) that differ between two revisions: added,
        removed or modified; with ``WORKTREE``, untracked and ignored files count too."""
        scope = ["--", self.prefix or "."]
        if head == WORKTREE:
            out = git(["diff", "--name-only", "--no-renames", "-z", base, *scope], self.top)
            extra = git(["ls-files", "--others", "-z", *scope], self.top)
            out += b"\0" + extra
        else:
            out = git(["diff", "--name-only", "--no-renames", "-z", base, head, *scope], self.top)
        paths = {p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p}
        return {p[len(self.prefix):] for p in paths if p.startswith(self.prefix)}

    def translate(self, path: str | Path, revision_top: Path) -> Path:
        """A path inside the checkout, at a revision written to ``revision_top``; any other
        path as it is."""
        real = Path(os.path.realpath(path))
        try:
            rel = real.relative_to(self.top)
        except ValueError:
            return Path(path)
        return revision_top / rel


def open_repository(folder: str | Path) -> Repository:
    p = Path(folder)
    if not p.is_dir():
        raise InputError("no such folder" if not p.exists() else "not a folder", file=str(folder),
                         todo="pass the repository's folder as REPO")
    out = git(["rev-parse", "--show-toplevel", "--show-prefix"], p,
              what="not inside a git repository",
              todo="pass the folder of a git checkout as REPO (diff compares its revisions)")
    lines = out.decode("utf-8", "surrogateescape").splitlines()
    top = Path(os.path.realpath(lines[0]))
    prefix = lines[1] if len(lines) > 1 else ""
    return Repository(p, top, prefix)
