"""YAML in ``render``: every file through the one hardened reader, one thread at a time.

Application files, kustomization files, ``.argocd-source*.yaml``, ``Chart.yaml``, plain
directory manifests and rendered output are all read by
:mod:`gitops_analysis.load.yaml_reader` (JSON manifests by
:mod:`gitops_analysis.load.json_reader`), with its limits (tags, alias expansion, depth, size)
and its per-document errors.

The reader silences rapidyaml's own error printing by pointing file descriptor 2 at /dev/null
while it parses. Render parses in worker threads, so parsing and render's own writes to
stderr (progress, warnings) take turns on :data:`STDERR`; otherwise a progress line written
during a parse would be lost.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from gitops_analysis.load.json_reader import read_json
from gitops_analysis.load.yaml_reader import RawDocument, Remark, read_documents, read_text

STDERR = threading.Lock()


def read_yaml(path: str | Path, display: str) -> tuple[list[RawDocument], Remark | None]:
    """Every non-empty document of a YAML stream file: (documents, None), or ([], the problem
    of a file that cannot be read as YAML at all)."""
    with STDERR:
        try:
            docs, _, problem = read_documents(path, display)
        except OSError as exc:
            return [], Remark(display, 0, f"cannot be read ({exc.strerror or exc})",
                              "check the file")
    return docs, problem


def read_json_file(path: str | Path, display: str) -> tuple[list[RawDocument], Remark | None]:
    """The one document of a JSON file (none when it is empty), as :func:`read_yaml`."""
    try:
        docs, _, problem = read_json(path, display)
    except OSError as exc:
        return [], Remark(display, 0, f"cannot be read ({exc.strerror or exc})",
                          "check the file")
    return docs, problem


def read_single(path: str | Path, display: str) -> tuple[str, Any] | Remark:
    """(text, data) of a file that holds one YAML document (a kustomization, ``Chart.yaml``,
    ``.argocd-source.yaml``; data None when it holds none), or what is wrong with it."""
    docs, problem = read_yaml(path, display)
    if problem is not None:
        return problem
    if len(docs) > 1:
        return Remark(display, docs[1].line, "more than one YAML document",
                      "keep one document in the file")
    if docs and docs[0].error is not None:
        return docs[0].error
    text = read_text(path, display)
    if isinstance(text, Remark):
        return text
    return text, docs[0].data if docs else None


def strings(value: object) -> list[str]:
    """The strings of a field that holds one string or a list of them."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def mapping(value: object) -> dict[str, Any]:
    """A field that should hold a mapping: the mapping, else an empty one."""
    return value if isinstance(value, dict) else {}
