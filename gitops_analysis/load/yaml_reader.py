"""Split YAML streams into documents and parse each one on its own, in bounded memory.

A syntax error in one document must not take the rest of its file down, so a stream is cut at
its document markers first (a ``---`` or ``...`` line at column 0 always ends a document in
YAML 1.1/1.2, even inside a block scalar) and each piece is parsed alone, remembering the line
it starts on. The file is read in chunks and cut while it is read: only the document being
parsed is held in memory, never the whole file, and a document's text is dropped once parsed.

Nothing in the input is executed or allowed to blow up:

- only PyYAML's safe constructors are used; a tag that would construct an object
  (``!!python/object/apply:...``) is refused with a load error;
- bytes that are not UTF-8 make only the document that holds them a load error;
- documents nested deeper than :data:`MAX_DEPTH` levels are refused before PyYAML's C composer
  (which recurses on the C stack) sees them;
- documents whose aliases would expand past :func:`alias_limit` ("billion laughs") are refused
  before anything walks the expanded tree;
- a document larger than :data:`MAX_DOCUMENT_BYTES` is refused without being held in memory.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: parse plain documents with rapidyaml (see fast_load); False: PyYAML for every document
FAST_PATH = True
_C_LOADER = _Base is not yaml.SafeLoader

MAX_DEPTH = 500  # Kubernetes objects nest a few dozen levels; PyYAML's C composer recurses
MAX_DOCUMENT_BYTES = 64 << 20  # etcd stores at most ~1.5 MiB per object
CHUNK_BYTES = 256 << 10  # read size; a document is assembled from as many chunks as it needs

_BOM = b"\xef\xbb\xbf"
# a document marker or a "# Source:" line at the start of a line (after a newline) ...
_EVENT = re.compile(rb"\n(\xef\xbb\xbf)?(?:(---|\.\.\.)(?=[ \t\r\n]|\Z)|# Source: )")
# ... or at the start of a block
_EVENT_AT_START = re.compile(rb"(\xef\xbb\xbf)?(?:(---|\.\.\.)(?=[ \t\r\n]|\Z)|# Source: )")
_CONTENT = re.compile(rb"^[ \t]*[^ \t\r\n#%]", re.M)  # first line that is not blank/comment
_TAB_INDENT = re.compile(rb"^ *\t", re.M)
_LONE_CR = re.compile(rb"\r(?!\n)")
# may nest deeper than MAX_DEPTH: block nesting needs indentation (or "- "/"? " on one line) ...
_DEEP_LINE = re.compile(r"\n[ \t?:-]{150,}")
_DEEP_FIRST_LINE = re.compile(r"[ \t?:-]{150,}")
# ... flow nesting needs brackets
_FLOW_OPENERS = 200
_BRACKETS = re.compile(r"[\[\]{}]")
_C_SAFE_DEPTH = 5_000  # PyYAML's C composer recursed 10,000 levels fine, 100,000 crashed
_ALIAS_OR_ANCHOR = re.compile(r"[*&][^\s,\[\]{}]")


@dataclass
class RawDocument:
    """One YAML document of a file, parsed: it becomes a resource or a load error."""

    file: str
    doc_index: int  # 0-based position among the file's non-empty documents; -1: the whole file
    line: int  # 1-based line where the document's content starts
    source: str | None = None  # the ``# Source: <path>`` part this document belongs to
    data: Any = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """Safe loader that records duplicate mapping keys instead of silently keeping the last.

    Mappings are built like PyYAML's own (a generator filled in later), so construction does not
    recurse with the nesting of the document.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicate_keys: list[tuple[str, int]] = []

    def construct_yaml_map(self, node: yaml.MappingNode):
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

    def _note_duplicates(self, pairs: list) -> None:
        seen: set = set()
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


def alias_limit(text_length: int) -> int:
    """How large (in characters of JSON, roughly) aliases may expand a document."""
    return 2 * text_length + 10_000_000


