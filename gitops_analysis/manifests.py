"""Rendered manifests -> records for the ``resources`` frame (or load errors, never nothing)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .applications import _atoi, parse_wave
from .kinds import split_api_version

HOOK_ANNOTATION = "argocd.argoproj.io/hook"
HELM_HOOK_ANNOTATION = "helm.sh/hook"
SYNC_OPTIONS_ANNOTATION = "argocd.argoproj.io/sync-options"
ORIGIN_ANNOTATION = "config.kubernetes.io/origin"
INSTANCE_LABEL = "app.kubernetes.io/instance"


def content_hash(data: Any) -> str:
    """A digest of a document that ignores key order and formatting."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


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
            str(data.get("apiVersion", "v1")) == "v1" and isinstance(data.get("items"), list):
        return list(enumerate(data["items"]))
    return [(-1, data)]


def to_record(data: Any, where: str) -> tuple[dict | None, str | None, list[str]]:
    """One manifest -> (record, error, warnings). Exactly one of record and error is set."""
    if not isinstance(data, dict):
        what = "a list" if isinstance(data, list) else f"a {type(data).__name__} scalar"
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
                      f"string: quote it (name: \"{name}\")"), []
    namespace = meta.get("namespace") or ""
    if not isinstance(namespace, str):
        return None, (f"{where}: metadata.namespace of {kind}/{name} is not a string: "
                      "quote it"), []
    warnings = []
    wave, warning = parse_wave(annotations, where)
    if warning:
        warnings.append(warning)
    group, version = split_api_version(api_version)
    options = _options(annotations.get(SYNC_OPTIONS_ANNOTATION))
    argo_hook = annotations.get(HOOK_ANNOTATION)
    # gitops-engine hook.IsHook: an Argo CD hook annotation unless it is Skip; else Helm hooks
    # (crd-install is not a hook for Argo CD)
    if argo_hook is not None:
        is_hook = str(argo_hook) != "Skip"
    else:
        helm = str(annotations.get(HELM_HOOK_ANNOTATION) or "")
        is_hook = bool(helm) and helm != "crd-install"
    instance = labels.get(INSTANCE_LABEL)
    record = {
        "api_version": api_version, "group": group, "version": version, "kind": kind,
        "name": name, "declared_namespace": namespace, "sync_wave": wave,
        "hook": str(hook), "is_hook": is_hook,
        "sync_options": ",".join(options),
        "resource_skip_dry_run": "SkipDryRunOnMissingResource=true" in options,
        "instance_label": "" if instance is None else str(instance),
        "origin": _origin(annotations),
        "content_hash": content_hash(data),
    }
    if kind == "CustomResourceDefinition" and group == "apiextensions.k8s.io":
        record["crd"] = _crd_fields(data)
    return record, None, warnings


def _crd_fields(data: dict) -> dict | None:
    spec = data.get("spec")
    if not isinstance(spec, dict):
        return None
    names = spec.get("names") if isinstance(spec.get("names"), dict) else {}
    versions = spec.get("versions")
    if isinstance(versions, list):
        served = [str(v.get("name")) for v in versions
                  if isinstance(v, dict) and v.get("served", True) is not False and v.get("name")]
    elif spec.get("version"):  # apiextensions v1beta1
        served = [str(spec["version"])]
    else:
        served = []
    scope = spec.get("scope")
    return {
        "group": str(spec.get("group") or ""), "kind": str(names.get("kind") or ""),
        "plural": str(names.get("plural") or ""),
        "scope": scope if scope in ("Namespaced", "Cluster") else "Unknown",
        "versions": ",".join(served),
    }


__all__ = ["content_hash", "expand", "to_record", "_atoi"]
