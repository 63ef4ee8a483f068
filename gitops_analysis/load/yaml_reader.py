"""The one hardened reader of YAML: every document of a file parsed on its own, in bounded memory.

Everything the tool reads as YAML or JSON goes through here (JSON through
:mod:`gitops_analysis.load.json_reader`, which adds JSON's own parser to the same limits):
rendered manifests, Application files, argocd-cm, Argo CD exports. A problem is a
:class:`Remark` that carries its file and line as fields and prints as ``file:line: what is
wrong: what to do``; a problem with one document never takes the rest of its file down.

Nothing in the input is executed or allowed to blow up:

- only PyYAML's safe constructors are used; a tag that would construct an object
  (``!!python/object/apply:...``) is refused with a load error;
- bytes that are not UTF-8 make only the document that holds them a load error;
- the file is cut into documents while it is read (:mod:`~gitops_analysis.load.yaml_stream`):
  only the document being parsed is held, and its text is dropped once parsed;
- the limits of :mod:`~gitops_analysis.load.yaml_limits` (size, depth, alias expansion) are
  checked before PyYAML's C composer, which recurses on the C stack, sees a document;
- plain documents are parsed by rapidyaml (:mod:`~gitops_analysis.load.yaml_fast`), every other
  one by PyYAML, with the same result.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gitops_analysis.core.errors import InputError
from gitops_analysis.load import yaml_limits as limits
from gitops_analysis.load import yaml_stream as stream
from gitops_analysis.load.yaml_fast import fast_load

YAML_SUFFIXES = (".yaml", ".yml")
#: parse plain documents with rapidyaml (see yaml_fast); False: PyYAML for every document
FAST_PATH = True
_C_LOADER = limits.SAFE_LOADER is not yaml.SafeLoader
_TAB_INDENT = re.compile(rb"^ *\t", re.M)
_ITEM = re.compile(r"( *)- ")
_PLAIN_FILES_ONLY = "rendered output, Application files and exports must be plain files"


@dataclass(frozen=True)
class Remark:
    """A load error or a warning, and where it is: ``file:line: what is wrong: what to do``."""

    file: str
    line: int  # 1-based; 0: the file as a whole
    what: str
    todo: str

    @property
    def message(self) -> str:
        where = f"{self.file}:{self.line}" if self.line > 0 else self.file
        return f"{where}: {self.what}: {self.todo}"

    def __str__(self) -> str:
        return self.message

    def input_error(self, todo: str | None = None) -> InputError:
        """The remark as the error a command stops with (``todo`` replaces what to do)."""
        return InputError(self.what, file=self.file, line=self.line or None,
                          todo=todo or self.todo)


@dataclass
class RawDocument:
    """One YAML document of a file, parsed: it becomes a resource or a load error."""

    file: str
    doc_index: int  # 0-based position among the file's non-empty documents; -1: the whole file
    line: int  # 1-based line where the document's content starts
    source: str | None = None  # the ``# Source: <path>`` part this document belongs to
    data: Any = None
    error: Remark | None = None
    warnings: list[Remark] = field(default_factory=list)
    # when asked for: the line of each entry of a top-level sequence or ``items:`` list
    item_lines: list[int] | None = None


class _Loader(limits.SAFE_LOADER):  # type: ignore[misc, valid-type]
    """Safe loader that records duplicate mapping keys instead of silently keeping the last.

    Mappings are built like PyYAML's own (a generator filled in later), so construction does not
    recurse with the nesting of the document.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicate_keys: list[tuple[str, int]] = []

    def construct_yaml_map(self, node: yaml.MappingNode) -> Iterator[dict]:
        data: dict = {}
        yield data
        pairs = node.value
        if len(pairs) > 1:
            try:
                unique = len({k.value for k, _ in pairs}) == len(pairs)
            except TypeError:  # a key that is a collection
                unique = False
            if not unique:
                self._note_duplicates(pairs)
        data.update(self.construct_mapping(node))

    def _note_duplicates(self, pairs: list[tuple[yaml.Node, yaml.Node]]) -> None:
        seen: set[str] = set()
        for key_node, _ in pairs:
            if isinstance(key_node, yaml.ScalarNode):
                key = key_node.value
                if key in seen and key != "<<":
                    self.duplicate_keys.append((key, key_node.start_mark.line))
                seen.add(key)


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_yaml_map)


