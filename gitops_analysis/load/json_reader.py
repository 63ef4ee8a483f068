"""JSON files through the reader's guards and limits: ``read_json`` and ``read_json_or_yaml``.

JSON is parsed by Python's ``json`` module (fast, and exact about JSON), but only after the
checks every YAML document passes (:mod:`~gitops_analysis.load.yaml_reader`): a regular file,
no larger than the limit, UTF-8, nested no deeper than :data:`~yaml_limits.MAX_DEPTH`. A file is
one document; its problems are :class:`~yaml_reader.Remark` records with their lines, and the
results have the shape of :func:`~yaml_reader.read_documents`, so that a caller reads JSON and
YAML alike.
"""

from __future__ import annotations

import bisect
import json
import re
from pathlib import Path
from typing import Any

from gitops_analysis.load import yaml_limits as limits
from gitops_analysis.load.yaml_reader import (
    YAML_SUFFIXES,
    RawDocument,
    Remark,
    clip,
    read_documents,
    read_text,
)
from gitops_analysis.load.yaml_stream import open_regular

JSON_SUFFIXES = (".json",)
_Result = tuple[list[RawDocument], list[Remark], Remark | None]
_NON_BLANK = re.compile(r"[^ \t\r\n]")


def read_json(path: str | Path, display: str, *, max_bytes: int | None = None,
              item_lines: bool = False, todo: str = "fix the JSON") -> _Result:
    """The one document of a JSON file: (documents, warnings, file error), as read_documents.

    An empty file has no document. ``todo`` is what to do about a file that is not valid JSON.
    With ``item_lines``, the document carries the line of each entry of a top-level array, or
    of the ``items`` array of a top-level object.
    """
    text = read_text(path, display, max_bytes)
    if isinstance(text, Remark):
        return [], [], text
    m = _NON_BLANK.search(text)
    if m is None:
        return [], [], None
    lines = _Lines(text)
    doc = RawDocument(display, 0, lines.at(m.start()))
    deep = limits.json_too_deep(text)
    if deep is not None:
        doc.error = Remark(display, lines.at(deep), f"nested more than {limits.MAX_DEPTH} "
                           "levels deep", "refused; Kubernetes objects never nest this deep, "
                           "fix the document")
        return [doc], [], None
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(items)
        if len(out) != len(items):
            seen: set[str] = set()
            for k, _ in items:
                if k in seen:
                    duplicates.append(k)
                seen.add(k)
        return out

    try:
        doc.data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        cut = exc.lineno >= text.rstrip().count("\n") + 1  # the error is on the last line
        doc.error = Remark(display, exc.lineno, f"not valid JSON ({exc.msg} at column "
                           f"{exc.colno})" + (": the file ends in the middle of a value (cut "
                                              "short?)" if cut else ""), todo)
    except RecursionError:  # never seen: the depth is checked first
        doc.error = Remark(display, doc.line, "nested too deep to read",
                           "refused; fix the document")
    except MemoryError:
        doc.error = Remark(display, doc.line, "too large to read in memory", "refused; split it")
    except ValueError as exc:  # an integer with more digits than Python converts
        doc.error = Remark(display, doc.line, f"a value JSON cannot read ({clip(str(exc))})",
                           "fix the value")
    doc.warnings = [Remark(display, 0, f"duplicate key {key!r} in a JSON object",
                           "the last value is used, as kubectl and Argo CD do; remove the "
                           "duplicate") for key in dict.fromkeys(duplicates)]
    if item_lines and doc.error is None:
        offsets = _item_offsets(text, doc.data)
        doc.item_lines = None if offsets is None else [lines.at(o) for o in offsets]
    return [doc], [], None


def read_json_or_yaml(path: Path, display: str, *, max_bytes: int | None = None,
                      item_lines: bool = False, json_todo: str = "fix the JSON") -> _Result:
    """A file that may hold JSON or YAML: ``.json`` is JSON, ``.yaml``/``.yml`` YAML, and any
    other file JSON when it starts with ``{`` or ``[``. See read_json and read_documents."""
    suffix = path.suffix.lower()
    if suffix in JSON_SUFFIXES or suffix not in YAML_SUFFIXES and _looks_like_json(path):
        return read_json(path, display, max_bytes=max_bytes, item_lines=item_lines,
                         todo=json_todo)
    return read_documents(path, display, max_bytes=max_bytes, item_lines=item_lines)


def _looks_like_json(path: Path) -> bool:
    try:
        f, _ = open_regular(path)  # a named pipe must not block
        if f is None:
            return False  # the reader says why
        with f:
            head = f.read(64 << 10)
    except OSError:
        return False
    return head.lstrip(b" \t\r\n\xef\xbb\xbf")[:1] in (b"{", b"[")


class _Lines:
    """Offsets of a text -> 1-based lines."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def at(self, offset: int) -> int:
        return bisect.bisect_right(self._starts, offset)


def _skip_ws(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] in " \t\r\n":
        i += 1
    return i


def _array_offsets(text: str, i: int, dec: json.JSONDecoder) -> list[int]:
    """Offsets of the elements of the JSON array that starts at ``text[i] == '['``."""
    offsets: list[int] = []
    i = _skip_ws(text, i + 1)
    if text[i] == "]":
        return offsets
    while True:
        offsets.append(i)
        _, i = dec.raw_decode(text, i)
        i = _skip_ws(text, i)
        if text[i] == ",":
            i = _skip_ws(text, i + 1)
            continue
        return offsets


def _item_offsets(text: str, data: Any) -> list[int] | None:
    """Offsets of the entries of a valid JSON text's top-level array or ``items`` array."""
    dec = json.JSONDecoder()
    i = _skip_ws(text, 0)
    try:
        if isinstance(data, list):
            return _array_offsets(text, i, dec)
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            return None
        offsets: list[int] = []
        i = _skip_ws(text, i + 1)
        while text[i] != "}":
            key, i = dec.raw_decode(text, i)
            i = _skip_ws(text, _skip_ws(text, i) + 1)  # past ':'
            if key == "items" and text[i] == "[":
                offsets = _array_offsets(text, i, dec)  # the last 'items' wins, as in json
            _, i = dec.raw_decode(text, i)
            i = _skip_ws(text, i)
            if text[i] == ",":
                i = _skip_ws(text, i + 1)
        return offsets
    except (ValueError, IndexError, RecursionError):  # never seen: the text was parsed
        return None
