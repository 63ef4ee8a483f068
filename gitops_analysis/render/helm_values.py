"""The values of ``helm template``: value files, ``--set*`` flags, merged in Helm's order.

Helm's ``values.Options.MergeValues`` (``pkg/cli/values/options.go``, v4.2.1): every
``--values`` file in order (each a stream of YAML documents, merged), then ``--set-json``,
``--set``, ``--set-string``, ``--set-file``, ``--set-literal``; maps merge key by key, anything
else is replaced (``loader.MergeMaps``). YAML and ``--set`` expressions are parsed by the Helm Go
library itself (helm-python-sdk), so their types are Helm's. What differs: ``--set`` is parsed on
its own and then merged, where Helm parses it into the values so far, so ``--set list[1]=x`` over
a list from a value file gives ``[null, x]`` (Helm: the list edited in place).

Only the standard library and ``helm_python`` are imported: this runs inside the Helm worker.
"""

from __future__ import annotations

import os
from typing import Any

MAX_VALUES_BYTES = 64 << 20


class HelmFailure(Exception):
    """``helm template`` failed: Helm's own message (what the CLI prints after ``Error: ``).

    ``rendered``: the failure came out of rendering (Helm then adds its ``--debug`` hint).
    """

    def __init__(self, message: str, rendered: bool = False) -> None:
        super().__init__(message)
        self.rendered = rendered


def merge_maps(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Helm ``loader.MergeMaps``: b wins; maps are merged key by key."""
    out = dict(a)
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge_maps(out[k], v)
        else:
            out[k] = v
    return out


def _go_open_error(verb: str, path: str, exc: OSError) -> HelmFailure:
    """An ``os.ReadFile`` error as Go prints it: ``open x: no such file or directory``."""
    reason = (exc.strerror or str(exc)).lower()
    return HelmFailure(f"{verb} {path}: {reason}")


def read_file(path: str, cwd: str) -> bytes:
    """Helm's ``readFile`` for a local path (relative to ``cwd``); URLs are not read here."""
    full = os.path.join(cwd, path)
    if os.path.isdir(full):
        raise HelmFailure(f"read {path}: is a directory")
    try:
        with open(full, "rb") as fh:
            data = fh.read(MAX_VALUES_BYTES + 1)
    except OSError as exc:
        raise _go_open_error("open", path, exc) from None
    if len(data) > MAX_VALUES_BYTES:
        raise HelmFailure(f"read {path}: larger than {MAX_VALUES_BYTES >> 20} MiB")
    return data


def yaml_documents(text: str) -> list[str]:
    """k8s ``YAMLReader``: documents split at lines that start with ``---`` followed by
    nothing but spaces or a comment."""
    docs: list[str] = []
    current: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("---"):
            rest = line[3:].strip()
            if rest and not rest.startswith("#"):
                raise HelmFailure(f"error reading yaml document: invalid Yaml document "
                                  f"separator: {rest}")
            if current:
                docs.append("".join(current))
            current = []
            continue
        current.append(line)
    if current:
        docs.append("".join(current))
    return docs


def load_values(text: str) -> dict[str, Any]:
    """Helm ``loader.LoadValues``: every document of a values stream, merged."""
    import helm_python

    values: dict[str, Any] = {}
    for doc in yaml_documents(text):
        try:
            current = helm_python.values_from_yaml(doc)
        except helm_python.HelmError as exc:
            raise HelmFailure(f"cannot unmarshal yaml document: {exc}") from None
        values = merge_maps(values, current or {})
    return values


def _set_values(kind: str, expression: str) -> dict[str, Any]:
    """One ``--set*`` flag parsed by Helm's ``strvals`` (``--set-file`` paths: relative to the
    process's working folder, which the Helm worker sets to the run's)."""
    import helm_python

    parse = {"set": helm_python.parse_set_string,
             "set-string": helm_python.parse_set_string_values,
             "set-json": helm_python.parse_set_json,
             "set-literal": helm_python.parse_set_literal,
             "set-file": helm_python.parse_set_file}[kind]
    try:
        return parse(expression)
    except helm_python.HelmError as exc:
        raise HelmFailure(f"failed parsing --{kind} data: {exc}") from None


def merge_values(value_files: list[str], flags: list[tuple[str, str]],
                 cwd: str) -> dict[str, Any]:
    """Helm ``MergeValues``: ``value_files`` in order, then the ``--set*`` flags by kind in
    Helm's order (``flags``: (kind, expression) with kind set-json, set, set-string,
    set-file or set-literal, in the order given)."""
    base: dict[str, Any] = {}
    for path in value_files:
        raw = read_file(path, cwd)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise HelmFailure(f"failed to parse {path}: not UTF-8 text") from None
        try:
            current = load_values(text)
        except HelmFailure as exc:
            raise HelmFailure(f"failed to parse {path}: {exc}") from None
        base = merge_maps(base, current)
    for kind in ("set-json", "set", "set-string", "set-file", "set-literal"):
        for k, expression in flags:
            if k == kind:
                base = merge_maps(base, _set_values(kind, expression))
    return base
