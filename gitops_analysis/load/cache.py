"""The one content-addressed cache, in the user's cache folder.

The folder is ``$GITOPS_ANALYSIS_CACHE``, else ``$XDG_CACHE_HOME/gitops-analysis``, else
``~/.cache/gitops-analysis``; each kind of entry has a folder of its own in it (``check``: the
output of ``check``; ``render``: the builds of ``render``). The key of an entry is a digest of
everything its value depends on: the bytes and relative paths of every input file, the options,
and the project's own source (so a new version never reads an old entry). Nothing here imports
pandas: a warm ``check`` answers from the cache before the analysis stack is loaded. Entries are
plain bytes and JSON written atomically; a corrupt or unreadable entry is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent
_SUFFIXES = (".yaml", ".yml", ".json")


def cache_dir() -> Path:
    base = os.environ.get("GITOPS_ANALYSIS_CACHE")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "gitops-analysis"


_code_digest: str | None = None


def code_digest() -> str:
    """Digest of the package's own source: any change to the code invalidates every entry."""
    global _code_digest
    if _code_digest is None:
        h = hashlib.blake2b(digest_size=16)
        for path in sorted(_PACKAGE.rglob("*.py")):
            h.update(path.relative_to(_PACKAGE).as_posix().encode())
            h.update(path.read_bytes())
        _code_digest = h.hexdigest()
    return _code_digest


def dataset_digest(root: str | Path) -> str | None:
    """Digest of every file the loader reads under ``root``; None when it cannot be read."""
    root = Path(root)
    h = hashlib.blake2b(digest_size=20)
    try:
        files = []
        for sub in ("apps", "rendered", "live"):
            folder = root / sub
            if folder.is_dir():
                files += [p for p in folder.rglob("*") if p.suffix in _SUFFIXES]
        status = root / "render-status.json"
        if status.is_file():
            files.append(status)
        for path in sorted(files):
            if path.is_symlink() or not path.is_file():
                # the loader decides what a link means; do not cache around it
                return None
            h.update(path.relative_to(root).as_posix().encode() + b"\0")
            h.update(hashlib.blake2b(path.read_bytes(), digest_size=20).digest())
    except OSError:
        return None
    return h.hexdigest()


def file_digest(path: str | Path | None) -> str:
    """Digest of a file's bytes; "" for no file, "unreadable" when it cannot be read."""
    if not path:
        return ""
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, lambda: hashlib.blake2b(digest_size=20)).hexdigest()
    except OSError:
        return "unreadable"


class FileDigests:
    """:func:`file_digest` that reads each file once while its size and modification time stay
    the same (for one run: many builds read the same files)."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, int, int], str] = {}

    def __call__(self, path: str) -> str:
        try:
            st = os.stat(path)
        except OSError:
            return "unreadable"
        key = (path, st.st_mtime_ns, st.st_size)
        digest = self._known.get(key)
        if digest is None:
            digest = self._known[key] = file_digest(path)
        return digest


def key(*parts: str) -> str:
    """The key of an entry: a digest of ``parts`` and of the package's own source."""
    h = hashlib.blake2b(digest_size=20)
    for part in (code_digest(), *parts):
        h.update(part.encode() + b"\0")
    return h.hexdigest()


def get(kind: str, entry: str) -> tuple[bytes, dict] | None:
    """(data, meta) of an entry; None when it is missing, unreadable or corrupt."""
    folder = cache_dir() / kind
    try:
        meta = json.loads((folder / f"{entry}.json").read_text(encoding="utf-8"))
        data = (folder / f"{entry}.bin").read_bytes()
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or \
            hashlib.blake2b(data, digest_size=20).hexdigest() != meta.get("data_digest"):
        return None
    return data, meta


def put(kind: str, entry: str, data: bytes, meta: dict) -> None:
    """Write an entry atomically (data, then its meta); a cache that cannot be written is only
    slower."""
    folder = cache_dir() / kind
    try:
        folder.mkdir(parents=True, exist_ok=True)
        meta = {**meta, "data_digest": hashlib.blake2b(data, digest_size=20).hexdigest()}
        for suffix, payload in ((".bin", data), (".json", json.dumps(meta).encode())):
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
            os.replace(tmp, folder / f"{entry}{suffix}")
    except OSError:
        pass  # a cache that cannot be written is only slower