def show(value: Any, limit: int = 60) -> str:
    """``repr`` of a value for a message: shortened, and safe for any value."""
    try:
        text = repr(value)
    except ValueError:  # an int with more digits than Python prints
        text = f"<an integer of {value.bit_length()} bits>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def clip(text: str, limit: int = 200) -> str:
    """A message part, cut to ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def not_plain(file: str, kind: str) -> Remark:
    """The refusal of a file that is not a regular file (a folder, a named pipe, ...)."""
    return Remark(file, 0, f"not a regular file ({kind})", f"refused; {_PLAIN_FILES_ONLY}")


def too_large(file: str, line: int, max_bytes: int) -> Remark:
    return Remark(file, line, f"a document larger than {max_bytes >> 20} MiB",
                  "refused; Kubernetes objects are limited to about 1.5 MiB, split it")


def not_utf8(file: str, body: bytes, start_line: int, start: int, end: int,
             offset: int) -> Remark:
    """Bytes ``body[start:end]`` are not UTF-8; ``body`` starts at ``start_line``/``offset``."""
    return Remark(file, start_line + body.count(b"\n", 0, start),
                  f"bytes that are not UTF-8 ({show(body[start:end])} at offset "
                  f"{offset + start})", "save the file as UTF-8")


def utf16(file: str) -> Remark:
    return Remark(file, 1, "UTF-16 or UTF-32 text (its byte-order mark says so)",
                  "save the file as UTF-8")


class DocumentReader:
    """Iterate over the non-empty documents of one file, parsed, in bounded memory.

    File-level remarks (a byte-order mark, a tab in indentation) collect in :attr:`warnings` as
    they are found; a file that cannot be read as YAML text at all (not a regular file, UTF-16)
    comes out as one document with ``doc_index == -1`` and an error. ``OSError`` passes through.
    ``max_bytes`` bounds each document (default :data:`~yaml_limits.MAX_DOCUMENT_BYTES`);
    ``item_lines`` asks for the lines of the entries of a List (see :class:`RawDocument`).
    """

    def __init__(self, path: str | Path, display: str, *, max_bytes: int | None = None,
                 item_lines: bool = False) -> None:
        self.path = path
        self.file = display
        self.warnings: list[Remark] = []
        self.max_bytes = max_bytes or limits.MAX_DOCUMENT_BYTES
        self.item_lines = item_lines
        self._tab_reported = False

    def __iter__(self) -> Iterator[RawDocument]:
        f, kind = stream.open_regular(self.path)
        if f is None:
            yield RawDocument(self.file, -1, 0, error=not_plain(self.file, kind))
            return
        with f:
            head = f.read(4)
            f.seek(0)
            if stream.utf16_or_32(head):
                yield RawDocument(self.file, -1, 1, error=utf16(self.file))
                return
            index = 0
            inherited: str | None = None
            for seg in stream.segments(f, self.max_bytes):
                doc, inherited = self._document(seg, index, inherited)
                if doc is not None:
                    index += 1
                    yield doc

    def _document(self, seg: stream.Segment, index: int,
                  inherited: str | None) -> tuple[RawDocument | None, str | None]:
        file = self.file
        after = stream.last_source(seg, inherited)
        if seg.oversized:
            line = seg.first_content
            return RawDocument(file, index, line, stream.source_at(seg, line, inherited),
                               error=too_large(file, line, self.max_bytes)), after
        body = b"".join(seg.pieces)
        seg.pieces = []
        offset = seg.offset
        if any(s is None for _, s in seg.sources) or body.startswith(stream.BOM):
            where = seg.start
            if body.startswith(stream.BOM):
                body = body[3:]
                offset += 3
            else:
                where = next(line for line, s in seg.sources if s is None)
            what = "at the start of the file" if where == 1 else "at the start of a document"
            self.warnings.append(Remark(file, where, f"byte-order mark {what}",
                                        "ignored; save the file as UTF-8 without BOM"))
        if not self._tab_reported and b"\t" in body:
            m = _TAB_INDENT.search(body)
            if m:
                self._tab_reported = True
                self.warnings.append(Remark(
                    file, seg.start + body.count(b"\n", 0, m.start()),
                    "tab in indentation", "YAML forbids tabs there; indent with spaces"))
        m = stream.CONTENT.search(body)
        if m is None:  # empty or only comments: not a document, not counted
            return None, after
        line = seg.start + body.count(b"\n", 0, m.start())
        doc = RawDocument(file, index, line, stream.source_at(seg, line, inherited))
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            doc.error = not_utf8(file, body, seg.start, exc.start, exc.end, offset)
            return doc, after
        del body  # only the text is parsed; a huge document is not held twice
        _parse(doc, text, seg.start, self.item_lines)
        return doc, after


def _parse(doc: RawDocument, text: str, start: int, item_lines: bool = False) -> None:
    """Parse one document's text in place; a failure becomes ``doc.error`` with its line."""
    file = doc.file
    deep = limits.too_deep(text)
    if deep is not None:
        doc.error = Remark(file, start + deep[0], f"nested more than {limits.MAX_DEPTH} levels "
                           "deep", "refused; Kubernetes objects never nest this deep, fix the "
                           "document")
        return
    ok, data = fast_load(text) if FAST_PATH else (False, None)
    if ok:
        doc.data = data
    else:
        _parse_pyyaml(doc, text, start)
    if item_lines and doc.error is None:
        doc.item_lines = _item_lines(text, start, doc.data)


