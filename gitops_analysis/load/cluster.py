"""What the destination cluster already has: ``kubectl api-resources -o wide`` output.

The file is read with the reader's guards (a regular file, a bounded size, UTF-8); a problem is
an :class:`~gitops_analysis.core.errors.InputError` at its line.
"""

from __future__ import annotations

from pathlib import Path

from gitops_analysis.core.errors import InputError
from gitops_analysis.core.kinds import CLUSTER, NAMESPACED
from gitops_analysis.load.yaml_reader import Remark, read_text

_TODO = "pass the output of 'kubectl api-resources -o wide'"
_TODO_UNMODIFIED = "pass unmodified 'kubectl api-resources -o wide' output"


def load_cluster_api(path: str | Path) -> dict[tuple[str, str], str]:
    """Read ``kubectl api-resources -o wide`` output: (group, kind) -> scope."""
    display = str(path)
    text = read_text(path, display)
    if isinstance(text, Remark):
        raise text.input_error()
    lines = text.splitlines()
    if not lines or "NAMESPACED" not in lines[0] or "KIND" not in lines[0]:
        raise InputError("no NAME/APIVERSION/NAMESPACED/KIND header", file=display, line=1,
                         todo=_TODO)
    scopes = {}
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split()
        # SHORTNAMES may be empty, so find fields by their position after APIVERSION
        try:
            api_idx = next(i for i, f in enumerate(fields) if "/" in f or f == "v1")
            api, namespaced, kind = fields[api_idx], fields[api_idx + 1], fields[api_idx + 2]
        except (StopIteration, IndexError):
            raise InputError("cannot read this line", file=display, line=number,
                             todo=_TODO_UNMODIFIED) from None
        if namespaced not in ("true", "false"):
            raise InputError(f"NAMESPACED is {namespaced!r}", file=display, line=number,
                             todo=_TODO_UNMODIFIED)
        group = api.rpartition("/")[0] if "/" in api else ""
        scopes[(group, kind)] = NAMESPACED if namespaced == "true" else CLUSTER
    return scopes
