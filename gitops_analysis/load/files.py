"""The files of a dataset: listed safely, and read with every remark recorded where it belongs.

Symbolic links are followed only while they stay inside the dataset; a link that leaves it,
dangles or loops, and a folder link back to one of its own parents, is listed with the reason
instead, so it becomes a load error rather than an endless or foreign read.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

from gitops_analysis.core.paths import inside
from gitops_analysis.load.yaml_reader import (
    YAML_SUFFIXES,
    DocumentReader,
    RawDocument,
    Remark,
    iter_documents,
)

#: why a path is not read: (what is wrong, what to do)
Problem = tuple[str, str]
_LOOP: Problem = ("symbolic link loop", "refused; remove the link or point it at a file")
# ("file", path, why it is refused or None) or ("dir", path, the folders above it)
_Entry = tuple[str, Path, Problem | None | frozenset[tuple[int, int]]]


def yaml_files(folder: Path, root: Path) -> list[tuple[Path, Problem | None]]:
    """The YAML files under ``folder``, sorted, each with the reason it is refused (or None).

    A refused link (see the module doc) or a folder that cannot be listed is listed with its
    reason, so that it becomes a load error.
    """
    out: list[tuple[Path, Problem | None]] = []
    real_root = os.path.realpath(root)
    if folder.is_symlink():
        problem = link_problem(real_root, folder)
        if problem:
            return [(folder, problem)]
    if not folder.is_dir():
        return out

    def listing(directory: Path, parents: frozenset[tuple[int, int]]) -> list[_Entry]:
        """The entries of one folder, sorted: ("file", path, problem) or ("dir", path, parents)."""
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            return [("file", directory, (f"cannot be listed ({exc.strerror})",
                                         "check the folder"))]
        items: list[_Entry] = []
        for entry in entries:
            path = directory / entry.name
            is_yaml = path.suffix in YAML_SUFFIXES
            if entry.is_symlink():
                problem = link_problem(real_root, path)
                if problem:
                    if is_yaml or problem == _LOOP or os.path.isdir(path):
                        items.append(("file", path, problem))
                    continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                try:
                    st = os.stat(path)
                except OSError as exc:
                    items.append(("file", path, (f"cannot be read ({exc.strerror})",
                                                 "check the folder")))
                    continue
                key = (st.st_dev, st.st_ino)
                if key in parents:
                    items.append(("file", path, ("symbolic link loop (a link to a folder that "
                                                 "holds it)", "refused; remove the link")))
                    continue
                items.append(("dir", path, parents | {key}))
            elif is_yaml:
                items.append(("file", path, None))
        return items

    try:
        st = os.stat(folder)
    except OSError as exc:
        return [(folder, (f"cannot be read ({exc.strerror})", "check the folder"))]
    # depth first, in sorted order, without recursion (folders may nest thousands deep)
    stack: list[_Entry] = [("dir", folder, frozenset({(st.st_dev, st.st_ino)}))]
    while stack:
        _, path, extra = stack.pop()
        if isinstance(extra, frozenset):
            stack.extend(reversed(listing(path, extra)))
        else:
            out.append((path, extra))
    return out


def link_problem(real_root: str, path: Path) -> Problem | None:
    """Why a symbolic link may not be followed: it loops, dangles or leaves the dataset."""
    try:
        target = os.path.realpath(path, strict=True)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return _LOOP
        return ("symbolic link to a file that does not exist",
                "refused; remove the link or restore its target")
    except RuntimeError:  # a loop, on Pythons whose realpath raises it
        return _LOOP
    if not inside(target, real_root):
        return ("symbolic link that leaves the dataset",
                "refused; copy the file into the dataset")
    return None


def printable(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (surrogates in Python) become U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class Collector:
    """The load-error and warning rows of what is read, each with its file and line."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.load_errors: list[dict] = []
        self.warnings: list[dict] = []

    def rel(self, path: Path) -> str:
        return printable(path.relative_to(self.root).as_posix())

    def error(self, part: str, app: str, file: str, doc_index: int, line: int, reason: str,
              item: int = -1) -> None:
        self.load_errors.append({"part": part, "app": app, "file": file, "doc_index": doc_index,
                                 "item": item, "line": line, "reason": reason})

    def warn(self, part: str, app: str, file: str, doc_index: int, line: int,
             reason: str) -> None:
        self.warnings.append({"part": part, "app": app, "file": file, "doc_index": doc_index,
                              "line": line, "reason": reason})

    def remark(self, part: str, app: str, doc_index: int, r: Remark) -> None:
        """A warning of the reader, with the line it carries."""
        self.warn(part, app, r.file, doc_index, r.line, r.message)

    def read(self, path: Path, part: str, app: str,
             problem: Problem | None = None) -> Iterator[RawDocument]:
        """The documents of one file, one at a time, with its warnings recorded.

        A file that cannot be read at all comes out as one document with ``doc_index == -1``
        and an error, so every caller counts it as one document and one load error.
        """
        file = self.rel(path)
        if file != path.relative_to(self.root).as_posix():
            self.warn(part, app, file, -1, 0, f"{file}: a file name that is not UTF-8 (shown "
                      "with \ufffd): rename the file")
        if problem:
            yield RawDocument(file, -1, 0, error=Remark(file, 0, *problem))
            return
        reader = iter_documents(path, file)
        try:
            for d in reader:
                self._file_warnings(reader, part, app)
                for w in d.warnings:
                    self.remark(part, app, d.doc_index, w)
                yield d
        except OSError as exc:
            yield RawDocument(file, -1, 0, error=Remark(
                file, 0, f"cannot be read ({exc.strerror or exc})", "check the file"))
        except RecursionError:  # never seen: the parser's own limits come first
            yield RawDocument(file, -1, 0, error=Remark(file, 0, "nested too deep to read",
                                                        "refused; fix the file"))
        self._file_warnings(reader, part, app)

    def _file_warnings(self, reader: DocumentReader, part: str, app: str) -> None:
        for w in reader.warnings:
            self.remark(part, app, -1, w)
        reader.warnings.clear()
