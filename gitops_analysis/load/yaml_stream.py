"""The reader's first step: a file, opened safely, cut into documents while it is read.

A syntax error in one document must not take the rest of its file down, so a stream is cut at
its document markers first (a ``---`` or ``...`` line at column 0 always ends a document in
YAML 1.1/1.2, even inside a block scalar) and each piece is parsed alone, remembering the line
it starts on. The file is read in chunks and cut while it is read: only the document being
assembled is held in memory, never the whole file; a document larger than the limit is dropped
as it grows, with the line it starts on.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

CHUNK_BYTES = 256 << 10  # read size; a document is assembled from as many chunks as it needs

BOM = b"\xef\xbb\xbf"
# a document marker or a "# Source:" line at the start of a line (after a newline) ...
_EVENT = re.compile(rb"\n(\xef\xbb\xbf)?(?:(---|\.\.\.)(?=[ \t\r\n]|\Z)|# Source: )")
# ... or at the start of a block
_EVENT_AT_START = re.compile(rb"(\xef\xbb\xbf)?(?:(---|\.\.\.)(?=[ \t\r\n]|\Z)|# Source: )")
CONTENT = re.compile(rb"^[ \t]*[^ \t\r\n#%]", re.M)  # first line that is not blank/comment
_LONE_CR = re.compile(rb"\r(?!\n)")


def open_regular(path: str | Path) -> tuple[BinaryIO | None, str]:
    """(the file opened for reading, "") or (None, what it is) when it is not a regular file.

    Opened without blocking, so that a named pipe never waits for a writer. ``OSError`` passes
    through.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISREG(mode):
            return os.fdopen(fd, "rb"), ""
    except BaseException:
        os.close(fd)
        raise
    os.close(fd)
    return None, file_type(mode)


def utf16_or_32(head: bytes) -> bool:
    """Whether the first bytes of a file are the byte-order mark of UTF-16 or UTF-32 text."""
    return head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff"))


def _blocks(f: BinaryIO) -> Iterator[tuple[bytes, bool, int]]:
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
class Segment:
    start: int  # line of the segment's first line
    offset: int  # file offset of its first byte
    pieces: list[bytes] = field(default_factory=list)
    size: int = 0
    # (line, path) of "# Source:" lines; (line, None): a byte-order mark before a marker
    sources: list[tuple[int, str | None]] = field(default_factory=list)
    oversized: bool = False
    first_content: int = 0  # line of the first content, once oversized


def segments(f: BinaryIO, max_bytes: int) -> Iterator[Segment]:
    """Cut a byte stream at its document markers, reading it chunk by chunk."""
    seg = Segment(start=1, offset=0)
    line = 1  # line number at `counted` in the current block

    def add(piece: bytes) -> None:
        if seg.oversized:
            return
        seg.pieces.append(piece)
        seg.size += len(piece)
        if seg.size > max_bytes:
            body = b"".join(seg.pieces)
            m = CONTENT.search(body)
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
            seg = Segment(start=line + 1, offset=block_offset + end)
            stripped = rest.strip()
            if m.group(2) == b"---" and stripped and not stripped.startswith(b"#"):
                # "--- {inline: doc}" keeps the content that follows the marker on its line
                seg = Segment(start=line, offset=block_offset + marker_end - 3)
                add(b"   " + rest)
            if m.group(1):
                seg.sources.append((line, None))  # a BOM before the marker: reported
            pos = end
        if pos < len(block):
            add(block[pos:])
        line += block.count(b"\n", counted)
    yield seg


def file_type(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "a special file"


def source_at(seg: Segment, line: int, inherited: str | None) -> str | None:
    source = inherited
    for at, path in seg.sources:
        if path is not None and at < line:
            source = path
    return source


def last_source(seg: Segment, inherited: str | None) -> str | None:
    for _, path in reversed(seg.sources):
        if path is not None:
            return path
    return inherited
