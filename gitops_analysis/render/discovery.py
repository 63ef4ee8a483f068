"""The Applications to render: from the files of ``--apps``, from REPO, from rendered output.

Every file is read through the one hardened YAML reader (:mod:`~gitops_analysis.render.reading`),
with its limits and its per-document errors. The files given with ``--apps`` are strict: a
document that cannot be read, or an Application without a valid name, is an input error
(``file:line: what is wrong: what to do``) before anything is written; in a folder given with
``--apps``, the files of a Helm chart (under a folder with ``Chart.yaml``) are not read, and any
other file that does not parse is skipped with a warning. The files found under
REPO are not: what cannot be read is skipped (a Helm template, a broken file that is no
Application), and an Application without a valid name is skipped with a warning.

An Application that is its file's only document is copied to ``DATASET/apps/`` byte for byte;
one that shares its file with other documents is written out on its own (as YAML, from the
data read).

ApplicationSets are read wherever Applications are (files, rendered output) by
:func:`read_inputs` and :func:`read_rendered_inputs`; :func:`generated_inputs` turns an
ApplicationSet's expansion (:mod:`gitops_analysis.render.appsets`) into the Applications it
generates, written out as YAML. :func:`read_apps` and :func:`read_rendered` give the
Applications only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gitops_analysis.core.errors import InputError
from gitops_analysis.core.names import APP_NAME_RULE, valid_app_name
from gitops_analysis.core.paths import inside
from gitops_analysis.load.applications import CONTROL_NAMESPACE, app_key, instance_name
from gitops_analysis.load.manifests import without_origin
from gitops_analysis.load.yaml_reader import YAML_SUFFIXES, RawDocument, Remark
from gitops_analysis.render.reading import mapping, read_yaml

MAX_APP_FILE_BYTES = 16 << 20
Warn = Callable[[str], None]


@dataclass
class AppInput:
    """One Application to render, known as ``key`` (``<namespace>/<name>``)."""

    name: str  # metadata.name
    data: dict[str, Any]
    content: bytes  # what DATASET/apps/<instance>.yaml holds
    where: str  # file:line, or "rendered by <parent> (rendered/<parent>.yaml:line)"
    parent: str = ""  # the app whose output held it (app-of-apps)
    namespace: str = CONTROL_NAMESPACE  # where the Application object lives
    control_namespace: str = CONTROL_NAMESPACE
    appset: str = ""  # <namespace>/<name> of the ApplicationSet that generated it
    appset_params: dict[str, Any] | None = None  # the generator's parameter set
    rollout_step: int = 0  # its RollingSync step, 1-based; 0: none

    @property
    def key(self) -> str:
        return app_key(self.namespace, self.name)

    @property
    def instance(self) -> str:
        """Argo CD's instance name: the file stem in the dataset."""
        return instance_name(self.namespace, self.name, self.control_namespace)


@dataclass
class AppSetDoc:
    """One ApplicationSet found in a file or in an app's rendered output."""

    name: str
    data: dict[str, Any]  # metadata.namespace filled in
    where: str  # file:line, or "rendered by <parent> (rendered/<parent>.yaml:line)"
    file: str  # the file (display path), or rendered/<parent>.yaml
    line: int
    parent: str = ""  # the app whose output held it
    namespace: str = CONTROL_NAMESPACE

    @property
    def key(self) -> str:
        return app_key(self.namespace, self.name)


def _namespace_of(data: dict[str, Any], default: str) -> str:
    ns = mapping(data.get("metadata")).get("namespace")
    return ns if isinstance(ns, str) and ns else default


def sources_of(data: dict[str, Any]) -> list[Any]:
    """``spec.sources`` when it has any, else ``[spec.source]``; [] when there is none."""
    spec = mapping(data.get("spec"))
    if isinstance(spec.get("sources"), list) and spec["sources"]:
        return list(spec["sources"])
    return [spec["source"]] if spec.get("source") is not None else []


def is_argo_kind(data: Any, kind: str = "Application") -> bool:
    return isinstance(data, dict) and data.get("kind") == kind and \
        isinstance(data.get("apiVersion"), str) and data["apiVersion"].startswith("argoproj.io/")


def _document_text(data: dict[str, Any]) -> bytes | None:
    """One Application written out on its own; None when it nests too deep to write."""
    try:
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode("utf-8")
    except RecursionError:
        return None