def _parse_pyyaml(doc: RawDocument, text: str, start: int) -> None:
    file = doc.file
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None and "*" in text and "&" in text and limits.has_aliases(text):
            why = limits.expansion(node, limits.alias_limit(len(text)))
            todo = "refused; write the document out without anchors and aliases"
            if why == "recursive":
                doc.error = Remark(file, doc.line, "a YAML alias refers to a node that contains "
                                   "it (a recursive structure)", todo)
                return
            if why == "expanded":
                doc.error = Remark(file, doc.line, "YAML aliases would expand this document to "
                                   f"more than {limits.alias_limit(len(text)):,} characters (an "
                                   "alias bomb?)", todo)
                return
        doc.data = loader.construct_document(node) if node is not None else None
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = start + (mark.line if mark else 0)
        problem = clip(exc.problem or exc.context or "cannot be constructed")
        tag = re.search(r"constructor for the tag '(.*)'", problem)
        if tag:
            doc.error = Remark(file, line, f"YAML tag '{tag.group(1)}' is not allowed",
                               "remove the tag; only plain YAML data is read and nothing in it "
                               "is executed")
        else:
            doc.error = Remark(file, line, f"YAML that is not plain data ({problem})",
                               "fix the YAML")
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        if mark is None or exc.context_mark is not None and mark.line >= text.count("\n"):
            mark = exc.context_mark  # the end of the document: where the open construct began
        line = start + (mark.line if mark else 0)
        problem = clip(exc.problem or exc.context or "invalid YAML")
        doc.error = Remark(file, line, f"YAML syntax error: {problem}", "fix the YAML")
    except yaml.reader.ReaderError as exc:
        position = max(exc.position, 0)
        if _C_LOADER:  # libyaml counts bytes of UTF-8, PyYAML characters
            line = start + text.encode("utf-8", "surrogatepass").count(b"\n", 0, position)
        else:
            line = start + text.count("\n", 0, position)
        char = exc.character if isinstance(exc.character, str) else chr(exc.character or 0)
        hint = " (NUL bytes: a UTF-16 or binary file?)" if char == "\x00" else ""
        doc.error = Remark(file, line, f"character {char!r} is not allowed in YAML{hint}",
                           "remove it or save the file as UTF-8 text")
    except yaml.YAMLError as exc:
        doc.error = Remark(file, doc.line, f"invalid YAML ({clip(str(exc))})", "fix the YAML")
    except RecursionError:
        doc.error = Remark(file, doc.line, "nested too deep to read", "refused; Kubernetes "
                           "objects never nest this deep, fix the document")
    except MemoryError:
        doc.error = Remark(file, doc.line, "too large to read in memory", "refused; split it")
    except Exception as exc:
        # PyYAML's constructors raise ValueError, AttributeError, ... for values such as
        # 2001-13-45 or "!!int abc"
        doc.error = Remark(file, doc.line, f"a value YAML cannot read ({type(exc).__name__}: "
                           f"{clip(str(exc))})", "fix the value")
    finally:
        loader.dispose()
    for key, rel in loader.duplicate_keys:
        doc.warnings.append(Remark(file, start + rel, f"duplicate key {show(key)}",
                                   "the last value is used, as kubectl and Argo CD do; remove "
                                   "the duplicate"))


