"""Rendered manifests -> records for the ``resources`` frame (or load errors, never nothing)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from gitops_analysis.core.kinds import split_api_version
from gitops_analysis.load.applications import (
    HOOK_WEIGHT_ANNOTATION,
    IGNORE_ANNOTATION,
    WAVE_ANNOTATION,
    _atoi,
)
from gitops_analysis.load.yaml_reader import show

HOOK_ANNOTATION = "argocd.argoproj.io/hook"
HELM_HOOK_ANNOTATION = "helm.sh/hook"
SYNC_OPTIONS_ANNOTATION = "argocd.argoproj.io/sync-options"
ORIGIN_ANNOTATION = "config.kubernetes.io/origin"
INSTANCE_LABEL = "app.kubernetes.io/instance"


INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1  # Go's int on the 64-bit platforms Argo runs on


def _json_default(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):  # YAML !!set: the same digest in every run
        return sorted(_text(v) for v in value)
    return _text(value)


def _plain(data: Any) -> Any:
    """What ``json.dumps(sort_keys=True)`` can write: keys as strings, no giant integers."""
    if isinstance(data, dict):
        return {(k if isinstance(k, str) else f"{type(k).__name__}:{_text(k)}"): _plain(v)
                for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_plain(v) for v in data]
    if isinstance(data, int) and not isinstance(data, bool) and data.bit_length() > 4000:
        return f"int:{data:x}"
    return data


def without_origin(data: Any) -> Any:
    """The document without kustomize's origin annotation: where a resource was defined is not
    part of what it is (two apps rendering one file from different roots stay identical)."""
    meta = data.get("metadata") if isinstance(data, dict) else None
    if not isinstance(meta, dict):
        return data
    ann = meta.get("annotations")
    if not isinstance(ann, dict) or ORIGIN_ANNOTATION not in ann:
        return data
    kept = {k: v for k, v in ann.items() if k != ORIGIN_ANNOTATION}
    meta = {k: v for k, v in meta.items() if k != "annotations"}
    if kept:
        meta["annotations"] = kept
    return {**data, "metadata": meta}


def content_hash(data: Any) -> str:
    """A digest of a document that ignores key order, formatting and the origin annotation."""
    data = without_origin(data)
    try:
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          default=_json_default)
    except (TypeError, ValueError):  # keys of mixed types or dates, integers too long to print
        text = json.dumps(_plain(data), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False, default=_json_default)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def _text(value: Any) -> str:
    """``str(value)`` that works for any value YAML can produce (even a 10,000-digit integer)."""
    if isinstance(value, str):
        return value
    try:
        return str(value)
    except ValueError:
        return f"0x{value:x}" if isinstance(value, int) else show(value)


def sync_wave(annotations: dict, where: str) -> tuple[int, str | None]:
    """Argo CD's reading of a sync wave, as :func:`parse_wave` (gitops-engine syncwaves/waves.go),
    with Go's limits: a value ``strconv.Atoi`` refuses (out of the int64 range) is not an
    integer either. Not an integer -> Helm hook weight -> 0, with a warning."""
    weight = _go_int(annotations.get(HOOK_WEIGHT_ANNOTATION))
    fallback = weight if isinstance(weight, int) else 0
    text = annotations.get(WAVE_ANNOTATION)
    if text is None:
        return fallback, None
    value = _go_int(text)
    if isinstance(value, int):
        return value, None
    why = " (out of range)" if value is _OUT_OF_RANGE else ""
    return fallback, (f"{where}: sync-wave {show(text)} is not an integer{why}: Argo CD treats it "
                      f"as {fallback}; write an integer such as '0' or '-1'")


_OUT_OF_RANGE = object()


def unreadable_wave(annotations: dict) -> bool:
    """Whether the sync-wave or hook weight is an integer out of Go's range (Atoi refuses it)."""
    return any(_go_int(annotations.get(k)) is _OUT_OF_RANGE
               for k in (WAVE_ANNOTATION, HOOK_WEIGHT_ANNOTATION))