def _applications(docs: list[RawDocument], display: str, *, strict: bool,
                  warn: Warn, kind: str = "Application",
                  lenient_yaml: bool = False) -> list[tuple[RawDocument, str]]:
    """(document, name) of every Application (or ``kind``) among the documents of one file;
    ``lenient_yaml``: a document that does not parse is a warning, not an error."""
    found = []
    for doc in docs:
        if doc.error is not None:
            if strict and kind == "Application":
                if not lenient_yaml:
                    raise doc.error.input_error()
                warn(_skipped(doc.error))
            continue
        if not is_argo_kind(doc.data, kind):
            continue
        name = mapping(doc.data.get("metadata")).get("name")
        if not valid_app_name(name):
            what = f"{kind} without a valid metadata.name ({APP_NAME_RULE})"
            if strict:
                raise InputError(what, file=display, line=doc.line, todo="give it a valid name")
            warn(f"{display}:{doc.line}: {what}: skipped; give it a valid name")
            continue
        found.append((doc, str(name)))
    return found


def _skipped(problem: Remark) -> str:
    where = f"{problem.file}:{problem.line}" if problem.line > 0 else problem.file
    return (f"{where}: {problem.what}: skipped (a file of a folder given to --apps that does "
            "not parse); pass the file itself to --apps to stop on it")


def _in_chart(path: Path, top: Path) -> bool:
    """Whether a folder between ``path`` and ``top`` (both included) holds a Chart.yaml: the
    file is part of a Helm chart (templates, values), never an Application Argo CD reads."""
    folder = path.parent
    while True:
        if (folder / "Chart.yaml").is_file():
            return True
        if folder == top or folder == folder.parent:
            return False
        folder = folder.parent


def app_projects(docs: list[RawDocument], display: str) -> list[dict[str, Any]]:
    """``{"name", "namespace", "file", "line"}`` of the AppProject documents of one file (a
    kustomize patch of one too: it names the project)."""
    found = []
    for doc in docs:
        if doc.error is None and is_argo_kind(doc.data, "AppProject"):
            meta = mapping(doc.data.get("metadata"))
            if isinstance(meta.get("name"), str) and meta["name"]:
                ns = meta.get("namespace")
                found.append({"name": meta["name"], "namespace": ns if isinstance(ns, str) else "",
                              "file": display, "line": doc.line})
    return found


def _read_app_file(path: Path, display: str, *, strict: bool, warn: Warn,
                   control_namespace: str, lenient_yaml: bool = False,
                   projects: list[dict[str, Any]] | None = None
                   ) -> tuple[list[AppInput], list[AppSetDoc]]:
    if not path.is_file():  # a named pipe must not block, a folder is no file
        if strict:
            raise InputError("not a regular file", file=display,
                             todo="pass Application files or folders to --apps")
        return [], []
    try:
        if path.stat().st_size > MAX_APP_FILE_BYTES:
            if strict:
                raise InputError("larger than 16 MiB", file=display,
                                 todo="split the file or leave it out of --apps")
            return [], []
        raw = path.read_bytes()
    except OSError as exc:
        if strict:
            raise InputError(f"cannot be read ({exc.strerror})", file=display,
                             todo="check the path") from None
        return [], []
    wanted_projects = projects is not None and b"AppProject" in raw
    if not strict and b"Application" not in raw and not wanted_projects:
        return [], []  # most YAML files of a repository: not read any further
    docs, problem = read_yaml(path, display)
    if problem is not None:
        if strict and not lenient_yaml:
            raise problem.input_error()
        if strict:
            warn(_skipped(problem))
        return [], []
    if projects is not None and wanted_projects:
        projects += app_projects(docs, display)
    appsets = [_appset_doc(doc, name, display, control_namespace, "") for doc, name in
               _applications(docs, display, strict=strict, warn=warn, kind="ApplicationSet")]
    apps = _applications(docs, display, strict=strict, warn=warn, lenient_yaml=lenient_yaml)
    sole = len(apps) == 1 and sum(d.error is not None or d.data is not None for d in docs) == 1
    out = []
    for doc, name in apps:
        content = raw if sole else _document_text(doc.data)
        if content is None:
            what = "Application nested too deep to be written out on its own"
            if strict:
                raise InputError(what, file=display, line=doc.line,
                                 todo="give it a file of its own")
            warn(f"{display}:{doc.line}: {what}: skipped; give it a file of its own")
            continue
        out.append(AppInput(name, doc.data, content, f"{display}:{doc.line}",
                            namespace=_namespace_of(doc.data, control_namespace),
                            control_namespace=control_namespace))
    return out, appsets