def _item_lines(text: str, start: int, data: Any) -> list[int] | None:
    """Lines of the entries of a top-level sequence, or of a top-level ``items:`` sequence (a
    List as kubectl prints it), when the text shows them one ``- `` line each; else None."""
    if isinstance(data, list):
        count, in_items = len(data), True
    elif isinstance(data, dict) and isinstance(data.get("items"), list):
        count, in_items = len(data["items"]), False
    else:
        return None
    out: list[int] = []
    indent = None
    for number, line in enumerate(text.split("\n"), start=start):
        if not in_items:
            in_items = line.rstrip() == "items:"
            continue
        if indent is None:
            m = _ITEM.match(line)
            if m:
                indent = m.group(1)
            elif line.strip() and not line.startswith((" ", "#")):
                break
            else:
                continue
        if line.startswith(indent + "- "):
            out.append(number)
        elif line.strip() and not line.startswith((indent + " ", "#", indent + "-")):
            break
    return out if len(out) == count else None


def parse_text(text: str, file: str, line: int = 1) -> RawDocument:
    """One YAML document held in a string (a block inside another file's value), parsed with
    the same limits; ``line`` is where the text starts in ``file``."""
    doc = RawDocument(file, 0, line)
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limits.MAX_DOCUMENT_BYTES:
        doc.error = too_large(file, line, limits.MAX_DOCUMENT_BYTES)
    else:
        _parse(doc, text, line)
    return doc


def read_text(path: str | Path, display: str, max_bytes: int | None = None) -> str | Remark:
    """A whole (small) text file with the reader's guards: its text, or the problem.

    Refused: what is not a regular file, what is larger than ``max_bytes`` (default
    :data:`~yaml_limits.MAX_DOCUMENT_BYTES`), UTF-16/32 and bytes that are not UTF-8. A UTF-8
    byte-order mark is dropped.
    """
    max_bytes = max_bytes or limits.MAX_DOCUMENT_BYTES
    try:
        f, kind = stream.open_regular(path)
        if f is None:
            return not_plain(display, kind)
        with f:
            raw = f.read(max_bytes + 1)
    except OSError as exc:
        return Remark(display, 0, f"cannot be read ({exc.strerror or exc})", "check the file")
    if len(raw) > max_bytes:
        return too_large(display, 1, max_bytes)
    if stream.utf16_or_32(raw[:4]):
        return utf16(display)
    offset = 3 if raw.startswith(stream.BOM) else 0
    try:
        return raw[offset:].decode("utf-8")
    except UnicodeDecodeError as exc:
        return not_utf8(display, raw, 1, exc.start + offset, exc.end + offset, 0)


def iter_documents(path: str | Path, display: str) -> DocumentReader:
    """The documents of one file (see :class:`DocumentReader`)."""
    return DocumentReader(path, display)


def read_documents(path: str | Path, display: str, *, max_bytes: int | None = None,
                   item_lines: bool = False) -> tuple[list[RawDocument], list[Remark],
                                                      Remark | None]:
    """Read and parse every non-empty document of one file into a list (small files only).

    Returns (documents, file warnings, file error); a file error means no document could be
    read at all. ``OSError`` passes through.
    """
    reader = DocumentReader(path, display, max_bytes=max_bytes, item_lines=item_lines)
    docs = list(reader)
    if len(docs) == 1 and docs[0].doc_index == -1:
        return [], reader.warnings, docs[0].error
    return docs, reader.warnings, None