def _blocks(f) -> Iterator[tuple[bytes, bool, int]]:
    """(block, starts at a line start, file offset): whole lines when there are any.

    Lone CRs (old Mac line ends) become LFs, as YAML reads them; a chunk without any line end is
    passed on as it is, so one enormous line never has to be held whole.
    """
    carry = b""
    at_start = True
    offset = 0
    while True:
        chunk = f.read(CHUNK_BYTES)
        if not chunk:
            if carry:
                if b"\r" in carry:
                    carry = _LONE_CR.sub(b"\n", carry)
                yield carry, at_start, offset
            return
        data = carry + chunk if carry else chunk
        # cut after the last line end; a CR at the very end may be the first half of a CRLF
        cut = max(data.rfind(b"\n"), data.rfind(b"\r", 0, len(data) - 1))
        if cut < 0:
            # no line end: a long line is passed on in pieces, but the start of a line (where a
            # marker may be) is kept together, and a final CR waits for the next byte (CRLF?)
            if data.endswith(b"\r") or at_start and len(data) < 64:
                carry = data
                continue
            yield data, at_start, offset
            offset += len(data)
            carry, at_start = b"", False
            continue
        block, carry = data[: cut + 1], data[cut + 1:]
        if b"\r" in block:
            block = _LONE_CR.sub(b"\n", block)
        yield block, at_start, offset
        offset += len(block)
        at_start = True


@dataclass
class _Segment:
    start: int  # line of the segment's first line
    offset: int  # file offset of its first byte
    pieces: list = field(default_factory=list)
    size: int = 0
    sources: list = field(default_factory=list)  # (line, path) of "# Source:" lines
    oversized: bool = False
    first_content: int = 0  # line of the first content, once oversized


def _segments(f) -> Iterator[_Segment]:
    """Cut a byte stream at its document markers, reading it chunk by chunk."""
    seg = _Segment(start=1, offset=0)
    line = 1  # line number at `counted` in the current block

    def add(piece: bytes) -> None:
        if seg.oversized:
            return
        seg.pieces.append(piece)
        seg.size += len(piece)
        if seg.size > MAX_DOCUMENT_BYTES:
            body = b"".join(seg.pieces)
            m = _CONTENT.search(body)
            seg.first_content = seg.start + (body.count(b"\n", 0, m.start()) if m else 0)
            seg.oversized = True
            seg.pieces = []

    for block, at_start, block_offset in _blocks(f):
        pos = 0  # start of the text not yet added to the segment
        counted = 0
        events: list[tuple[int, re.Match]] = []
        if at_start:
            m = _EVENT_AT_START.match(block)
            if m:
                events.append((0, m))
        events.extend((m.start() + 1, m) for m in _EVENT.finditer(block))
        for at, m in events:
            line += block.count(b"\n", counted, at)
            counted = at
            end = block.find(b"\n", at)
            end = len(block) if end < 0 else end + 1
            if m.group(2) is None:  # "# Source: <path>"
                path = block[m.end():end].decode("utf-8", "replace").strip()
                if path:
                    seg.sources.append((line, path))
                continue
            add(block[pos:at])
            yield seg
            marker_end = m.end()
            rest = block[marker_end:end]
            seg = _Segment(start=line + 1, offset=block_offset + end)
            stripped = rest.strip()
            if m.group(2) == b"---" and stripped and not stripped.startswith(b"#"):
                # "--- {inline: doc}" keeps the content that follows the marker on its line
                seg = _Segment(start=line, offset=block_offset + marker_end - 3)
                add(b"   " + rest)
            if m.group(1):
                seg.sources.append((line, None))  # a BOM before the marker: reported
            pos = end
        if pos < len(block):
            add(block[pos:])
        line += block.count(b"\n", counted)
    yield seg


