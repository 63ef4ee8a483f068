"""The Helm renderer's process: ``helm`` on the Helm Go library of helm-python-sdk.

Run by file path (``python -P helm_worker.py``), in two ways:

- ``serve`` (the default): a render worker of :class:`~gitops_analysis.render.workers.Workers`,
  one per thread that renders, sent one command at a time, so that a render that hangs is
  stopped at its time limit by ending the process (a call into the Go library cannot be
  interrupted inside the calling process). Protocol, one JSON object per line: request
  ``{"args": [...], "cwd": DIR, "env": {...}}`` on standard input; answer ``{"code": N, "out":
  TEXT, "err": TEXT}`` (what ``helm ARGS`` would exit with and print) on the original standard
  output. Anything the library itself prints goes to standard error instead.
- ``cli ARGS...``: a ``helm`` command line, for kustomize's ``helmCharts`` (``--helm-command``
  points at a small script that runs this): ``version``, ``template``, ``pull``.

Only ``HELM_*`` and ``GITOPS_ANALYSIS_*`` variables of a request's ``env`` are applied.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this package, not the cwd

_ENV_PREFIXES = ("HELM_", "GITOPS_ANALYSIS_")


def _apply_env(env: dict[str, str]) -> None:
    for key in [k for k in os.environ if k.startswith(_ENV_PREFIXES)]:
        if key not in env:
            del os.environ[key]
    for key, value in env.items():
        if key.startswith(_ENV_PREFIXES):
            os.environ[key] = str(value)


def _run(args: list[str], cwd: str) -> tuple[int, str, str]:
    from gitops_analysis.render.helm_engine import run

    try:
        os.chdir(cwd)  # --set-file paths are read relative to it, as by helm
    except OSError as exc:
        return 1, "", f"Error: chdir {cwd}: {(exc.strerror or str(exc)).lower()}\n"
    try:
        return run(args, cwd)
    except Exception as exc:  # a bug here must not end the worker
        return 1, "", f"Error: {type(exc).__name__}: {exc}\n"


def serve() -> int:
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        import helm_python  # noqa: F401
    except Exception as exc:
        for _ in sys.stdin:
            answers.write(json.dumps({"code": 1, "out": "", "err": f"Error: helm-python-sdk "
                                      f"cannot be loaded: {exc}\n"}) + "\n")
            answers.flush()
        return 0
    for line in sys.stdin:
        try:
            request = json.loads(line)
            _apply_env(dict(request.get("env") or {}))
            code, out, err = _run([str(a) for a in request["args"]], str(request["cwd"]))
        except Exception as exc:
            code, out, err = 1, "", f"Error: bad request to the helm worker: {exc}\n"
        answers.write(json.dumps({"code": code, "out": out, "err": err}) + "\n")
        answers.flush()
    return 0


def cli(args: list[str]) -> int:
    code, out, err = _run(args, os.getcwd())
    sys.stdout.write(out)
    sys.stdout.flush()
    sys.stderr.write(err)
    return code


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "cli":
        sys.exit(cli(sys.argv[2:]))
    sys.exit(serve())