def _go_int(value: Any) -> Any:
    """Go's ``strconv.Atoi`` of an annotation: an int, None (not an integer) or _OUT_OF_RANGE."""
    if isinstance(value, str) and len(value) > 40:
        body = value[1:] if value[:1] in "+-" else value
        return _OUT_OF_RANGE if body.isascii() and body.isdigit() else None
    try:
        number = _atoi(value)
    except ValueError:
        return _OUT_OF_RANGE
    if number is not None and not INT64_MIN <= number <= INT64_MAX:
        return _OUT_OF_RANGE
    return number


def _origin(annotations: dict) -> str:
    value = annotations.get(ORIGIN_ANNOTATION)
    if not isinstance(value, str):
        return ""
    # kustomize writes a small YAML mapping: "path: base/cm.yaml\nrepo: ...\n"
    for line in value.splitlines():
        if line.startswith("path:"):
            return line[5:].strip().strip("'\"")
    return ""


def _options(text: Any) -> tuple[str, ...]:
    # gitops-engine resource/annotations.go: split on ",", trim each item
    if not isinstance(text, str):
        return ()
    return tuple(item.strip() for item in text.split(","))


def expand(data: Any) -> list[tuple[int, Any]]:
    """A ``kind: List`` document counts as its items, as kubectl expands it."""
    if isinstance(data, dict) and data.get("kind") == "List" and \
            data.get("apiVersion", "v1") == "v1" and isinstance(data.get("items"), list):
        return list(enumerate(data["items"]))
    return [(-1, data)]


def to_record(data: Any, where: str) -> tuple[dict | None, str | None, list[str]]:
    """One manifest -> (record, error, warnings). Exactly one of record and error is set."""
    if not isinstance(data, dict):
        what = "a list" if isinstance(data, list) else "null" if data is None else \
            f"a {type(data).__name__} scalar"
        return None, (f"{where}: the document is {what}, not a Kubernetes object: "
                      "each document must be a mapping with apiVersion, kind and metadata"), []
    api_version, kind = data.get("apiVersion"), data.get("kind")
    missing = [k for k, v in (("apiVersion", api_version), ("kind", kind)) if not v]
    if missing:
        return None, (f"{where}: no {' or '.join(missing)}: every Kubernetes object needs "
                      "apiVersion and kind"), []
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return None, f"{where}: apiVersion and kind must be strings: quote them", []
    meta = data.get("metadata")
    if not isinstance(meta, dict):
        return None, f"{where}: {kind} without a metadata mapping: add metadata.name", []
    annotations = meta.get("annotations") or {}
    labels = meta.get("labels") or {}
    if not isinstance(annotations, dict):
        return None, (f"{where}: metadata.annotations of this {kind} is not a mapping: "
                      "write annotations as key: value pairs"), []
    if not isinstance(labels, dict):
        return None, (f"{where}: metadata.labels of this {kind} is not a mapping: "
                      "write labels as key: value pairs"), []
    hook = annotations.get(HOOK_ANNOTATION) or annotations.get(HELM_HOOK_ANNOTATION) or ""
    name = meta.get("name")
    if name is None and meta.get("generateName") and hook:
        name = meta["generateName"]  # hooks may use generateName; Argo CD keys them so
    if name is None or name == "":
        return None, (f"{where}: {kind} without metadata.name: add a name "
                      "(only hooks may use generateName)"), []
    if not isinstance(name, str):
        return None, (f"{where}: metadata.name of this {kind} is a {type(name).__name__}, not a "
                      f"string: quote it (name: \"{show(_text(name))[1:-1]}\")"), []
    namespace = meta.get("namespace") or ""
    if not isinstance(namespace, str):
        return None, (f"{where}: metadata.namespace of {kind}/{name} is not a string: "
                      "quote it"), []
    warnings = []
    wave, warning = sync_wave(annotations, where)
    if warning:
        warnings.append(warning)
    group, version = split_api_version(api_version)
    options = _options(annotations.get(SYNC_OPTIONS_ANNOTATION))
    argo_hook = annotations.get(HOOK_ANNOTATION)
    # gitops-engine hook.IsHook: an Argo CD hook annotation unless it is Skip; else Helm hooks
    # (crd-install is not a hook for Argo CD)
    if argo_hook is not None:
        is_hook = _text(argo_hook) != "Skip"
    else:
        helm = _text(annotations.get(HELM_HOOK_ANNOTATION) or "")
        is_hook = bool(helm) and helm != "crd-install"
    instance = labels.get(INSTANCE_LABEL)
    record = {
        "api_version": api_version, "group": group, "version": version, "kind": kind,
        "name": name, "declared_namespace": namespace, "sync_wave": wave,
        "hook": _text(hook), "is_hook": is_hook,
        "sync_options": ",".join(options),
        "resource_skip_dry_run": "SkipDryRunOnMissingResource=true" in options,
        "instance_label": "" if instance is None else _text(instance),
        "ignore": _text(annotations.get(IGNORE_ANNOTATION) or ""),
        "origin": _origin(annotations),
        "content_hash": content_hash(data),
    }
    if kind == "CustomResourceDefinition" and group == "apiextensions.k8s.io":
        record["crd"] = _crd_fields(data)
    if kind in WEBHOOK_KINDS and group == "admissionregistration.k8s.io":
        record["webhooks"] = _webhook_fields(data)
    return record, None, warnings


