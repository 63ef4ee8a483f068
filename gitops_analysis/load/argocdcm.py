"""Read the argocd-cm ConfigMap: is the Application health check configured?"""

from __future__ import annotations

from pathlib import Path

import yaml

from gitops_analysis.core.errors import InputError

HEALTH_KEY = "resource.customizations.health.argoproj.io_Application"


def health_check_configured(path: str | Path) -> bool:
    """True when argocd-cm defines a health check for argoproj.io/Application.

    Either the per-kind key, or the older ``resource.customizations`` block with an
    ``argoproj.io/Application`` entry that has ``health.lua``.
    """
    path = Path(path)
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"cannot be read as YAML ({exc})", file=str(path),
                         todo="pass the argocd-cm ConfigMap (kubectl get cm argocd-cm -n argocd "
                              "-o yaml)") from None
    for doc in docs:
        if not isinstance(doc, dict) or doc.get("kind") != "ConfigMap":
            continue
        data = doc.get("data") or {}
        if not isinstance(data, dict):
            continue
        if str(data.get(HEALTH_KEY) or "").strip():
            return True
        block = data.get("resource.customizations")
        if isinstance(block, str):
            try:
                parsed = yaml.safe_load(block) or {}
            except yaml.YAMLError:
                parsed = {}
            entry = parsed.get("argoproj.io/Application") if isinstance(parsed, dict) else None
            if isinstance(entry, dict) and entry.get("health.lua"):
                return True
        return False
    raise InputError("no ConfigMap in the file", file=str(path),
                     todo="pass the argocd-cm ConfigMap")