class DocumentReader:
    """Iterate over the non-empty documents of one file, parsed, in bounded memory.

    File-level remarks (a byte-order mark, a tab in indentation) collect in :attr:`warnings` as
    they are found; a file that cannot be read as YAML text at all (not a regular file, UTF-16)
    comes out as one document with ``doc_index == -1`` and an error. ``OSError`` passes through.
    """

    def __init__(self, path: str | Path, display: str) -> None:
        self.path = path
        self.file = display
        self.warnings: list[str] = []
        self._tab_reported = False

    def __iter__(self) -> Iterator[RawDocument]:
        # O_NONBLOCK: opening a named pipe must not wait for a writer
        fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            mode = os.fstat(fd).st_mode
            f = os.fdopen(fd, "rb") if stat.S_ISREG(mode) else None
        except BaseException:
            os.close(fd)
            raise
        if f is None:
            os.close(fd)
            yield RawDocument(self.file, -1, 0, error=(
                f"{self.file}: not a regular file ({_file_type(mode)}): refused; rendered "
                "output must be plain files"))
            return
        with f:
            head = f.read(4)
            f.seek(0)
            if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head.startswith(b"\x00\x00\xfe\xff"):
                yield RawDocument(self.file, -1, 1, error=(
                    f"{self.file}:1: UTF-16 or UTF-32 text (its byte-order mark says so): "
                    "save the file as UTF-8"))
                return
            index = 0
            inherited: str | None = None
            for seg in _segments(f):
                doc, inherited = self._document(seg, index, inherited)
                if doc is not None:
                    index += 1
                    yield doc

    def _document(self, seg: _Segment, index: int,
                  inherited: str | None) -> tuple[RawDocument | None, str | None]:
        file = self.file
        if seg.oversized:
            line = seg.first_content
            source = _source_at(seg, line, inherited)
            return RawDocument(file, index, line, source, error=(
                f"{file}:{line}: a document larger than {MAX_DOCUMENT_BYTES >> 20} MiB: refused; "
                "Kubernetes objects are limited to about 1.5 MiB, split it")), \
                _last_source(seg, inherited)
        body = b"".join(seg.pieces)
        seg.pieces = []
        offset = seg.offset
        if any(s is None for _, s in seg.sources) or body.startswith(_BOM):
            where = seg.start
            if body.startswith(_BOM):
                body = body[3:]
                offset += 3
            else:
                where = next(line for line, s in seg.sources if s is None)
            what = "at the start of the file" if where == 1 else "at the start of a document"
            self.warnings.append(f"{file}:{where}: byte-order mark {what}: ignored; save the "
                                 "file as UTF-8 without BOM")
        if not self._tab_reported and b"\t" in body:
            m = _TAB_INDENT.search(body)
            if m:
                self._tab_reported = True
                tab_line = seg.start + body.count(b"\n", 0, m.start())
                self.warnings.append(f"{file}:{tab_line}: tab in indentation: YAML forbids tabs "
                                     "there; indent with spaces")
        m = _CONTENT.search(body)
        if m is None:  # empty or only comments: not a document, not counted
            return None, _last_source(seg, inherited)
        line = seg.start + body.count(b"\n", 0, m.start())
        doc = RawDocument(file, index, line, _source_at(seg, line, inherited))
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad_line = seg.start + body.count(b"\n", 0, exc.start)
            doc.error = (f"{file}:{bad_line}: bytes that are not UTF-8 "
                         f"({show(body[exc.start:exc.end])} at offset {offset + exc.start}): "
                         "save the file as UTF-8")
            return doc, _last_source(seg, inherited)
        del body  # only the text is parsed; a huge document is not held twice
        _parse(doc, text, seg.start)
        return doc, _last_source(seg, inherited)


