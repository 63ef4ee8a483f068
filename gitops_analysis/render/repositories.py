"""Which repository URL is which local folder.

An Application names its sources by ``repoURL``; ``render`` renders the ones whose repository
is here: REPO itself (its ``origin`` remote, or the one URL every app names when REPO has
none) and the checkouts given with ``--repo-map URL=DIR``. Every other source is ``external``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from gitops_analysis.core.errors import UsageError

#: ``--repo-map``: ``{url: folder}`` or ``["URL=DIR", ...]`` / ``[(url, folder), ...]``
RepoMap = dict[str, str] | Sequence[str | tuple[str, str]]


def url_key(url: str) -> str:
    """A repository URL reduced to ``host/path`` so that https, ssh and scp forms compare equal.

    Argo CD's ``git.NormalizeGitURL`` lowercases and drops ``.git``; here the scheme, user and
    port go too, so a checkout cloned over ssh matches Applications that name its https URL.
    """
    u = url.strip()
    host, path = "", u
    if "://" in u:
        rest = u.split("://", 1)[1]
        authority, _, path = rest.partition("/")
        host = authority.rsplit("@", 1)[-1]
        if host.startswith("["):  # an IPv6 literal keeps its colons
            host = host.split("]", 1)[0] + "]"
        else:
            host = host.split(":", 1)[0]
    else:
        m = re.match(r"^(?:[^@/:]+@)?([^/:]+):(.*)$", u)  # scp form: git@host:org/repo
        if m:
            host, path = m.group(1), m.group(2)
    path = path.split("?", 1)[0].split("#", 1)[0].strip("/")
    if path.lower().endswith(".git"):
        path = path[:-4]
    return f"{host.lower()}/{path.lower()}".strip("/")


def git_origin(repo: Path) -> str | None:
    """``git remote get-url origin`` of a checkout, read from its config file (git is not run).

    Only ``REPO/.git`` counts (a folder, or a file ``gitdir: ...`` for worktrees and
    submodules): a folder that merely sits inside some other checkout is not that checkout.
    """
    dot_git = repo / ".git"
    config: Path | None = None
    if dot_git.is_dir():
        config = dot_git / "config"
    elif dot_git.is_file():
        try:
            first = dot_git.read_text(encoding="utf-8", errors="replace").splitlines()[0]
        except (OSError, IndexError):
            return None
        if first.startswith("gitdir:"):
            gitdir = Path(first[len("gitdir:"):].strip())
            gitdir = gitdir if gitdir.is_absolute() else repo / gitdir
            common = gitdir / "commondir"
            if common.is_file():
                try:
                    c = Path(common.read_text(encoding="utf-8").strip())
                except OSError:
                    c = Path(".")
                gitdir = c if c.is_absolute() else gitdir / c
            config = gitdir / "config"
    if config is None or not config.is_file():
        return None
    try:
        lines = config.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    section = None
    for raw in lines:
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        m = re.match(r'^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]', line)
        if m:
            section = (m.group(1).lower(), m.group(2))
            continue
        if section == ("remote", "origin"):
            key, sep, value = line.partition("=")
            if sep and key.strip().lower() == "url":
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1]
                return value
    return None


def parse_repo_map(repo_map: RepoMap | None) -> list[tuple[str, str]]:
    """(url, folder) pairs of ``--repo-map``; a malformed entry is a usage error."""
    if not repo_map:
        return []
    items = repo_map.items() if isinstance(repo_map, dict) else repo_map
    out = []
    for item in items:
        if isinstance(item, str):
            url, sep, folder = item.rpartition("=")
            if not sep or not url or not folder:
                raise UsageError(f"--repo-map {item}: expected URL=DIR",
                                 todo="write it as https://host/org/repo.git=path/to/checkout")
        else:
            url, folder = item
        out.append((str(url), str(folder)))
    return out


class Roots(dict):
    """``url_key`` -> real path of the local folder that holds that repository; ``guessed``:
    the keys taken to be REPO without anything saying so."""

    guessed: frozenset[str] = frozenset()


def roots(repo: Path, repo_map: RepoMap | None, source_urls: Iterable[tuple[str, str]]
          ) -> Roots:
    """``url_key`` -> real path of the local folder that holds that repository.

    ``source_urls``: (``repoURL``, path) of every (non-chart) source of the apps (the path
    '' when unknown); when REPO has no
    ``origin`` and no ``--repo-map`` is given, a single URL among them is taken to be REPO (a
    guess: ``guessed`` says so until a source of that URL finds its path in REPO, and a path
    REPO lacks is then no finding).
    """
    found = Roots()
    repo_real = os.path.realpath(repo)
    origin = git_origin(repo)
    if origin:
        found[url_key(origin)] = repo_real
    pairs = parse_repo_map(repo_map)
    for url, folder in pairs:
        if not os.path.isdir(folder):
            raise UsageError(f"--repo-map {url}={folder}: {folder} is not a folder",
                             todo="map the URL to a local checkout")
        found[url_key(url)] = os.path.realpath(folder)
    if not origin and not pairs:
        keys = {url_key(u) for u, _ in source_urls}
        if len(keys) == 1:
            key = keys.pop()
            found[key] = repo_real
            if not any(os.path.isdir(os.path.join(repo_real, p.lstrip("/")))
                       for _, p in source_urls):
                found.guessed = frozenset({key})
    return found
