"""``import-live``: an Argo CD export -> a dataset's ``apps/<app>.yaml`` and ``live/<export>``.

Each Application is written as it would stand in Git (metadata and spec; no status, no server
fields), and the export itself is kept in ``live/``, where ``load_dataset`` finds it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from gitops_analysis.core.errors import UsageError
from gitops_analysis.load.live_export import EXPORT_SUFFIXES, load_live
from gitops_analysis.load.live_frames import LiveState

_DROP_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",
                     "argocd.argoproj.io/refresh")


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def application_manifest(raw: dict) -> dict:
    """The Application as it would be written in Git: metadata and spec, no status or server
    fields (uid, resourceVersion, managedFields, ...)."""
    meta = raw.get("metadata") or {}
    out_meta: dict[str, Any] = {"name": meta.get("name")}
    if meta.get("namespace"):
        out_meta["namespace"] = meta["namespace"]
    if isinstance(meta.get("labels"), dict) and meta["labels"]:
        out_meta["labels"] = _sorted(meta["labels"])
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items()
                   if k not in _DROP_ANNOTATIONS} if isinstance(meta.get("annotations"), dict) \
        else {}
    if annotations:
        out_meta["annotations"] = _sorted(annotations)
    if isinstance(meta.get("finalizers"), list) and meta["finalizers"]:
        out_meta["finalizers"] = list(meta["finalizers"])
    api = raw.get("apiVersion") if isinstance(raw.get("apiVersion"), str) and \
        raw.get("apiVersion") else "argoproj.io/v1alpha1"
    return {"apiVersion": api, "kind": "Application", "metadata": out_meta,
            "spec": _sorted(raw.get("spec") or {})}


class _Dumper(yaml.SafeDumper):
    """Block style for multi-line strings (Helm values, ...)."""


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str)


def _dump(doc: dict) -> str:
    body = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=4096)
    return ("# written by gitops-analysis import-live from an Argo CD export: metadata and spec "
            "only (status left out)\n" + body)


def import_live(path: str | Path, out: str | Path, *, force: bool = False) -> tuple[LiveState,
                                                                                  list[Path]]:
    """Write ``OUT/apps/<instance>.yaml`` from each Application of the export (its Argo CD
    instance name: ``<name>``, or ``<namespace>_<name>`` outside the control-plane namespace)
    and copy the export to ``OUT/live/``. Refuses to overwrite a different file unless
    ``force``."""
    path, out = Path(path), Path(out)
    live = load_live(path)
    if out.exists() and not out.is_dir():
        raise UsageError("exists and is not a folder", file=str(out),
                         todo="pass a dataset folder to --out")
    apps_dir, live_dir = out / "apps", out / "live"
    instance = dict(zip(live.apps["app"], live.apps["instance"]))
    texts = {apps_dir / f"{instance[app]}.yaml": _dump(application_manifest(raw))
             for app, raw in live.applications.items()}
    target = live_dir / path.name
    clashes = [p for p, text in texts.items()
               if p.exists() and p.read_text(encoding="utf-8", errors="replace") != text]
    others = sorted(p for p in live_dir.iterdir() if p.suffix.lower() in EXPORT_SUFFIXES
                    and p.name != path.name) if live_dir.is_dir() else []
    same_file = target.exists() and target.resolve() == path.resolve()
    if not force:
        if target.exists() and not same_file and target.read_bytes() != path.read_bytes():
            clashes.append(target)
        if clashes or others:
            shown = ", ".join(str(p) for p in (clashes + others)[:3])
            more = len(clashes) + len(others) - 3
            raise UsageError(f"would overwrite or leave beside another export: {shown}"
                             + (f" and {more} more" if more > 0 else ""), file=str(out),
                             todo="pass --force to replace them, or choose another --out")
    apps_dir.mkdir(parents=True, exist_ok=True)
    live_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for p, text in sorted(texts.items()):
        p.write_text(text, encoding="utf-8")
        written.append(p)
    for p in others:
        p.unlink()
    if not same_file:
        shutil.copyfile(path, target)
    written.append(target)
    return live, written