WEBHOOK_KINDS = ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(_text(v) for v in value if v is not None) if isinstance(value, list) else ()


def _int_or(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _webhook_fields(data: dict) -> list[dict]:
    """Each ``webhooks[]`` entry that calls a Service, compactly (v1 defaults filled in:
    failurePolicy Fail, port 443, timeoutSeconds 10)."""
    out = []
    hooks = data.get("webhooks")
    for hook in hooks if isinstance(hooks, list) else []:
        if not isinstance(hook, dict):
            continue
        config = hook.get("clientConfig")
        svc = config.get("service") if isinstance(config, dict) else None
        if not isinstance(svc, dict):
            continue  # a URL webhook, or none: nothing in the cluster to miss
        rules = []
        hook_rules = hook.get("rules")
        for rule in hook_rules if isinstance(hook_rules, list) else []:
            if isinstance(rule, dict):
                rules.append((_strings(rule.get("apiGroups")), _strings(rule.get("resources")),
                              _strings(rule.get("operations"))))
        out.append({
            "webhook": _text(hook.get("name") or ""),
            "failure_policy": _text(hook.get("failurePolicy") or "Fail"),
            "service_namespace": _text(svc.get("namespace") or ""),
            "service_name": _text(svc.get("name") or ""),
            "service_path": _text(svc.get("path") or ""),
            "service_port": _int_or(svc.get("port"), 443),
            "timeout_seconds": _int_or(hook.get("timeoutSeconds"), 10),
            "object_selector": bool(hook.get("objectSelector")),
            "rules": tuple(rules),
        })
    return out


def _crd_fields(data: dict) -> dict | None:
    spec = data.get("spec")
    if not isinstance(spec, dict):
        return None
    found = spec.get("names")
    names: dict[str, Any] = found if isinstance(found, dict) else {}
    versions = spec.get("versions")
    if isinstance(versions, list):
        served = [_text(v.get("name")) for v in versions
                  if isinstance(v, dict) and v.get("served", True) is not False and v.get("name")]
    elif spec.get("version"):  # apiextensions v1beta1
        served = [_text(spec["version"])]
    else:
        served = []
    scope = spec.get("scope")
    return {
        "group": _text(spec.get("group") or ""), "kind": _text(names.get("kind") or ""),
        "plural": _text(names.get("plural") or ""),
        "scope": scope if scope in ("Namespaced", "Cluster") else "Unknown",
        "versions": ",".join(served),
    }


__all__ = ["content_hash", "expand", "sync_wave", "to_record", "unreadable_wave"]