def _file_type(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "a special file"


def _source_at(seg: _Segment, line: int, inherited: str | None) -> str | None:
    source = inherited
    for at, path in seg.sources:
        if path is not None and at < line:
            source = path
    return source


def _last_source(seg: _Segment, inherited: str | None) -> str | None:
    for _, path in reversed(seg.sources):
        if path is not None:
            return path
    return inherited


def _too_deep(text: str) -> tuple[int, int] | None:
    """(0-based line, depth) where the document nests deeper than MAX_DEPTH, else None.

    Cheap bounds first: a document with few flow brackets and no long run of indentation (or of
    "- " / "? " entries on one line) cannot nest that deep. Otherwise count the parser's events
    (libyaml's parser does not recurse; its composer, which builds the tree, does).

    Many brackets that do not nest (JSON in descriptions of a big CRD) are let through on an
    estimate of their nesting; a document built to fool the estimate still holds too few
    brackets to hurt the composer, and is refused later, when it is hashed (RecursionError).
    """
    if not _DEEP_LINE.search(text) and not _DEEP_FIRST_LINE.match(text):
        openers = text.count("[") + text.count("{")
        if openers <= _FLOW_OPENERS or openers <= _C_SAFE_DEPTH and \
                _bracket_depth(text) <= _FLOW_OPENERS:
            return None
    loader = _Base(text)
    depth = 0
    opening = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    closing = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    try:
        while True:
            event = loader.get_event()
            if event is None or isinstance(event, yaml.StreamEndEvent):
                return None
            if isinstance(event, opening):
                depth += 1
                if depth > MAX_DEPTH:
                    return event.start_mark.line, depth
            elif isinstance(event, closing):
                depth -= 1
    except yaml.YAMLError:
        return None  # the full parse reports it
    finally:
        loader.dispose()


def _bracket_depth(text: str) -> int:
    """How deep the brackets of a text nest, quotes or not (a closer never goes below 0)."""
    depth = top = 0
    for ch in _BRACKETS.findall(text):
        if ch == "[" or ch == "{":
            depth += 1
            if depth > top:
                top = depth
        elif depth:
            depth -= 1
    return top


def _expansion(node: yaml.Node, limit: int) -> str | None:
    """Why the aliases of a composed document cannot be expanded (too large, recursive)."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    while stack:
        current, done = stack.pop()
        key = id(current)
        if done:
            on_path.discard(key)
            if isinstance(current, yaml.MappingNode):
                total = 2 + sum(sizes[id(k)] + sizes[id(v)] for k, v in current.value)
            else:
                total = 2 + sum(sizes[id(c)] for c in current.value)
            if total > limit:
                return "expanded"
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if isinstance(current, yaml.ScalarNode):
            sizes[key] = len(current.value) + 3
            continue
        if key in on_path:
            return "recursive"
        on_path.add(key)
        stack.append((current, True))
        if isinstance(current, yaml.MappingNode):
            for k, v in current.value:
                stack.append((k, False))
                stack.append((v, False))
        else:
            stack.extend((c, False) for c in current.value)
    return None


# -- the fast path ---------------------------------------------------------------------------
# rapidyaml (C++) parses a document and emits it as JSON, which json.loads turns into the same
# Python objects PyYAML builds, for the plain data rendered manifests are made of. Wherever the
# two could differ the document goes to PyYAML instead: anchors, aliases, tags, merge keys,
# complex keys and directives (seen in the text); strings that PyYAML would read as something
# else when written plain (yes, On, ~, 0755, 2001-12-14, 1:20, a key 8080; seen in the JSON,
# where ryml has already written quoted and plain text alike as strings); numbers that PyYAML
# would read as text (1e3); duplicate keys; and any error of either parser, so that PyYAML
# reports it with its line. False alarms only cost speed.
try:
    import ryml as _ryml
except ImportError:  # pragma: no cover - rapidyaml is a dependency; keep working without it
    _ryml = None

# a tag starts a node: at the start of a line or after ": ", "- ", "? ", "[", "{" or ","
_TAG_MARK = re.compile(r"![!A-Za-z<][A-Za-z0-9_.(<>!:/-]*|&[A-Za-z0-9_-]+")  # tags, anchors
_TAG_BEFORE = frozenset(":-?[{,\n")


def _maybe_tags(text: str, emitted: str) -> bool:
    """Whether a "!" or "&" in the text could start a tag or an anchor (never a wrong 'no').

    A candidate that starts a node (at a line start or after ": ", "- ", "? ", "[", "{", ",")
    is still scalar text when the JSON holds it as often as the YAML does: a real tag or anchor
    is not written into the JSON. (CEL rules in CRDs are full of "!has(self...)".)
    """
    seen = set()
    for m in _TAG_MARK.finditer(text):
        i = m.start() - 1
        while i >= 0 and text[i] in " \t":
            i -= 1
        if i >= 0 and text[i] not in _TAG_BEFORE:
            continue
        token = m.group(0)
        if token in seen:
            continue
        seen.add(token)
        if emitted.count(token) < text.count(token):
            return True
    return False


# in the JSON: strings PyYAML could read otherwise, aliases (ryml writes "*name") and merge keys
_SUSPECT = re.compile(r'"((?:[-+]?\.?[0-9]|[-+]?\.[a-zA-Z]|~)[^"\\]*|[yYnNoOtTfF][a-zA-Z]{0,4}'
                      r'|\*[^"\\\s]*|<<|)"(:?)')
_YAML11_WORDS = frozenset("y Y yes Yes YES n N no No NO on On ON off Off OFF True TRUE False FALSE "
                          "Null NULL ~".split())
_SIMPLE_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
_STR_TAG = "tag:yaml.org,2002:str"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_INT_TAG = "tag:yaml.org,2002:int"
_resolver = yaml.resolver.Resolver()


class _Doubt(Exception):
    pass


def _pairs(pairs: list) -> dict:
    d = dict(pairs)
    if len(d) != len(pairs):  # a duplicate key: PyYAML reports it with its line
        raise _Doubt
    return d


def _float(literal: str) -> float:
    if _resolver.resolve(yaml.ScalarNode, literal, (True, False)) != _FLOAT_TAG:
        raise _Doubt  # 1e3 is a string to PyYAML
    return float(literal)


def _int(literal: str) -> int:
    if _resolver.resolve(yaml.ScalarNode, literal, (True, False)) != _INT_TAG:
        raise _Doubt
    return int(literal)


def _constant(literal: str):
    raise _Doubt


_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # the same, for ASCII text


def _unprintable(text: str) -> bool:
    """Characters PyYAML's reader refuses (its own class is slow on long ASCII texts)."""
    if text.isascii():
        return _ASCII_CONTROL.search(text) is not None
    return _NON_PRINTABLE.search(text) is not None
_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_float=_float, parse_int=_int,
                            parse_constant=_constant)


