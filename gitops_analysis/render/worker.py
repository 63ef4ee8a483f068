"""A render worker: builds kustomizations with the in-process kustomize of ``pykustomize``.

:mod:`gitops_analysis.render.workers` starts a few of these as separate processes (one per
thread that renders) and sends them one build at a time, so that a build that hangs can be
stopped at its time limit by ending its process: a call into the Go library cannot be
interrupted inside the calling process. It is run by file path (``python -P worker.py``) so
that it imports neither the package nor pandas; it needs only the standard library and
``pykustomize``.

Protocol, one JSON object per line: request ``{"path": DIR, "enable_helm": bool,
"helm_command": PATH}`` on standard input; answer ``{"ok": true, "yaml": TEXT}`` or
``{"ok": false, "error": MESSAGE}`` on the original standard output. Anything the library
itself prints to standard output goes to standard error instead, so it cannot garble the answers.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys


def main() -> int:
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        import pykustomize
    except Exception as exc:
        for _ in sys.stdin:
            answers.write(json.dumps({"ok": False, "error": f"pykustomize cannot be loaded: "
                                                            f"{exc}"}) + "\n")
            answers.flush()
        return 0
    for line in sys.stdin:
        try:
            request = json.loads(line)
            options = pykustomize.BuildOptions(
                enable_helm=bool(request.get("enable_helm")),
                helm_command=str(request.get("helm_command") or ""))
            result = asyncio.run(pykustomize.build(request["path"], options))
            answer = {"ok": True, "yaml": result.yaml}
        except Exception as exc:
            answer = {"ok": False, "error": str(exc) or type(exc).__name__}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
