"""Paths compared as strings: whether one lies inside another, and how it reads from there.

Both helpers compare the paths as they are given: resolve symbolic links first
(``os.path.realpath``) wherever a link must not lead outside.
"""

from __future__ import annotations

import os

StrPath = str | os.PathLike[str]


def inside(path: StrPath, root: StrPath) -> bool:
    """Whether ``path`` is ``root`` itself or lies below it."""
    p, r = os.fspath(path), os.fspath(root)
    return p == r or p.startswith(r.rstrip(os.sep) + os.sep)


def relative(path: StrPath, root: StrPath) -> str:
    """``path`` relative to ``root`` with ``/`` separators; ``.`` for ``root`` itself."""
    rel = os.path.relpath(path, root)
    return "." if rel == "." else rel.replace(os.sep, "/")
