"""What the destination cluster already has: ``kubectl api-resources -o wide`` output.

The file is read with the reader's guards (a regular file, a bounded size, UTF-8); a problem is
an :class:`~gitops_analysis.core.errors.InputError` at its line.
"""

from __future__ import annotations

from pathlib import Path

from gitops_analysis.core.errors import InputError
from gitops_analysis.core.kinds import CLUSTER, NAMESPACED
from gitops_analysis.load.json_reader import read_json_or_yaml
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


_TODO_NS = ("pass the output of 'kubectl get namespaces -o json' (or -o yaml, or -o name)")


def load_cluster_namespaces(path: str | Path) -> frozenset[str]:
    """Namespaces the destination cluster already has: ``kubectl get namespaces -o json|yaml``
    (a List of Namespace objects) or ``-o name`` (``namespace/<name>`` lines)."""
    p, display = Path(path), str(path)
    text = read_text(p, display)
    if isinstance(text, Remark):
        raise text.input_error()
    stripped = text.strip()
    if not stripped:
        raise InputError("no namespaces in the file", file=display, line=1, todo=_TODO_NS)
    first = stripped.splitlines()[0].strip()
    if "/" in first and ":" not in first and not first.startswith(("{", "[")):  # -o name
        names = set()
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            kind, _, name = line.strip().partition("/")
            if kind not in ("namespace", "namespaces") or not name:
                raise InputError(f"{line.strip()!r} is not namespace/<name>", file=display,
                                 line=number, todo=_TODO_NS)
            names.add(name)
        return frozenset(names)
    docs, _, problem = read_json_or_yaml(p, display, json_todo=_TODO_NS)
    if problem:
        raise problem.input_error(_TODO_NS)
    found: set[str] = set()
    for d in docs:
        if d.error:
            raise d.error.input_error(_TODO_NS)
        data = d.data
        items = data.get("items") if isinstance(data, dict) and "items" in data else [data]
        if not isinstance(items, list):
            raise InputError("items is not a list", file=display, line=d.line, todo=_TODO_NS)
        for item in items:
            meta = item.get("metadata") if isinstance(item, dict) else None
            ns = meta.get("name") if isinstance(meta, dict) else None
            if not isinstance(item, dict) or item.get("kind") != "Namespace" or \
                    not isinstance(ns, str):
                raise InputError("an item that is not a Namespace with a name", file=display,
                                 line=d.line, todo=_TODO_NS)
            found.add(ns)
    return frozenset(found)