def _has_tags(tree) -> bool:
    """Tags and anchors: the JSON shows neither (an anchor can even change the structure)."""
    return any(tree.has_val_tag(i) or tree.has_key_tag(i) or tree.has_val_anchor(i) or
               tree.has_key_anchor(i) for i in range(tree.size()))


_PLAIN_PATTERNS: dict[str, re.Pattern] = {}


def _plain_in(text: str, value: str) -> bool:
    """Whether ``value`` stands in the text as a whole plain scalar (not quoted, not inside a
    longer scalar): only then can PyYAML read it as something other than a string.

    The regex finds the literal with a blank, a flow indicator or a line start before it; the
    context before it is then checked by hand (a node starts at a line start or after ": ",
    "- ", "? ", "[", "{" or ","), which keeps the scan as fast as a search for the literal.
    """
    pattern = _PLAIN_PATTERNS.get(value)
    if pattern is None:
        pattern = re.compile(r"(?:(?<=[\s\[{,])|^)" + re.escape(value) +
                             r"(?=[ \t]*(?:$|[,\]}#]|:[ \t]|:$))", re.M)
        if len(_PLAIN_PATTERNS) < 256:
            _PLAIN_PATTERNS[value] = pattern
    for m in pattern.finditer(text):
        i = m.start() - 1
        while i >= 0 and text[i] in " \t":
            i -= 1
        if i < 0 or text[i] in "\n\r[{,":
            return True
        if text[i] in ":-?" and text[i + 1] in " \t":
            return True
    return False


