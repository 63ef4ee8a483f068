"""What the write-up reads from the dataset's own files: one rendered document at a time (to say
how two renders of a shared resource differ, or which generator made a resource), and an
Application's sync policy. Every read goes through the hardened YAML reader."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from gitops_analysis.load import yaml_stream as stream
from gitops_analysis.load.manifests import ORIGIN_ANNOTATION, without_origin
from gitops_analysis.load.yaml_reader import parse_text

_MAX_LINES = 200_000  # one document of a rendered file; beyond that it is not read here


def document_at(root, file: str, line: int, item: int = -1) -> Any:
    """The document of ``root/file`` whose content starts at ``line`` (1-based), parsed; the
    ``item``-th entry of a List when ``item >= 0``. None when it cannot be read."""
    if root is None or line < 1:
        return None
    try:
        f, _ = stream.open_regular(root / file)
        if f is None:
            return None
        with f:
            lines: list[bytes] = []
            for number, raw in enumerate(f, start=1):
                if number < line:
                    continue
                if raw.rstrip(b"\r\n") == b"---" or raw.startswith(b"--- "):
                    break
                lines.append(raw)
                if len(lines) > _MAX_LINES:
                    return None
    except OSError:
        return None
    try:
        text = b"".join(lines).decode("utf-8")
    except UnicodeDecodeError:
        return None
    doc = parse_text(text, file, line)
    if doc.error is not None:
        return None
    data = doc.data
    if item >= 0:
        items = data.get("items") if isinstance(data, dict) else None
        return items[item] if isinstance(items, list) and item < len(items) else None
    return data


_ABSENT = object()


def _named(items: list) -> dict | None:
    """A list of mappings that all carry a distinct ``name`` (containers, ports, env) by name."""
    names = [i.get("name") if isinstance(i, dict) else None for i in items]
    if not items or any(not isinstance(n, str) for n in names) or len(set(names)) != len(names):
        return None
    return dict(zip(names, items))


def _walk(a: Any, b: Any, path: str, out: list[tuple[str, Any, Any]]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if "." in str(key) or "/" in str(key):
                sub = f"{path}[{key}]" if path else f"[{key}]"
            _walk(a.get(key, _ABSENT), b.get(key, _ABSENT), sub, out)
        return
    if isinstance(a, list) and isinstance(b, list):
        na, nb = _named(a), _named(b)
        if na is not None and nb is not None:
            for name in sorted(set(na) | set(nb)):
                _walk(na.get(name, _ABSENT), nb.get(name, _ABSENT), f"{path}[{name}]", out)
            return
        if len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b)):
                _walk(x, y, f"{path}[{i}]", out)
            return
    if a != b:
        out.append((path, a, b))


def _show(value: Any, limit: int = 90) -> str:
    if value is _ABSENT:
        return "(absent)"
    if isinstance(value, str):
        text = value
    else:
        import json

        text = json.dumps(value, sort_keys=True, default=str)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class FieldDiff:
    """One field that differs between two renders: its path and the value in each."""

    path: str
    left: str
    right: str


def differences(a: Any, b: Any) -> list[FieldDiff]:
    """The fields that differ between two rendered documents (the origin annotation left out:
    it only says where each render came from)."""
    out: list[tuple[str, Any, Any]] = []
    _walk(without_origin(a), without_origin(b), "", out)
    return [FieldDiff(p or "(the whole document)", _show(x), _show(y)) for p, x, y in out]


def generator_of(data: Any, source_path: str) -> tuple[str, str] | None:
    """(repository path of the kustomization, generator kind) of a resource a kustomize
    generator made, from its origin annotation (``configuredIn``, ``configuredBy``); None
    otherwise."""
    meta = data.get("metadata") if isinstance(data, dict) else None
    ann = meta.get("annotations") if isinstance(meta, dict) else None
    value = ann.get(ORIGIN_ANNOTATION) if isinstance(ann, dict) else None
    if not isinstance(value, str):
        return None
    doc = parse_text(value, "origin annotation")
    origin = doc.data if doc.error is None else None
    if not isinstance(origin, dict) or not isinstance(origin.get("configuredIn"), str):
        return None
    by = origin.get("configuredBy")
    kind = by.get("kind") if isinstance(by, dict) else None
    where = posixpath.normpath(posixpath.join(source_path or ".", origin["configuredIn"]))
    return where, kind if isinstance(kind, str) else ""


def sync_policy(root, file: str, line: int) -> dict[str, bool]:
    """``{"prune": ..., "self_heal": ...}`` of an Application's automated sync policy."""
    data = document_at(root, file, line)
    spec = data.get("spec") if isinstance(data, dict) else None
    policy = spec.get("syncPolicy") if isinstance(spec, dict) else None
    auto = policy.get("automated") if isinstance(policy, dict) else None
    auto = auto if isinstance(auto, dict) else {}
    return {"prune": auto.get("prune") is True, "self_heal": auto.get("selfHeal") is True}
