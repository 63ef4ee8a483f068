"""The files a render reads, and the copy of them it builds from.

A build never runs in the user's repository: it runs in a temporary copy of exactly the files
its plan lists, so that it cannot read anything else, and its output names no absolute path.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence

from gitops_analysis.core.paths import inside, relative
from gitops_analysis.render.results import Refused, SourcePlan

SKIP_DIRS = (".git",)
#: relative path -> ("file", "") or ("link", its target relative to the link)
Files = dict[str, tuple[str, str]]


def collect_files(real_root: str, folders: list[str],
                  extra_files: Sequence[str] = ()) -> Files:
    """Every file under ``folders`` (and ``extra_files``), relative to ``real_root``.

    Symbolic links are kept as links (their target relative to the link) and their targets are
    collected too; one that leaves the repository raises Refused ``escaped``. ``.git`` is skipped.
    """
    files: Files = {}
    seen: set[str] = set()
    pending = sorted(set(folders), reverse=True)
    for f in extra_files:
        _add_file(real_root, f, files, pending)

    while pending:
        folder = pending.pop()
        if folder in seen:
            continue
        seen.add(folder)
        stack = [folder]
        while stack:
            d = stack.pop()
            try:
                with os.scandir(d) as it:
                    entries = sorted(it, key=lambda e: e.name, reverse=True)
            except OSError:
                continue
            for e in entries:
                if e.name in SKIP_DIRS:
                    continue
                p = os.path.join(d, e.name)
                if e.is_symlink():
                    _add_link(real_root, p, files, pending)
                elif e.is_dir():
                    if p not in seen:
                        seen.add(p)
                        stack.append(p)
                elif e.is_file():
                    files[relative(p, real_root)] = ("file", "")
    return files


def _add_file(real_root: str, path: str, files: Files, pending: list[str]) -> None:
    if os.path.islink(path):
        _add_link(real_root, path, files, pending)
    elif os.path.isfile(path):
        files[relative(path, real_root)] = ("file", "")
    elif os.path.isdir(path):
        pending.append(path)


def _add_link(real_root: str, path: str, files: Files, pending: list[str]) -> None:
    target = os.path.realpath(path)
    rel = relative(path, real_root)
    if not inside(target, real_root):
        raise Refused("escaped", f"{rel}: symbolic link that leaves the repository: refused; "
                      "copy its target into the repository")
    files[rel] = ("link", os.path.relpath(target, os.path.dirname(path)).replace(os.sep, "/"))
    if os.path.isdir(target):
        pending.append(target)
    elif os.path.isfile(target):
        files.setdefault(relative(target, real_root), ("file", ""))


def copy_tree(plan: SourcePlan, base: str) -> None:
    """The files of a plan copied into ``base`` (a temporary folder), links as links."""
    for rel, (kind, payload) in sorted(plan.files.items()):
        dst = os.path.join(base, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if kind == "link":
            os.symlink(payload, dst)
        else:
            shutil.copyfile(os.path.join(plan.root, rel), dst)
    os.makedirs(os.path.join(base, plan.path), exist_ok=True)