class _Quiet:
    """rapidyaml prints its parse errors on the C stderr; PyYAML reports them here instead.

    Re-entrant: ``quiet()`` around a whole file costs four system calls, not four a document.
    """

    depth = 0
    saved: int | None = None

    def __enter__(self):
        if _Quiet.depth == 0:
            try:
                _Quiet.saved = os.dup(2)
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, 2)
                os.close(null)
            except OSError:
                _Quiet.saved = None
        _Quiet.depth += 1
        return self

    def __exit__(self, *exc):
        _Quiet.depth -= 1
        if _Quiet.depth == 0 and _Quiet.saved is not None:
            os.dup2(_Quiet.saved, 2)
            os.close(_Quiet.saved)
            _Quiet.saved = None


def quiet() -> _Quiet:
    """Silence rapidyaml's own error printing while documents are read (see _Quiet)."""
    return _Quiet()


def fast_load(text: str) -> tuple[bool, Any]:
    """(True, data) when rapidyaml reads the document exactly as PyYAML would."""
    if _ryml is None or "\\u" in text or "\\U" in text or _unprintable(text):
        # escapes the two parsers may judge differently (PyYAML refuses lone surrogates), and
        # characters PyYAML's reader refuses where rapidyaml reads on
        return False, None
    try:
        with _Quiet():
            tree = _ryml.parse_in_arena(text.encode("utf-8"))
        emitted = _ryml.emit_json_malloc(tree, tree.root_id())
        # a cheap look for "!" and "&" first; the tree says for sure where a node has a tag
        if ("!" in text or "&" in text) and _maybe_tags(text, emitted) and _has_tags(tree):
            return False, None
        checked: set = set()  # a value that stands in the text only quoted is checked once
        for m in _SUSPECT.finditer(emitted):
            value, is_key = m.group(1), m.group(2) == ":"
            if value == "" and is_key or value == "<<" or value[:1] == "*" and len(value) > 1:
                return False, None  # an empty key (PyYAML refuses it), a merge key, an alias
            if value == "":
                continue
            if value == "*" or value in _YAML11_WORDS:
                doubtful = True
            elif value[0] in "yYnNoOtTfF":
                # a key true, false or null is not a string to PyYAML (as values ryml writes
                # them as JSON literals, so a string "true" was quoted)
                doubtful = is_key and value in ("true", "false", "null")
            elif _SIMPLE_NUMBER.fullmatch(value):
                # ryml writes a plain 2 as a JSON number, so a JSON string "2" was quoted;
                # but it writes every key as a string
                doubtful = is_key
            else:
                doubtful = _resolver.resolve(yaml.ScalarNode, value, (True, False)) != _STR_TAG
            # these read the same in the JSON whether quoted or plain: look at the text
            if doubtful and value not in checked:
                if _plain_in(text, value):
                    return False, None
                checked.add(value)
        data = _DECODER.decode(emitted)
    except Exception:
        return False, None
    if tree.is_stream(tree.root_id()):
        if not isinstance(data, list) or len(data) != 1:
            return False, None
        data = data[0]
    return True, data


