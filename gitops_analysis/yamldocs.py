"""Split YAML streams into documents and parse each one on its own.

A syntax error in one document must not take the rest of its file down, so a stream is cut at
its document markers first (a ``---`` or ``...`` line at column 0 always ends a document in
YAML 1.1/1.2, even inside a block scalar) and each piece is parsed alone, remembering the line
it starts on. Only PyYAML's safe constructors are used: nothing in the input is executed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_MARKER = re.compile(r"^(---|\.\.\.)(?:[ \t]|$)")
_SOURCE = re.compile(r"^# Source: (.+?)\s*$")


@dataclass
class RawDocument:
    """One YAML document of a file, before it becomes a resource or a load error."""

    file: str
    doc_index: int  # 0-based position among the file's non-empty documents
    line: int  # 1-based line where the document's content starts
    text: str
    source: str | None  # the ``# Source: <path>`` part this document belongs to
    data: Any = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


class _DuplicateKeyLoader(_Loader):  # type: ignore[misc, valid-type]
    """Safe loader that records duplicate mapping keys instead of silently keeping the last."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicate_keys: list[tuple[str, int]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = key_node.value
                if key in seen and key != "<<":
                    self.duplicate_keys.append((key, key_node.start_mark.line))
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


_DuplicateKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _DuplicateKeyLoader.construct_mapping)


def _is_blank(text: str) -> bool:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and not stripped.startswith("%"):
            return False
    return True


def decode(raw: bytes, file: str) -> tuple[str | None, list[str], str | None]:
    """Bytes -> (text, warnings, error). A BOM is dropped and reported; non-UTF-8 is an error."""
    warnings = []
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
        warnings.append("byte-order mark at the start of the file: ignored; save the file as "
                        "UTF-8 without BOM")
    try:
        return raw.decode("utf-8"), warnings, None
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, warnings, (f"{file}:{line}: bytes that are not UTF-8 at offset {exc.start}: "
                                "save the file as UTF-8")


def split_documents(text: str, file: str) -> list[RawDocument]:
    """Cut a stream at its document markers; empty documents are dropped (they are not counted)."""
    docs: list[RawDocument] = []
    source: str | None = None
    current: list[str] = []
    start = 1
    doc_source = None

    def flush() -> None:
        body = "".join(current)
        if not _is_blank(body):
            # the first line that carries content is where a reader should look
            offset = 0
            for offset, line in enumerate(current):  # noqa: B007
                s = line.strip()
                if s and not s.startswith("#"):
                    break
            docs.append(RawDocument(file=file, doc_index=len(docs), line=start + offset,
                                    text=body, source=doc_source))

    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        marker = _MARKER.match(line)
        if marker:
            flush()
            current = []
            rest = line[marker.end():]
            # "--- {inline: doc}" keeps the content that follows the marker on its line
            if marker.group(1) == "---" and rest.strip() and not rest.strip().startswith("#"):
                current = [" " * marker.end() + rest]
            start = number
            doc_source = source
            continue
        src = _SOURCE.match(line)
        if src:
            source = src.group(1)
            if _is_blank("".join(current)):
                doc_source = source
        if not current:
            start = number
            doc_source = source
        current.append(line)
    flush()
    return docs


def parse_document(doc: RawDocument) -> RawDocument:
    """Parse one document in place; a failure becomes ``doc.error`` with its absolute line."""
    loader = _DuplicateKeyLoader(doc.text)
    try:
        doc.data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = doc.line + (mark.line if mark else 0) - _leading_lines(doc.text)
        problem = exc.problem or exc.context or "invalid YAML"
        doc.error = f"{doc.file}:{line}: YAML syntax error: {problem}: fix the YAML"
        if isinstance(exc, yaml.constructor.ConstructorError):
            doc.error = (f"{doc.file}:{line}: YAML tag not allowed ({problem}): "
                         "remove the tag; only plain YAML data is read")
    except yaml.YAMLError as exc:
        doc.error = f"{doc.file}:{doc.line}: invalid YAML: {exc}: fix the YAML"
    finally:
        loader.dispose()
    for key, rel in loader.duplicate_keys:
        line = doc.line + rel - _leading_lines(doc.text)
        doc.warnings.append(f"{doc.file}:{line}: duplicate key {key!r}: the last value is used, "
                            "as kubectl and Argo CD do; remove the duplicate")
    return doc


def _leading_lines(text: str) -> int:
    """How many blank/comment lines precede the content (doc.line already skips them)."""
    n = 0
    for line in text.splitlines():
        s = line.strip()
        if s and not s.startswith("#"):
            break
        n += 1
    return n


def read_documents(path: Path, display: str) -> tuple[list[RawDocument], list[str], str | None]:
    """Read and parse every non-empty document of one file.

    Returns (documents, file warnings, file error). A file error means no document could be
    read at all (bytes that are not text).
    """
    raw = path.read_bytes()
    text, warnings, error = decode(raw, display)
    if text is None:
        return [], warnings, error
    if "\t" in text:
        for number, line in enumerate(text.splitlines(), start=1):
            indent = line[: len(line) - len(line.lstrip())]
            if "\t" in indent:
                warnings.append(f"{display}:{number}: tab in indentation: YAML forbids tabs "
                                "there; indent with spaces")
                break
    docs = [parse_document(d) for d in split_documents(text, display)]
    return docs, warnings, None