def _appset_doc(doc: RawDocument, name: str, display: str, default_namespace: str,
                parent: str) -> AppSetDoc:
    namespace = _namespace_of(doc.data, default_namespace)
    data = {**doc.data, "metadata": {**mapping(doc.data.get("metadata")),
                                     "namespace": namespace}}
    where = f"rendered by {parent} ({display}:{doc.line})" if parent else \
        f"{display}:{doc.line}"
    return AppSetDoc(name, data, where, display, doc.line, parent, namespace)


def yaml_files_under(folder: Path, root_real: str | None = None) -> list[Path]:
    """*.yaml/*.yml under ``folder``, sorted; folder links are not followed, .git is skipped;
    with ``root_real``, file links that leave it are left out."""
    out = []
    for d, dirs, files in os.walk(folder):
        dirs[:] = sorted(x for x in dirs if x != ".git" and not os.path.islink(os.path.join(d, x)))
        for f in sorted(files):
            if not f.endswith(YAML_SUFFIXES):
                continue
            p = Path(d) / f
            if root_real and p.is_symlink() and not inside(os.path.realpath(p), root_real):
                continue
            out.append(p)
    return sorted(out, key=lambda p: p.as_posix())


def read_inputs(repo: Path, apps_paths: Sequence[str | Path] | None, warn: Warn,
                control_namespace: str = CONTROL_NAMESPACE,
                losers: list[AppInput] | None = None,
                set_losers: list[AppSetDoc] | None = None,
                projects: list[dict[str, Any]] | None = None
                ) -> tuple[list[AppInput], list[AppSetDoc]]:
    """The Applications and ApplicationSets of ``apps_paths`` (files or folders), else of every
    YAML file under ``repo``; each sorted by ``<namespace>/<name>``, each once (a second one is
    skipped with a warning, or put in ``losers`` / ``set_losers``). One without a namespace lives in
    ``control_namespace``. Without ``apps_paths``, ``projects`` (when given) collects the
    AppProjects the same walk finds (:func:`app_projects`)."""
    found: list[AppInput] = []
    found_sets: list[AppSetDoc] = []
    if apps_paths:
        for given in apps_paths:
            p = Path(given)
            if not p.exists() and not p.is_absolute() and (repo / p).exists():
                p = repo / p
            if not p.exists():
                raise InputError("no such file or folder", file=str(given),
                                 todo="pass Application files or folders to --apps")
            in_folder = p.is_dir()
            for f in yaml_files_under(p) if in_folder else [p]:
                if in_folder and _in_chart(f, p):
                    continue  # a chart's templates are no YAML until Helm renders them
                # a file named is strict; one found in a folder that does not parse is
                # skipped with a warning, as files found under REPO are
                apps, sets = _read_app_file(f, str(f), strict=True, warn=warn,
                                            control_namespace=control_namespace,
                                            lenient_yaml=in_folder)
                found += apps
                found_sets += sets
        if not found and not found_sets:
            raise InputError("no argoproj.io Application or ApplicationSet in these files",
                             file=" ".join(map(str, apps_paths)),
                             todo="pass the files or folders that hold the Applications")
    else:
        root_real = os.path.realpath(repo)
        for f in yaml_files_under(repo, root_real):
            apps, sets = _read_app_file(f, f.relative_to(repo).as_posix(), strict=False,
                                        warn=warn, control_namespace=control_namespace,
                                        projects=projects)
            found += apps
            found_sets += sets
        if not found and not found_sets:
            raise InputError("no argoproj.io Application or ApplicationSet found under the "
                             "repository", file=str(repo),
                             todo="pass --apps PATH with the Application files")
    return unique_inputs(found, "Application", warn, losers), \
        unique_inputs(found_sets, "ApplicationSet", warn, set_losers)


