"""The one way the project runs kustomize: ``render`` and ``fix`` (the proof) both build here.

The renderer is the real one, never a home-made kustomize: a ``kustomize`` binary on PATH (what
Argo CD runs), else the Go kustomize library bundled by ``pykustomize``, run in worker
processes (:mod:`gitops_analysis.render.workers`). Every build has a time limit; at the limit
its process is ended.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import mmap
import re
import shutil
from pathlib import Path
from types import TracebackType

from gitops_analysis.core.errors import UsageError
from gitops_analysis.render.workers import Workers, binary_version, run

NO_KUSTOMIZE = ("no kustomize renderer: install kustomize on PATH, or pykustomize in this "
                "Python (make install)")
KUSTOMIZE_CHOICES = ("auto", "binary", "pykustomize")


class KustomizeError(RuntimeError):
    """kustomize could not build: the renderer's own message."""


def _pykustomize_version() -> str | None:
    """The kustomize API version pykustomize bundles (from its Go build info), else its own."""
    spec = importlib.util.find_spec("pykustomize")
    if spec is None or not spec.origin:
        return None
    try:
        version = importlib.metadata.version("pykustomize")
    except importlib.metadata.PackageNotFoundError:
        version = "?"
    api = ""
    for lib in sorted((Path(spec.origin).parent / "_lib").glob("*/*pykustomize*")):
        if lib.suffix not in (".so", ".dylib", ".dll"):
            continue
        try:
            with open(lib, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as m:
                needle = b"dep\tsigs.k8s.io/kustomize/api\t"  # the Go build info
                at = m.find(needle)
                found = re.match(rb"(v[0-9][^\t\n]*)", m[at + len(needle):at + len(needle) + 64]) \
                    if at >= 0 else None
        except (OSError, ValueError):
            continue
        if found:
            api = found.group(1).decode()
            break
    return f"{api} (pykustomize {version})" if api else f"pykustomize {version}"


class Kustomize:
    """A kustomize renderer: the binary on PATH (``engine == "binary"``) or pykustomize in
    worker processes (``"pykustomize"``). Close it (or use it as a context manager) to end the
    workers; it may be used from several threads at once."""

    def __init__(self, engine: str, version: str, binary: str = "") -> None:
        self.engine = engine
        self.version = version
        self.binary = binary
        self._workers = Workers() if engine == "pykustomize" else None

    def build(self, path: str, *, timeout: float, cwd: str | None = None,
              enable_helm: bool = False, helm_command: str = "") -> str:
        """The YAML ``kustomize build path`` prints.

        Raises :class:`KustomizeError` with the renderer's message when the build fails,
        ``TimeoutError`` at the time limit (seconds), ``RuntimeError`` when a worker died.
        """
        try:
            if self._workers is None:
                args = [self.binary, "build", path]
                if enable_helm:
                    args += ["--enable-helm", "--helm-command", helm_command]
                code, out, err = run(args, cwd or path, timeout)
                if code != 0:
                    raise KustomizeError(err.strip() or f"kustomize exited with {code}")
                return out
            answer = self._workers.build({"path": path, "enable_helm": enable_helm,
                                          "helm_command": helm_command}, timeout)
        except TimeoutError:
            raise TimeoutError(f"kustomize build timed out after {timeout:g} s") from None
        if not answer.get("ok"):
            raise KustomizeError(str(answer.get("error") or "kustomize build failed"))
        return str(answer.get("yaml", ""))

    def close(self) -> None:
        if self._workers is not None:
            self._workers.close()

    def __enter__(self) -> Kustomize:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def find_kustomize(choice: str = "auto") -> Kustomize | None:
    """The kustomize renderer to use: ``auto`` (a binary on PATH, else pykustomize; None when
    there is neither), ``binary`` or ``pykustomize`` (a usage error when it is missing)."""
    if choice not in KUSTOMIZE_CHOICES:
        raise UsageError(f"kustomize renderer {choice!r}",
                         todo="use auto, binary or pykustomize")
    binary = shutil.which("kustomize") if choice in ("auto", "binary") else None
    if binary:
        return Kustomize("binary", binary_version(binary, ["version"]), binary)
    if choice == "binary":
        raise UsageError("no kustomize binary on PATH",
                         todo="install kustomize or use --kustomize auto")
    version = _pykustomize_version()
    if version:
        return Kustomize("pykustomize", version)
    if choice == "pykustomize":
        raise UsageError("pykustomize is not installed",
                         todo="pip install --ignore-requires-python pykustomize==0.1.4")
    return None


def kustomize_build(path: str, *, timeout: float = 120) -> str:
    """One build of the kustomization in ``path`` with whichever kustomize is here."""
    kustomize = find_kustomize()
    if kustomize is None:
        raise KustomizeError(NO_KUSTOMIZE)
    with kustomize:
        return kustomize.build(path, timeout=timeout)
