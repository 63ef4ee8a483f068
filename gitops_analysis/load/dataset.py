"""``load_dataset(path) -> Dataset``: every app and every resource it deploys, as tidy frames.

Layout read (the contract of every command):

- ``apps/``: Argo CD Application manifests (``*.yaml``/``*.yml``, several documents per file).
- ``rendered/<app>.yaml`` or ``rendered/<app>/*.yaml``: what the app deploys.
- ``render-status.json`` (optional): written by ``gitops-analysis render``; its
  ``argocd_namespace`` (render's ``--argocd-namespace``) is the default control-plane namespace.

Nothing is dropped silently: every non-empty document of ``rendered/`` becomes a resource row or
a load-error row (``accounting.documents == resources + load_errors``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gitops_analysis.core.errors import InputError, NotADatasetError
from gitops_analysis.load.applications import (
    CONTROL_NAMESPACE,
    HOOK_WEIGHT_ANNOTATION,
    WAVE_ANNOTATION,
    AppRecord,
    parse_application,
)
from gitops_analysis.load.cluster import load_cluster_api, load_cluster_namespaces
from gitops_analysis.load.files import Collector, yaml_files
from gitops_analysis.load.manifests import sync_wave, unreadable_wave
from gitops_analysis.load.rendered import (
    RENDER_STATUS,
    extend_columns,
    read_rendered,
    render_status_doc,
    rendered_files,
    resolve_sources,
)
from gitops_analysis.load.yaml_reader import RawDocument, clip, show

if TYPE_CHECKING:
    import pandas as pd

    from gitops_analysis.load.live_export import LiveState


@dataclass
class Accounting:
    files: int = 0  # rendered files read
    documents: int = 0  # non-empty rendered documents (a kind: List counts as its items)
    resources: int = 0
    load_errors: int = 0
    apps_without_render: int = 0
    app_files: int = 0
    app_documents: int = 0
    applications: int = 0
    app_load_errors: int = 0
    skipped_app_documents: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Dataset:
    """The frames of one dataset. Columns: ``docs/frames.md`` (from ``schema.py``)."""

    name: str
    apps: pd.DataFrame
    sources: pd.DataFrame
    resources: pd.DataFrame
    crds: pd.DataFrame
    webhooks: pd.DataFrame
    load_errors: pd.DataFrame
    warnings: pd.DataFrame
    accounting: Accounting
    root: Path | None = field(default=None, repr=False)
    cluster_scopes: dict = field(default_factory=dict, repr=False)
    live: LiveState | None = field(default=None, repr=False)  # the export kept in live/
    argocd_namespace: str = CONTROL_NAMESPACE  # Argo CD's control-plane namespace
    cluster_namespaces: frozenset[str] = frozenset()  # namespaces the cluster already has
    # what render could not reach or expand: {"kind", "name", "reason", "detail"} each
    render_gaps: list[dict[str, str]] = field(default_factory=list)
    # AppProjects written in the repository's files, deployed or not (render-status.json):
    # {"name", "namespace", "file", "line"} each
    repository_projects: list[dict] = field(default_factory=list)

    def app(self, key: str) -> pd.Series:
        """The apps row of ``key`` (``<namespace>/<name>``, or a name only one app has)."""
        rows = self.apps[self.apps["app"] == key]
        if rows.empty:
            rows = self.apps[self.apps["name"] == key]
        if len(rows) != 1:
            raise KeyError(key)
        return rows.iloc[0]


def _read_apps(root: Path, col: Collector, acc: Accounting,
               control_namespace: str) -> list[AppRecord]:
    records: dict[str, AppRecord] = {}
    for path, problem in yaml_files(root / "apps", root):
        acc.app_files += 1
        for d in col.read(path, "apps", "", problem):
            acc.app_documents += 1
            where = f"{d.file}:{d.line}"
            if d.error:
                col.error("apps", "", d.file, d.doc_index, d.error.line, d.error.message)
                acc.app_load_errors += 1
                continue
            data = d.data
            kind = data.get("kind") if isinstance(data, dict) else None
            api = data.get("apiVersion") if isinstance(data, dict) else None
            if kind == "ApplicationSet" and isinstance(api, str) and \
                    api.startswith("argoproj.io/"):
                acc.skipped_app_documents += 1
                name = data.get("metadata", {}).get("name") \
                    if isinstance(data.get("metadata"), dict) else None
                col.warn("apps", "", d.file, d.doc_index, d.line,
                         f"{where}: ApplicationSet {show(name)[1:-1]}: the Applications it "
                         "generates are not in the dataset: render the repository with "
                         "gitops-analysis render, which expands it and writes them to apps/")
                continue
            if kind == "AppProject" and isinstance(api, str) and api.startswith("argoproj.io/"):
                acc.skipped_app_documents += 1  # read by load.projects for the project rules
                continue
            if kind != "Application" or not isinstance(api, str) or \
                    not api.startswith("argoproj.io/"):
                acc.skipped_app_documents += 1
                what = kind if isinstance(kind, str) and kind else "document"
                col.warn("apps", "", d.file, d.doc_index, d.line,
                         f"{where}: {show(what)[1:-1]} is not an argoproj.io Application: "
                         "skipped; only Applications are read from apps/")
                continue
            rec = _application(data, where, d, control_namespace)
            if isinstance(rec, str):
                col.error("apps", "", d.file, d.doc_index, d.line, rec)
                acc.app_load_errors += 1
                continue
            key = rec.row["app"]
            if key in records:
                first = records[key].row
                col.error("apps", key, d.file, d.doc_index, d.line,
                          f"{where}: a second Application {key} (first at "
                          f"{first['file']}:{first['line']}): skipped; give each app of a "
                          "namespace its own name")
                acc.app_load_errors += 1
                continue
            for w in rec.warnings:
                col.warn("apps", key, d.file, d.doc_index, d.line, w)
            records[key] = rec
    acc.applications = len(records)
    return [records[k] for k in sorted(records)]


def _application(data: dict, where: str, d: RawDocument,
                 control_namespace: str) -> AppRecord | str:
    """parse_application, guarded: whatever the document holds, a record or a reason."""
    meta = data.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    wave = None
    if isinstance(meta, dict) and isinstance(annotations, dict) and unreadable_wave(annotations):
        # a sync-wave Go's strconv.Atoi refuses (out of range): read as not an integer
        wave = sync_wave(annotations, where)
        kept = {k: v for k, v in annotations.items()
                if k not in (WAVE_ANNOTATION, HOOK_WEIGHT_ANNOTATION)}
        data = {**data, "metadata": {**meta, "annotations": kept}}
    try:
        rec = parse_application(data, where, d.file, d.line,
                                control_namespace=control_namespace)
    except Exception as exc:
        return (f"{where}: Application that cannot be read ({type(exc).__name__}: "
                f"{clip(str(exc), 120)}): fix it")
    if wave is not None and isinstance(rec, AppRecord):
        rec.row["wave"] = wave[0]
        if wave[1]:
            rec.warnings.append(wave[1])
    return rec


def _repository_projects(doc: dict) -> list[dict]:
    found = doc.get("repository_projects")
    return [p for p in found if isinstance(p, dict) and isinstance(p.get("name"), str)] \
        if isinstance(found, list) else []


def _render_gaps(doc: dict) -> list[dict[str, str]]:
    """ApplicationSets render could not expand (fully) and Application files no root reaches:
    whatever they would generate or deploy was not analysed."""
    gaps = []
    for name, s in sorted(doc.get("appsets", {}).items()):
        if not isinstance(s, dict) or s.get("complete", True):
            continue
        found = [g for g in s.get("gaps") or [] if isinstance(g, dict)]
        detail = "; ".join(str(g.get("message", "")) for g in found) or \
            "not every Application it generates could be expanded"
        reason = ", ".join(sorted({str(g.get("generator") or "template") for g in found}))
        gaps.append({"kind": "ApplicationSet", "name": str(name),
                     "reason": f"not expanded ({reason or 'see render-status.json'})",
                     "detail": detail})
    for u in doc.get("unreachable", []):
        if isinstance(u, dict):
            gaps.append({"kind": str(u.get("kind", "")), "name": str(u.get("name", "")),
                         "reason": "unreachable",
                         "detail": f"{u.get('file', '')}:{u.get('line', '')}: no root reaches "
                                   "it: not rendered"})
    return gaps


def _control_namespace(doc: dict) -> str | None:
    """The ``argocd_namespace`` render recorded (it was given ``--argocd-namespace``, or the
    configuration's); None when it recorded none."""
    ns = doc.get("argocd_namespace")
    if ns is None:
        return None
    if not isinstance(ns, str) or not ns.strip():
        raise InputError(f"argocd_namespace {ns!r} is not a namespace", file=RENDER_STATUS,
                         todo="render the repository again, or pass --argocd-namespace NS")
    return ns


def load_dataset(path: str | Path, *, cluster_api: str | Path | dict | None = None,
                 argocd_namespace: str | None = None,
                 cluster_namespaces: str | Path | Iterable[str] | None = None) -> Dataset:
    """Load a dataset folder into frames. See the module doc for the layout.

    ``argocd_namespace`` is Argo CD's control-plane namespace: Applications without a
    namespace live there, and apps elsewhere are ``<namespace>_<name>`` to tracking. None: the
    one render recorded in ``render-status.json``, else ``argocd`` (a guess).
    ``cluster_namespaces``: namespaces the destination cluster already has (a ``kubectl get
    namespaces`` file, or names)."""
    root = Path(path)
    if not root.is_dir():
        raise NotADatasetError("not a folder", file=str(path),
                               todo="point at a dataset folder that holds apps/ and rendered/")
    if not (root / "apps").is_dir():
        raise NotADatasetError("not a dataset (no apps/ folder)", file=str(path),
                               todo="point at a folder that holds apps/ and rendered/")
    if isinstance(cluster_api, (str, Path)):
        cluster_api = load_cluster_api(cluster_api)
    cluster_scopes = dict(cluster_api or {})
    if isinstance(cluster_namespaces, (str, Path)):
        cluster_namespaces = load_cluster_namespaces(cluster_namespaces)
    existing = frozenset(cluster_namespaces or ())

    acc = Accounting()
    col = Collector(root)
    status_doc = render_status_doc(root)
    argocd_namespace = argocd_namespace or _control_namespace(status_doc) or CONTROL_NAMESPACE
    app_records = _read_apps(root, col, acc, argocd_namespace)
    status = status_doc.get("apps", {})
    apps_by_name = {r.row["app"]: r.row for r in app_records}

    # rendered/<instance>.yaml belongs to the app of that instance name; <namespace>_<name>
    # is read too, so a dataset rendered under another --argocd-namespace still matches
    names = [r.row["name"] for r in app_records]
    by_instance = {r.row["name"]: r.row["app"] for r in app_records
                   if names.count(r.row["name"]) == 1}  # a bare name only when unambiguous
    by_instance.update({f"{r.row['app_namespace']}_{r.row['name']}": r.row["app"]
                        for r in app_records})
    by_instance.update({r.row["instance"]: r.row["app"] for r in app_records})
    files = [(by_instance.get(stem, stem), path, problem)
             for stem, path, problem in rendered_files(root)]
    known_apps = frozenset(apps_by_name)
    rows: dict[str, list] = {}  # one list per column (see rendered.columns)
    crds: list[dict] = []
    webhooks: list[dict] = []
    rendered_apps: set[str] = set()
    results = read_rendered(root, files, known_apps)
    for result in results:
        acc.files += 1
        acc.documents += result["documents"]
        extend_columns(rows, result["rows"])
        crds += result["crds"]
        webhooks += result["webhooks"]
        col.load_errors += result["load_errors"]
        col.warnings += result["warnings"]
        if result["known"]:
            rendered_apps.add(result["app"])
    resolve_sources(rows, apps_by_name)

    # pandas is imported only now: the reading above runs in workers forked before it
    from gitops_analysis.load import frames

    appsets = status_doc.get("appsets")
    apps_frame, sources_frame = frames.apps_frames(app_records, rendered_apps, status,
                                                   rows.get("app", []),
                                                   appsets if isinstance(appsets, dict) else {})
    # no rendered file read: missing, but also failed, remote, unsupported... with nothing
    acc.apps_without_render = sum(1 for r in app_records if r.row["app"] not in rendered_apps)
    crd_frame = frames.crds_frame(crds, apps_by_name)
    webhook_frame = frames.webhooks_frame(webhooks, apps_by_name)
    resources = frames.resources_frame(rows, apps_frame, crd_frame, cluster_scopes)
    load_errors = frames.rows_frame(col.load_errors, "load_errors")
    warnings = frames.rows_frame(col.warnings, "warnings")
    acc.resources = len(resources)
    acc.load_errors = int((load_errors["part"] == "rendered").sum())
    live = None
    if (root / "live").is_dir():  # an Argo CD export kept by import-live
        from gitops_analysis.load.live_export import load_live_dir

        live = load_live_dir(root)
    return Dataset(name=root.resolve().name, apps=apps_frame, sources=sources_frame,
                   argocd_namespace=argocd_namespace,
                   resources=resources, crds=crd_frame, webhooks=webhook_frame,
                   load_errors=load_errors,
                   warnings=warnings, accounting=acc, root=root, cluster_scopes=cluster_scopes,
                   live=live, cluster_namespaces=existing,
                   render_gaps=_render_gaps(status_doc),
                   repository_projects=_repository_projects(status_doc))