def unique_inputs(found: Sequence[Any], kind: str, warn: Warn,
                  losers: list[Any] | None = None) -> list[Any]:
    """Each key once, sorted; a second one is skipped with a warning, or (when which copy ends
    in the dataset is decided later: render from the roots) put in ``losers``."""
    seen: dict[str, Any] = {}
    for a in found:
        if a.key in seen:
            if losers is not None:
                losers.append(a)
                continue
            first = seen[a.key]
            held = first.where if first.where.startswith(("generated by", "rendered by")) \
                else f"at {first.where}"
            warn(f"{a.where}: {kind} {a.key}: skipped, a second one: the dataset holds the copy "
                 f"{held}; give each one of a namespace its own name")
            continue
        seen[a.key] = a
    return [seen[k] for k in sorted(seen)]


def read_apps(repo: Path, apps_paths: Sequence[str | Path] | None, warn: Warn,
              control_namespace: str = CONTROL_NAMESPACE) -> list[AppInput]:
    """The Applications of :func:`read_inputs` (ApplicationSets left aside)."""
    apps, _ = read_inputs(repo, apps_paths, warn, control_namespace)
    if not apps:
        where = " ".join(map(str, apps_paths)) if apps_paths else str(repo)
        raise InputError("no argoproj.io Application in these files", file=where,
                         todo="pass the files or folders that hold the Applications")
    return apps


def generated_inputs(doc: AppSetDoc, apps: Sequence[Any], control_namespace: str,
                     warn: Warn) -> list[AppInput]:
    """The Applications an ApplicationSet generates (:class:`~.appsets.GeneratedApp`), as
    inputs: written out as YAML, known by the ApplicationSet and their parameters."""
    out = []
    for app in apps:
        content = _document_text(app.manifest)
        if content is None:
            warn(f"{doc.where}: Application {app.name} generated by ApplicationSet {doc.key} "
                 "nests too deep to be written out: skipped")
            continue
        out.append(AppInput(app.name, app.manifest, content,
                            f"generated by ApplicationSet {doc.key} ({doc.where})",
                            doc.parent, namespace=app.namespace,
                            control_namespace=control_namespace, appset=doc.key,
                            appset_params=app.params,
                            rollout_step=0 if app.rolling_step is None else app.rolling_step + 1))
    return out


def _with_namespace(data: dict[str, Any], namespace: str) -> dict[str, Any]:
    meta = mapping(data.get("metadata"))
    if meta.get("namespace") == namespace:
        return data
    return {**data, "metadata": {**meta, "namespace": namespace}}


def read_rendered_inputs(path: Path, parent: AppInput, origin_added: bool = False
                         ) -> tuple[int, list[AppInput], list[AppSetDoc]]:
    """The number of non-empty documents of an app's rendered output (``path``), and the
    Applications and ApplicationSets among them (app-of-apps); those that cannot be used are
    left out. A child without a namespace is applied into the parent's destination namespace
    (else Argo CD's). ``origin_added``: the origin annotations of the output were added by the
    render (left out of the children)."""
    display = f"rendered/{parent.instance}.yaml"
    dest = mapping(mapping(parent.data.get("spec")).get("destination")).get("namespace")
    default = dest if isinstance(dest, str) and dest else parent.control_namespace
    docs, _ = read_yaml(path, display)
    children = []
    quiet: Warn = lambda _m: None  # noqa: E731
    for doc, name in _applications(docs, display, strict=False, warn=quiet):
        namespace = _namespace_of(doc.data, default)
        # written with the namespace it gets when the parent applies it, so that the dataset
        # names it as Argo CD does whatever --argocd-namespace the loader is given
        data = _with_namespace(without_origin(doc.data) if origin_added else doc.data,
                               namespace)
        content = _document_text(data)
        if content is not None:
            children.append(AppInput(name, data, content,
                                     f"rendered by {parent.key} ({display}:{doc.line})",
                                     parent.key, namespace=namespace,
                                     control_namespace=parent.control_namespace))
    sets = [_appset_doc(doc, name, display, default, parent.key) for doc, name in
            _applications(docs, display, strict=False, warn=quiet, kind="ApplicationSet")]
    return len(docs), children, sets


def read_rendered(path: Path, parent: AppInput) -> tuple[int, list[AppInput]]:
    """:func:`read_rendered_inputs` without the ApplicationSets."""
    count, children, _ = read_rendered_inputs(path, parent)
    return count, children
