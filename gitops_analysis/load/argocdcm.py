"""Read the argocd-cm ConfigMap: is the Application health check configured?

The file, and the ``resource.customizations`` block inside it, are read by the one hardened
reader (:mod:`gitops_analysis.load.yaml_reader`), with its limits.
"""

from __future__ import annotations

from pathlib import Path

from gitops_analysis.core.errors import InputError
from gitops_analysis.load.yaml_reader import parse_text, read_documents

HEALTH_KEY = "resource.customizations.health.argoproj.io_Application"
_TODO = "pass the argocd-cm ConfigMap (kubectl get cm argocd-cm -n argocd -o yaml)"


def health_check_configured(path: str | Path) -> bool:
    """True when argocd-cm defines a health check for argoproj.io/Application.

    Either the per-kind key, or the older ``resource.customizations`` block with an
    ``argoproj.io/Application`` entry that has ``health.lua``.
    """
    display = str(path)
    try:
        docs, _, problem = read_documents(Path(path), display)
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc})", file=display,
                         todo=_TODO) from None
    if problem:
        raise problem.input_error()
    for doc in docs:
        if doc.error:
            raise doc.error.input_error()
    for doc in docs:
        if not isinstance(doc.data, dict) or doc.data.get("kind") != "ConfigMap":
            continue
        data = doc.data.get("data") or {}
        if not isinstance(data, dict):
            continue
        if str(data.get(HEALTH_KEY) or "").strip():
            return True
        block = data.get("resource.customizations")
        if isinstance(block, str):
            # a block that cannot be read configures nothing (its errors are not reported)
            parsed = parse_text(block, display, doc.line).data
            entry = parsed.get("argoproj.io/Application") if isinstance(parsed, dict) else None
            if isinstance(entry, dict) and entry.get("health.lua"):
                return True
        return False
    raise InputError("no ConfigMap in the file", file=display, todo="pass the argocd-cm ConfigMap")
