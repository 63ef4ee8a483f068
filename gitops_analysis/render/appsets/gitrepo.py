"""The Git generator's view of a repository, from a local checkout (or a plain folder).

- Directories (``reposerver/repository/repository.go`` ``GetGitDirectories``): every directory at
  every depth of the checkout, relative, in ``filepath.WalkDir`` order, the root left out; a
  directory whose name starts with ``.`` is skipped with everything under it (unless the repo
  server runs with ``--include-hidden-directories``). Links are not followed. A checkout only has
  the directories Git tracks, so an empty folder of a plain folder is left out too.
- Files (``util/git/client.go`` ``LsFiles``): by default ``git ls-files -- <pattern>``, whose
  pathspec is fnmatch without ``FNM_PATHNAME`` (``*`` also matches ``/``) and whose literal
  pattern also names every file below a directory; with the controller's
  ``--enable-new-git-file-globbing``, doublestar (``*`` within one segment, ``**`` across
  segments). Git is never run here: the folder is walked (untracked files count too), and a
  file that links outside the checkout is left out.
- Directory patterns (``git.go`` ``filterApps``): Go's ``path.Match``: ``*`` and ``?`` stop at
  ``/``, ``[...]`` classes, no ``**``; a pattern with a syntax error matches nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from gitops_analysis.core.paths import inside


def walk_directories(root: str, include_hidden: bool = False) -> list[str]:
    """The directories the repo server lists, relative to ``root`` with ``/``."""
    out: list[str] = []

    def walk(folder: str, rel: str) -> bool:
        """Adds the directories under ``folder``; whether it holds a file at any depth."""
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return False
        has_file = False
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name.startswith(".") and not include_hidden:
                    continue
                child = f"{rel}/{entry.name}" if rel else entry.name
                index = len(out)
                out.append(child)
                if walk(entry.path, child):
                    has_file = True
                else:  # nothing Git could track below it
                    del out[index:]
            else:
                has_file = True
        return has_file

    walk(root, "")
    return out


def _files(root: str) -> Iterator[str]:
    """Every file under ``root`` (``.git`` left out), relative with ``/``, sorted."""
    real_root = os.path.realpath(root)
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != ".git" and
                         not os.path.islink(os.path.join(folder, d)))
        for name in files:
            path = os.path.join(folder, name)
            if os.path.islink(path) and not inside(os.path.realpath(path), real_root):
                continue
            found.append(os.path.relpath(path, root).replace(os.sep, "/"))
    yield from sorted(found)


def _class(pattern: str, i: int, negations: str) -> tuple[str, int] | None:
    """A ``[...]`` class at ``pattern[i]``: (regex, index after it), None when unclosed."""
    j = i + 1
    neg = j < len(pattern) and pattern[j] in negations
    if neg:
        j += 1
    body = []
    first = True
    while j < len(pattern) and (pattern[j] != "]" or first):
        c = pattern[j]
        if c == "\\" and j + 1 < len(pattern):
            body.append(re.escape(pattern[j + 1]))
            j += 2
        elif c == "[" and pattern.startswith("[:", j):
            end = pattern.find(":]", j + 2)
            if end < 0:
                return None
            body.append(_POSIX.get(pattern[j + 2:end], ""))
            j = end + 2
        else:
            if j + 2 < len(pattern) and pattern[j + 1] == "-" and pattern[j + 2] != "]":
                body.append(re.escape(c) + "-" + re.escape(pattern[j + 2]))
                j += 3
            else:
                body.append(re.escape(c))
                j += 1
        first = False
    if j >= len(pattern):
        return None
    return ("[^" if neg else "[") + "".join(body) + "]", j + 1


_POSIX = {"alnum": "a-zA-Z0-9", "alpha": "a-zA-Z", "digit": "0-9", "lower": "a-z",
          "upper": "A-Z", "space": r"\s", "xdigit": "0-9a-fA-F", "punct": re.escape(
              "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"), "blank": r" \t", "cntrl": r"\x00-\x1f",
          "graph": r"!-~", "print": r" -~"}


def _translate(pattern: str, star: str, single: str, negations: str,
               braces: bool = False) -> str | None:
    out: list[str] = []
    i, depth = 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            if i + 1 >= len(pattern):
                return None
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "*":
            if star == "doublestar" and pattern.startswith("**", i):
                before_ok = i == 0 or pattern[i - 1] == "/"
                after = pattern[i + 2:i + 3]
                if before_ok and after in ("", "/"):
                    out.append("(?:[^/]*(?:/[^/]*)*/)?" if after == "/" else ".*")
                    i += 3 if after == "/" else 2
                    continue
            out.append("[^/]*" if star in ("segment", "doublestar") else ".*")
        elif c == "?":
            out.append(single)
        elif c == "[":
            cls = _class(pattern, i, negations)
            if cls is None:
                return None
            out.append(cls[0])
            i = cls[1]
            continue
        elif braces and c == "{":
            out.append("(?:")
            depth += 1
        elif braces and c == "}" and depth:
            out.append(")")
            depth -= 1
        elif braces and c == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(c))
        i += 1
    if depth:
        return None
    return "".join(out)


def path_match(pattern: str, name: str) -> bool:
    """Go's ``path.Match`` (a bad pattern matches nothing)."""
    rx = _translate(pattern, "segment", "[^/]", "^")
    try:
        return rx is not None and re.fullmatch(rx, name, re.S) is not None
    except re.error:
        return False


def _has_wildcard(pattern: str) -> bool:
    return any(c in pattern for c in "*?[\\")


def ls_files(root: str, pattern: str, new_globbing: bool = False) -> list[str]:
    """The files ``git ls-files -- <pattern>`` (or doublestar) lists, relative, sorted."""
    pattern = pattern.removeprefix("./")
    files = list(_files(root))
    if new_globbing:
        rx = _translate(pattern, "doublestar", "[^/]", "^!", braces=True)
        if rx is None:
            return []
        compiled = re.compile(rx + r"\Z", re.S)
        return [f for f in files if compiled.match(f)]
    if not _has_wildcard(pattern):  # a path: that file, or every file below that folder
        folder = pattern.rstrip("/") + "/"
        return [f for f in files if f == pattern or (pattern and f.startswith(folder))]
    rx = _translate(pattern, "any", ".", "!^")
    if rx is None:
        return []
    compiled = re.compile(rx + r"\Z", re.S)
    return [f for f in files if compiled.match(f)]