def _parse(doc: RawDocument, text: str, start: int) -> None:
    """Parse one document's text in place; a failure becomes ``doc.error`` with its line."""
    file = doc.file
    deep = _too_deep(text)
    if deep is not None:
        doc.error = (f"{file}:{start + deep[0]}: nested more than {MAX_DEPTH} levels deep: "
                     "refused; Kubernetes objects never nest this deep, fix the document")
        return
    if FAST_PATH:
        ok, data = fast_load(text)
        if ok:
            doc.data = data
            return
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None and "*" in text and "&" in text and _has_aliases(text):
            why = _expansion(node, alias_limit(len(text)))
            if why == "recursive":
                doc.error = (f"{file}:{doc.line}: a YAML alias refers to a node that contains "
                             "it (a recursive structure): refused; write the document out "
                             "without anchors and aliases")
                return
            if why == "expanded":
                doc.error = (f"{file}:{doc.line}: YAML aliases would expand this document to "
                             f"more than {alias_limit(len(text)):,} characters (an alias bomb?): "
                             "refused; write the document out without anchors and aliases")
                return
        doc.data = loader.construct_document(node) if node is not None else None
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = start + (mark.line if mark else 0)
        problem = clip(exc.problem or exc.context or "cannot be constructed")
        tag = re.search(r"constructor for the tag '(.*)'", problem)
        if tag:
            doc.error = (f"{file}:{line}: YAML tag '{tag.group(1)}' is not allowed: remove the "
                         "tag; only plain YAML data is read and nothing in it is executed")
        else:
            doc.error = f"{file}:{line}: YAML that is not plain data ({problem}): fix the YAML"
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        if mark is None or exc.context_mark is not None and mark.line >= text.count("\n"):
            mark = exc.context_mark  # the end of the document: where the open construct began
        line = start + (mark.line if mark else 0)
        problem = clip(exc.problem or exc.context or "invalid YAML")
        doc.error = f"{file}:{line}: YAML syntax error: {problem}: fix the YAML"
    except yaml.reader.ReaderError as exc:
        position = max(exc.position, 0)
        if _C_LOADER:  # libyaml counts bytes of UTF-8, PyYAML characters
            line = start + text.encode("utf-8", "surrogatepass").count(b"\n", 0, position)
        else:
            line = start + text.count("\n", 0, position)
        char = exc.character if isinstance(exc.character, str) else chr(exc.character or 0)
        hint = " (NUL bytes: a UTF-16 or binary file?)" if char == "\x00" else ""
        doc.error = (f"{file}:{line}: character {char!r} is not allowed in YAML{hint}: "
                     "remove it or save the file as UTF-8 text")
    except yaml.YAMLError as exc:
        doc.error = f"{file}:{doc.line}: invalid YAML ({clip(str(exc))}): fix the YAML"
    except RecursionError:
        doc.error = (f"{file}:{doc.line}: nested too deep to read: refused; Kubernetes objects "
                     "never nest this deep, fix the document")
    except MemoryError:
        doc.error = f"{file}:{doc.line}: too large to read in memory: refused; split it"
    except Exception as exc:
        # PyYAML's constructors raise ValueError, AttributeError, ... for values such as
        # 2001-13-45 or "!!int abc"
        doc.error = (f"{file}:{doc.line}: a value YAML cannot read ({type(exc).__name__}: "
                     f"{clip(str(exc))}): fix the value")
    finally:
        loader.dispose()
    for key, rel in loader.duplicate_keys:
        doc.warnings.append(f"{file}:{start + rel}: duplicate key {show(key)}: the last value is "
                            "used, as kubectl and Argo CD do; remove the duplicate")


def _has_aliases(text: str) -> bool:
    """Whether the text may hold an anchor and an alias (a quick scan, never a wrong 'no')."""
    seen = set()
    for m in _ALIAS_OR_ANCHOR.finditer(text):
        i = m.start()
        if i == 0 or text[i - 1] in " \t\n\r[{,:?-":
            seen.add(text[i])
            if len(seen) == 2:
                return True
    return False


def iter_documents(path: str | Path, display: str) -> DocumentReader:
    """The documents of one file (see :class:`DocumentReader`)."""
    return DocumentReader(path, display)


def read_documents(path: Path, display: str) -> tuple[list[RawDocument], list[str], str | None]:
    """Read and parse every non-empty document of one file into a list (small files only).

    Returns (documents, file warnings, file error); a file error means no document could be
    read at all.
    """
    reader = DocumentReader(path, display)
    docs = list(reader)
    if len(docs) == 1 and docs[0].doc_index == -1:
        return [], reader.warnings, docs[0].error
    return docs, reader.warnings, None
