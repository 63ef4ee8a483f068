"""Processes with a time limit: renderer binaries, and the pool of pykustomize workers.

A build that hangs is stopped at its time limit by ending its process (its whole process
group): a call into kustomize's Go library cannot be interrupted inside the calling process,
so pykustomize runs in worker processes (:mod:`gitops_analysis.render.worker`, run by file
path), one per thread that renders, each sent one build at a time.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

_WORKER = Path(__file__).with_name("worker.py")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except OSError:
        pass


def run(args: list[str], cwd: str, timeout: float,
        env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of a renderer binary; TimeoutError at the time limit, when
    its whole process group is ended."""
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=max(timeout, 0.001))
    except subprocess.TimeoutExpired:
        _kill(proc)
        proc.communicate()
        raise TimeoutError from None
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def binary_version(binary: str, args: list[str]) -> str:
    """The first line a binary prints for its version (``unknown`` when it prints none)."""
    try:
        done = subprocess.run([binary, *args], capture_output=True, timeout=30,
                              stdin=subprocess.DEVNULL, check=False)
        text = (done.stdout or done.stderr).decode("utf-8", "replace").strip()
        return " ".join(text.splitlines()[0].split()) if text else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


class _Worker:
    """One worker process (worker.py, or ``script``), used by one thread at a time."""

    def __init__(self, script: Path = _WORKER, label: str = "kustomize") -> None:
        self.label = label
        self.proc = subprocess.Popen([sys.executable, "-P", str(script)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.requests: IO[bytes] = self.proc.stdin
        self.answers: queue.Queue[bytes | None] = queue.Queue()
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()

    def _read(self, stdout: IO[bytes]) -> None:
        for line in stdout:
            self.answers.put(line)
        self.answers.put(None)

    def build(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        try:
            self.requests.write(json.dumps(request).encode("utf-8") + b"\n")
            self.requests.flush()
        except OSError:
            raise RuntimeError(f"the {self.label} worker process ended (exit code "
                               f"{self.proc.wait()})") from None
        try:
            line = self.answers.get(timeout=max(timeout, 0.001))
        except queue.Empty:
            raise TimeoutError from None
        if line is None:
            raise RuntimeError(f"the {self.label} worker process ended (exit code "
                               f"{self.proc.wait()})")
        answer = json.loads(line)
        return answer if isinstance(answer, dict) else {"ok": False, "error": "no answer"}

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        try:
            self.requests.close()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            _kill(self.proc)
            self.proc.wait()

    def kill(self) -> None:
        _kill(self.proc)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


class Workers:
    """A worker per thread, started on first use; a worker that timed out is replaced.

    ``script``: the worker program (default: worker.py, pykustomize; the Helm renderer uses
    helm_worker.py); ``label`` names it in messages."""

    def __init__(self, script: Path = _WORKER, label: str = "kustomize") -> None:
        self.script, self.label = script, label
        self.local = threading.local()
        self.all: list[_Worker] = []
        self.lock = threading.Lock()

    def build(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        """The worker's answer: ``{"ok": true, "yaml": ...}`` or ``{"ok": false, "error": ...}``;
        TimeoutError at the time limit, RuntimeError when the worker process died."""
        w = getattr(self.local, "worker", None)
        if w is None or not w.alive():
            w = _Worker(self.script, self.label)
            self.local.worker = w
            with self.lock:
                self.all.append(w)
        try:
            return w.build(request, timeout)
        except (TimeoutError, RuntimeError):
            w.kill()
            self.local.worker = None
            raise

    def close(self) -> None:
        with self.lock:
            workers, self.all = self.all, []
        for w in workers:
            w.close()
