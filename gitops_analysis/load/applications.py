"""Argo CD Application manifests -> records for the ``apps`` and ``sources`` frames."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WAVE_ANNOTATION = "argocd.argoproj.io/sync-wave"
HOOK_WEIGHT_ANNOTATION = "helm.sh/hook-weight"
IGNORE_ANNOTATION = "gitops-analysis.io/ignore"  # rules not reported for this object
IN_CLUSTER = "https://kubernetes.default.svc"
CONTROL_NAMESPACE = "argocd"  # Argo CD's own namespace unless told otherwise


def parse_wave(annotations: dict, where: str) -> tuple[int, str | None]:
    """Argo CD's reading of a sync wave (gitops-engine pkg/sync/syncwaves/waves.go).

    Not an integer -> Helm hook weight -> 0. Argo CD says nothing; we return a warning.
    """
    text = annotations.get(WAVE_ANNOTATION)
    if text is None:
        return _hook_weight(annotations), None
    value = _atoi(text)
    if value is not None:
        return value, None
    fallback = _hook_weight(annotations)
    return fallback, (f"{where}: sync-wave {text!r} is not an integer: Argo CD treats it as "
                      f"{fallback}; write an integer such as '0' or '-1'")


def _hook_weight(annotations: dict) -> int:
    value = _atoi(annotations.get(HOOK_WEIGHT_ANNOTATION))
    return 0 if value is None else value


def _atoi(text: Any) -> int | None:
    """Go's strconv.Atoi: optional sign and decimal digits, nothing else (no spaces)."""
    if isinstance(text, bool) or text is None:
        return None
    if isinstance(text, int):
        return text
    if not isinstance(text, str):
        return None
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isascii() or not body.isdigit():
        return None
    return int(text)


@dataclass
class AppRecord:
    row: dict
    sources: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _source_type(src: dict) -> str:
    if src.get("chart") or isinstance(src.get("helm"), dict):
        return "helm"
    if isinstance(src.get("kustomize"), dict):
        return "kustomize"
    if isinstance(src.get("plugin"), dict):
        return "plugin"
    if isinstance(src.get("directory"), dict):
        return "directory"
    return "unknown"


def _str(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def parse_application(data: Any, where: str, file: str, line: int, *,
                      control_namespace: str = CONTROL_NAMESPACE) -> AppRecord | str:
    """One Application document -> AppRecord, or the reason it cannot be one.

    The app is ``<namespace>/<name>``: an Application without ``metadata.namespace`` lives in
    the control-plane namespace (``control_namespace``), where ``kubectl apply -n`` or the
    parent app puts it."""
    meta = data.get("metadata")
    if not isinstance(meta, dict):
        return f"{where}: Application without metadata: add metadata.name"
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        return f"{where}: Application without a string metadata.name: add metadata.name"
    spec = data.get("spec")
    if not isinstance(spec, dict):
        return (f"{where}: Application {name} has no spec mapping: add spec.source and "
                "spec.destination")
    annotations = meta.get("annotations") or {}
    if not isinstance(annotations, dict):
        return f"{where}: metadata.annotations of {name} is not a mapping: write key: value pairs"
    warnings = []
    wave, warning = parse_wave(annotations, where)
    if warning:
        warnings.append(warning)

    raw_sources = spec.get("sources")
    if raw_sources is None and spec.get("source") is not None:
        raw_sources = [spec["source"]]
    if raw_sources is None:
        raw_sources = []
    if not isinstance(raw_sources, list) or not all(isinstance(s, dict) for s in raw_sources):
        return f"{where}: spec.source(s) of {name} is not a mapping (or list of mappings): fix it"
    app_namespace = _str(meta.get("namespace")) or control_namespace
    key = app_key(app_namespace, name)
    sources = [{
        "app": key, "index": i, "repo_url": _str(s.get("repoURL")), "path": _str(s.get("path")),
        "target_revision": _str(s.get("targetRevision")), "chart": _str(s.get("chart")),
        "ref": _str(s.get("ref")), "type": _source_type(s)} for i, s in enumerate(raw_sources)]
    if not sources:
        warnings.append(f"{where}: Application {name} has no spec.source or spec.sources: "
                        "Argo CD cannot render it; add a source")

    dest = spec.get("destination") or {}
    if not isinstance(dest, dict):
        return f"{where}: spec.destination of {name} is not a mapping: fix it"
    server, dest_name = _str(dest.get("server")), _str(dest.get("name"))
    cluster = server or (IN_CLUSTER if dest_name == "in-cluster" else dest_name)

    policy = spec.get("syncPolicy") or {}
    if not isinstance(policy, dict):
        return f"{where}: spec.syncPolicy of {name} is not a mapping: fix it"
    options = policy.get("syncOptions") or []
    if not isinstance(options, list):
        return f"{where}: spec.syncPolicy.syncOptions of {name} is not a list: fix it"
    options = tuple(_str(o) for o in options)

    row = {
        "app": key,
        "name": name,
        "app_namespace": app_namespace,
        "instance": instance_name(app_namespace, name, control_namespace),
        "project": _str(spec.get("project")),
        "wave": wave,
        "source_count": len(sources),
        "source_paths": tuple(s["path"] or s["chart"] for s in sources),
        "source_type": sources[0]["type"] if len(sources) == 1 else
                       ("multi" if sources else "unknown"),
        "destination_server": server,
        "destination_name": dest_name,
        "destination_namespace": _str(dest.get("namespace")),
        "cluster": cluster,
        "sync_options": options,
        # Argo CD matches sync options as exact strings (SyncOptions.HasOption)
        "automated": policy.get("automated") is not None,
        "create_namespace": "CreateNamespace=true" in options,
        "skip_dry_run": "SkipDryRunOnMissingResource=true" in options,
        "fail_on_shared_resource": "FailOnSharedResource=true" in options,
        "ignore": _str(annotations.get(IGNORE_ANNOTATION) or ""),
        "file": file,
        "line": line,
    }
    return AppRecord(row=row, sources=sources, warnings=warnings)


def app_key(app_namespace: str, name: str) -> str:
    """The app's identity in every frame and message: ``<namespace>/<name>``."""
    return f"{app_namespace}/{name}"


def instance_name(app_namespace: str, name: str, control_plane_namespace: str = "argocd") -> str:
    """Application.InstanceName(): what tracking writes; ``<ns>_<name>`` outside the control
    plane."""
    if not app_namespace or app_namespace == control_plane_namespace:
        return name
    return f"{app_namespace}_{name}"
