"""A plain directory source: its manifest files, selected, ordered and checked as Argo CD does.

Argo CD's ``findManifests``: ``*.yaml``, ``*.yml``, ``*.json`` (``*.jsonnet`` is not rendered
here); ``recurse``; ``include``/``exclude`` globs with Argo CD's glob flavour, where ``*`` also
matches ``/``; the ``+argocd:skip-file-rendering`` marker. The output is the files as they are.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from typing import Any

from gitops_analysis.core.globs import glob_match
from gitops_analysis.core.paths import inside, relative
from gitops_analysis.core.version import __version__
from gitops_analysis.render.files import SKIP_DIRS
from gitops_analysis.render.reading import read_json_file, read_yaml
from gitops_analysis.render.results import Built, Refused, SourcePlan, repo_server_error

VERSION = f"gitops-analysis {__version__}"  # the directory renderer is this project
SKIP_MARKER = b"+argocd:skip-file-rendering"
_MANIFEST_FILE = re.compile(r"^.*\.(yaml|yml|json|jsonnet)$", re.S)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _walk(top: str, recurse: bool) -> Iterator[tuple[str, str, bool]]:
    """(path, name, is a link) of every entry that is not a folder, in ``filepath.Walk``'s
    order (names sorted, a folder's entries where its name sorts); no recursion, so folders may
    nest as deep as the file system allows."""
    stack = [iter(_sorted_names(top))]
    folders = [top]
    while stack:
        name = next(stack[-1], None)
        if name is None:
            stack.pop()
            folders.pop()
            continue
        p = os.path.join(folders[-1], name)
        is_link = os.path.islink(p)
        if not is_link and os.path.isdir(p):
            if recurse and name not in SKIP_DIRS:
                stack.append(iter(_sorted_names(p)))
                folders.append(p)
            continue
        yield p, name, is_link


def _sorted_names(folder: str) -> list[str]:
    try:
        return sorted(os.listdir(folder))
    except OSError:
        return []


def plan_directory(plan: SourcePlan, real_root: str, app_dir: str,
                   directory: dict[str, Any]) -> None:
    """Argo CD's ``getPotentiallyValidManifests``: which files, in which order (filepath.Walk)."""
    include = directory.get("include") if isinstance(directory.get("include"), str) else ""
    exclude = directory.get("exclude") if isinstance(directory.get("exclude"), str) else ""
    chosen: list[str] = []
    jsonnet: list[str] = []
    for p, name, is_link in _walk(app_dir, directory.get("recurse") is True):
        if not _MANIFEST_FILE.match(name):
            continue
        rel_app = os.path.relpath(p, app_dir).replace(os.sep, "/")
        real = p
        if is_link:
            real = os.path.realpath(p)
            if not os.path.exists(real):
                continue  # Argo CD skips a dangling link with a warning
            if not inside(real, real_root):
                raise Refused("escaped", f"{relative(p, real_root)}: symbolic link that leaves "
                              "the repository (Argo CD: illegal filepath in symlink): "
                              "refused; copy its target into the repository", "directory")
        if not os.path.isfile(real):
            continue
        if exclude and glob_match(exclude, rel_app):
            continue
        if include and not glob_match(include, rel_app):
            continue
        try:
            with open(real, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise Refused("failed", f"{relative(p, real_root)}: cannot be read "
                          f"({exc.strerror}): check the file", "directory") from None
        if SKIP_MARKER in data:
            continue
        if name.endswith(".jsonnet"):
            jsonnet.append(relative(p, real_root))
        chosen.append(relative(p, real_root))
    if jsonnet:
        raise Refused("unsupported", f"jsonnet files ({', '.join(jsonnet)}) are not rendered "
                      "by gitops-analysis (no jsonnet renderer): render them with Argo CD "
                      "(argocd app manifests) and commit the output as a plain directory",
                      "directory")
    plan.type, plan.renderer = "directory", "directory"
    plan.directory_files = chosen


def _check_json(path: str, rel: str) -> str:
    """Why a .json file fails the render: Argo CD unmarshals it as one object ("" when it is
    one)."""
    docs, problem = read_json_file(path, rel)
    if problem is not None:
        return _where(rel, problem.line) + problem.what
    if not docs:
        return _unmarshal(rel, 0, "no JSON object (an empty file)")
    doc = docs[0]
    if doc.error is not None:
        return _unmarshal(rel, doc.error.line, doc.error.what)
    return "" if isinstance(doc.data, dict) else _unmarshal(rel, doc.line, "not an object")


def _where(rel: str, line: int) -> str:
    return f"{rel}:{line}: " if line else f"{rel}: "


def _unmarshal(rel: str, line: int, what: str) -> str:
    """A document Argo CD cannot use, in its words."""
    return f"{_where(rel, line)}Failed to unmarshal {rel.rsplit('/', 1)[-1]!r}: {what}"


def _check_yaml(path: str, rel: str, looks_like_manifest: bool) -> tuple[bool, str]:
    """(whether the file is rendered, why it fails the render: "" when it does not).

    Argo CD fails on a document it cannot unmarshal as an object with a kind, but ignores a
    YAML file that is no manifest: one that does not look like one and has no object before
    the problem.
    """
    docs, problem = read_yaml(path, rel)
    if problem is not None:
        return False, _where(rel, problem.line) + problem.what
    objects = 0
    for doc in docs:
        if doc.error is not None:
            line, error = doc.error.line, doc.error.what
        elif doc.data is None:
            continue
        elif not isinstance(doc.data, dict):
            line, error = doc.line, "not a mapping"
        elif not doc.data.get("kind"):
            line, error = doc.line, "Object 'Kind' is missing"
        else:
            objects += 1
            continue
        return False, _unmarshal(rel, line, error) if objects or looks_like_manifest else ""
    return True, ""


def _check(path: str, rel: str, raw: bytes) -> tuple[bool, str]:
    """(whether the file is rendered, why it fails the render: "" when it does not)."""
    if rel.endswith(".json"):
        problem = _check_json(path, rel)
        return not problem, problem
    looks_like_manifest = all(k in raw for k in (b"apiVersion:", b"kind:", b"metadata:"))
    return _check_yaml(path, rel, looks_like_manifest)


def render_directory(plan: SourcePlan) -> Built:
    """Argo CD's findManifests over the selected files; the output is the files as they are."""
    parts = []
    for rel in plan.directory_files:
        name = rel.rsplit("/", 1)[-1]
        path = os.path.join(plan.root, rel)
        try:
            with open(path, "rb") as fh:
                raw = fh.read()
            # Argo CD reads UTF-16 with a byte-order mark too; the output is UTF-8
            utf16 = raw.startswith(_UTF16_BOMS)
            text = raw.decode("utf-16") if utf16 else raw.decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            return Built("failed", message=f"{rel}: cannot be read ({exc}): fix the file")
        if utf16:  # the readers read UTF-8: give them the text as such
            with tempfile.TemporaryDirectory(prefix="gitops-analysis-utf16-") as tmp:
                copy = os.path.join(tmp, name)
                with open(copy, "w", encoding="utf-8") as fh:
                    fh.write(text)
                rendered, problem = _check(copy, rel, raw)
        else:
            rendered, problem = _check(path, rel, raw)
        if problem:
            todo = " (one JSON object per file)" if name.endswith(".json") else ""
            # reposerver getObjsFromYAMLOrJSON: status FailedPrecondition, Failed to unmarshal
            what = problem[problem.find("Failed to unmarshal"):] \
                if "Failed to unmarshal" in problem else problem
            return Built("failed", message=f"{problem}: fix the file{todo}",
                         failure=repo_server_error(what, "manifest", "FailedPrecondition"))
        if rendered:
            parts.append(text if text.endswith("\n") or not text else text + "\n")
    return Built("ok", "---\n".join(parts))
