"""What one Application source needs before it is rendered, decided as Argo CD decides it.

Used by :mod:`gitops_analysis.render.run`; nothing here runs a renderer. For one source this module

- resolves its repository (``repoURL`` -> a local folder, or ``external``);
- merges ``.argocd-source.yaml`` / ``.argocd-source-<app>.yaml`` as Argo CD's repo server does;
- decides its type (``reposerver/repository/repository.go`` ``GetAppSourceType``: an explicit
  ``kustomize:``/``helm:``/``directory:``/``plugin:`` key, else the files directly in the path:
  a kustomization file -> kustomize, a file named ``*Chart.yaml`` -> helm, the later name in
  sorted order winning, else a plain directory);
- scans a kustomization tree for remote bases and paths that leave the repository *before* any
  renderer runs, and lists every file the render can read (the folders of every kustomization
  reached: with kustomize's default load restrictions a kustomization reads nothing outside its
  own folder, so these subtrees are all it can read);
- selects a plain directory's manifests as Argo CD's ``findManifests`` does (``*.yaml``,
  ``*.yml``, ``*.json``; ``*.jsonnet`` is not rendered here; ``recurse``; ``include``/``exclude``
  globs with Argo CD's glob flavour, where ``*`` also matches ``/``; the
  ``+argocd:skip-file-rendering`` marker).

Every path kept is relative to its repository root, with symbolic links resolved, so nothing
absolute leaks into outputs or cache keys.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_MANIFEST_FILE = re.compile(r"^.*\.(yaml|yml|json|jsonnet)$", re.S)
SKIP_MARKER = b"+argocd:skip-file-rendering"
_REMOTE_PREFIXES = ("http://", "https://", "git::", "ssh://", "oci://", "git@", "file://",
                    "github.com/", "gitlab.com/", "bitbucket.org/", "dev.azure.com/")
_HOST_PATH = re.compile(r"^[a-z0-9][a-z0-9.-]*\.[a-z]{2,}(:\d+)?/")
# spec.source.kustomize fields that Argo CD applies with `kustomize edit` before it builds
_KUSTOMIZE_OVERRIDES = ("namePrefix", "nameSuffix", "images", "replicas", "commonLabels",
                        "commonAnnotations", "namespace", "components", "patches")
_EXPLICIT = (("kustomize", "Kustomize"), ("helm", "Helm"), ("directory", "Directory"),
             ("plugin", "Plugin"))
SKIP_DIRS = (".git",)


class Refused(Exception):
    """A source that is not rendered: its render status and the message saying why."""

    def __init__(self, status: str, message: str, type_: str = "unknown") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_


@dataclass
class SourcePlan:
    """One source of one app, ready to render (``status == 'ok'``) or refused."""

    index: int
    label: str  # what the "# Source:" line names: the path, else the chart
    type: str = "unknown"  # one of schema.SOURCE_TYPES
    status: str = "ok"
    message: str = ""
    renderer: str = ""  # kustomize | helm | directory | '' (not rendered)
    skip: bool = False  # a values-only source of a multi-source app: nothing to render
    root: str = ""  # real path of the local repository the source comes from
    path: str = "."  # the app path, relative to root, symbolic links resolved
    # every file the render reads: relative path -> ("file", "") or ("link", relative target)
    files: dict[str, tuple[str, str]] = field(default_factory=dict)
    kustomization: str = ""  # the top kustomization file, relative to root
    needs_helm: bool = False  # a kustomization with helmCharts
    remote: list[str] = field(default_factory=list)  # remote references (fetched: not cached)
    helm: dict[str, Any] = field(default_factory=dict)  # helm template options (see _plan_helm)
    directory_files: list[str] = field(default_factory=list)  # manifests, in Argo CD's order


# --- repositories ---------------------------------------------------------------------------

def url_key(url: str) -> str:
    """A repository URL reduced to ``host/path`` so that https, ssh and scp forms compare equal.

    Argo CD's ``git.NormalizeGitURL`` lowercases and drops ``.git``; here the scheme, user and
    port go too, so a checkout cloned over ssh matches Applications that name its https URL.
    """
    u = url.strip()
    host, path = "", u
    if "://" in u:
        rest = u.split("://", 1)[1]
        authority, _, path = rest.partition("/")
        host = authority.rsplit("@", 1)[-1]
        if host.startswith("["):  # an IPv6 literal keeps its colons
            host = host.split("]", 1)[0] + "]"
        else:
            host = host.split(":", 1)[0]
    else:
        m = re.match(r"^(?:[^@/:]+@)?([^/:]+):(.*)$", u)  # scp form: git@host:org/repo
        if m:
            host, path = m.group(1), m.group(2)
    path = path.split("?", 1)[0].split("#", 1)[0].strip("/")
    if path.lower().endswith(".git"):
        path = path[:-4]
    return f"{host.lower()}/{path.lower()}".strip("/")


def git_origin(repo: Path) -> str | None:
    """``git remote get-url origin`` of a checkout, read from its config file (git is not run).

    Only ``REPO/.git`` counts (a folder, or a file ``gitdir: ...`` for worktrees and
    submodules): a folder that merely sits inside some other checkout is not that checkout.
    """
    dot_git = repo / ".git"
    config: Path | None = None
    if dot_git.is_dir():
        config = dot_git / "config"
    elif dot_git.is_file():
        try:
            first = dot_git.read_text(encoding="utf-8", errors="replace").splitlines()[0]
        except (OSError, IndexError):
            return None
        if first.startswith("gitdir:"):
            gitdir = Path(first[len("gitdir:"):].strip())
            gitdir = gitdir if gitdir.is_absolute() else repo / gitdir
            common = gitdir / "commondir"
            if common.is_file():
                try:
                    c = Path(common.read_text(encoding="utf-8").strip())
                except OSError:
                    c = Path(".")
                gitdir = c if c.is_absolute() else gitdir / c
            config = gitdir / "config"
    if config is None or not config.is_file():
        return None
    try:
        lines = config.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    section = None
    for raw in lines:
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        m = re.match(r'^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]', line)
        if m:
            section = (m.group(1).lower(), m.group(2))
            continue
        if section == ("remote", "origin"):
            key, sep, value = line.partition("=")
            if sep and key.strip().lower() == "url":
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1]
                return value
    return None


def inside(real_root: str, real_path: str) -> bool:
    return real_path == real_root or real_path.startswith(real_root.rstrip(os.sep) + os.sep)


def _rel(real_root: str, real_path: str) -> str:
    rel = os.path.relpath(real_path, real_root)
    return "." if rel == "." else rel.replace(os.sep, "/")


# --- source parameters and type ---------------------------------------------------------------

def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (what ``jsonpatch.MergePatch`` does in Argo CD)."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = _merge_patch(out.get(k), v)
    return out


def merge_source_parameters(source: dict, app_dir: str, app_name: str, real_root: str) -> dict:
    """Argo CD's ``mergeSourceParameters``: ``.argocd-source.yaml`` then ``-<app>.yaml``."""
    merged = dict(source)
    for name in (".argocd-source.yaml", f".argocd-source-{app_name}.yaml"):
        path = os.path.join(app_dir, name)
        if not os.path.isfile(path):
            continue
        if not inside(real_root, os.path.realpath(path)):
            raise Refused("escaped", f"{_rel(real_root, os.path.abspath(path))}: symbolic link "
                          "that leaves the repository: refused; copy the file into it")
        try:
            with open(path, encoding="utf-8") as fh:
                patch = yaml.load(fh, Loader=_Loader)
        except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
            raise Refused("failed", f"{_rel(real_root, path)}: cannot be read "
                          f"({_one_line(str(exc))}): fix the file") from None
        if patch is None:
            continue
        merged = _merge_patch(merged, patch)
    for key in ("chart", "path", "repoURL", "targetRevision"):
        if key in source:
            merged[key] = source[key]
        else:
            merged.pop(key, None)
    return merged


def explicit_type(source: dict) -> str | None:
    """``ApplicationSource.ExplicitType()``; several -> Refused like Argo CD's error."""
    found = [(t, go) for t, go in _EXPLICIT if source.get(t) is not None]
    if len(found) > 1:
        raise Refused("failed", "multiple application sources defined: " +
                      ",".join(go for _, go in found) + ": keep one of " +
                      "/".join(t + ":" for t, _ in found), "unknown")
    return found[0][0] if found else None


def discovered_type(app_dir: str) -> str:
    """``discovery.AppType``: the files directly in the app path (sorted; the last match wins)."""
    kind = "directory"
    try:
        names = sorted(os.listdir(app_dir))
    except OSError:
        return kind
    for name in names:
        if os.path.isdir(os.path.join(app_dir, name)) and \
                not os.path.islink(os.path.join(app_dir, name)):
            continue
        if name.endswith("Chart.yaml"):
            kind = "helm"
        if name in KUSTOMIZATION_FILES:
            kind = "kustomize"
    return kind


# --- remote references and paths ---------------------------------------------------------------

def looks_remote(entry: str, base_dir: str) -> bool:
    """Whether kustomize would fetch ``entry`` (a URL, a remote repository), not read a file."""
    s = entry.strip()
    low = s.lower()
    if low.startswith(_REMOTE_PREFIXES):
        return True
    if os.path.lexists(os.path.join(base_dir, s)):
        return False
    return "?ref=" in s or "//" in s.lstrip("/") or bool(_HOST_PATH.match(low))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return 0


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _kustomization_entries(data: dict) -> list[tuple[str, str, bool]]:
    """(field, entry, may be a kustomization folder) of every path a kustomization names."""
    out: list[tuple[str, str, bool]] = []
    for f in ("resources", "bases", "components", "generators", "transformers", "validators"):
        out += [(f, e, True) for e in _strings(data.get(f))]
    for f in ("crds", "configurations", "patchesStrategicMerge"):
        out += [(f, e, False) for e in _strings(data.get(f))]
    for f in ("patches", "patchesJson6902", "replacements"):
        items = data.get(f)
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                out.append((f, item["path"], False))
    openapi = data.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        out.append(("openapi", openapi["path"], False))
    for f in ("configMapGenerator", "secretGenerator"):
        items = data.get(f)
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            for e in _strings(item.get("files")):
                out.append((f, e.split("=", 1)[-1], False))
            for e in _strings(item.get("envs")) + _strings(item.get("env")):
                out.append((f, e, False))
    charts = data.get("helmCharts")
    for item in charts if isinstance(charts, list) else []:
        if isinstance(item, dict):
            for e in _strings(item.get("valuesFile")) + _strings(item.get("additionalValuesFiles")):
                out.append(("helmCharts", e, False))
    # an inline patch or generator config is not a path
    return [(f, e, d) for f, e, d in out if e.strip() and "\n" not in e]


def read_kustomization(path: str) -> tuple[str, dict] | None:
    """(text, mapping) of a kustomization file; None when it cannot be read as one (the
    renderer then says what is wrong with it)."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        data = yaml.load(text, Loader=_Loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return (text, data) if isinstance(data, dict) else None


def kustomization_file(directory: str) -> str | None:
    for name in KUSTOMIZATION_FILES:
        p = os.path.join(directory, name)
        if os.path.isfile(p):
            return p
    return None


def scan_kustomization(real_root: str, app_dir: str,
                       allow_remote: bool) -> tuple[list[str], list[str], bool]:
    """Every kustomization folder reached from ``app_dir``, the remote references, helmCharts.

    Raises Refused ``escaped`` for a path that leaves the repository, and ``remote`` for a
    remote reference when ``allow_remote`` is false, before any renderer runs.
    """
    folders: list[str] = []
    remote: list[str] = []
    needs_helm = False
    seen: set[str] = set()
    stack = [app_dir]
    while stack:
        folder = stack.pop()
        if folder in seen:
            continue
        seen.add(folder)
        folders.append(folder)
        kfile = kustomization_file(folder)
        if kfile is None:
            continue
        read = read_kustomization(kfile)
        if read is None:
            continue
        text, data = read
        where_file = _rel(real_root, kfile)
        for f, entry, may_be_folder in _kustomization_entries(data):
            line = _line_of(text, entry)
            where = f"{where_file}:{line}" if line else where_file
            if looks_remote(entry, folder):
                if not allow_remote:
                    raise Refused("remote", f"{where}: remote {f} entry {entry}: not fetched "
                                  "(offline): pass --allow-remote to fetch it", "kustomize")
                remote.append(entry)
                continue
            target = os.path.normpath(os.path.join(folder, entry.strip()))
            if not inside(real_root, target):
                raise Refused("escaped", f"{where}: {f} entry {entry} leaves the repository: "
                              "refused; keep every path inside the repository", "kustomize")
            real = os.path.realpath(target)
            if not inside(real_root, real):
                raise Refused("escaped", f"{where}: {f} entry {entry} is a symbolic link that "
                              "leaves the repository: refused; copy its target into the "
                              "repository", "kustomize")
            if may_be_folder and os.path.isdir(real):
                stack.append(real)
        charts = data.get("helmCharts")
        if isinstance(charts, list) and charts:
            needs_helm = True
            globals_ = data.get("helmGlobals") if isinstance(data.get("helmGlobals"), dict) else {}
            home = globals_.get("chartHome") if isinstance(globals_.get("chartHome"), str) \
                else "charts"
            for chart in charts:
                if not isinstance(chart, dict):
                    continue
                name, repo = str(chart.get("name") or ""), str(chart.get("repo") or "")
                version = str(chart.get("version") or "")
                local = os.path.isdir(os.path.join(folder, home, name)) or \
                    os.path.isdir(os.path.join(folder, home, f"{name}-{version}", name))
                if repo and not local:
                    line = _line_of(text, repo)
                    where = f"{where_file}:{line}" if line else where_file
                    if not allow_remote:
                        raise Refused("remote", f"{where}: helm chart {name} from {repo}: not "
                                      "fetched (offline): pass --allow-remote to fetch it",
                                      "kustomize")
                    remote.append(repo)
    return folders, remote, needs_helm


def collect_files(real_root: str, folders: list[str],
                  extra_files: list[str] = ()) -> dict[str, tuple[str, str]]:
    """Every file under ``folders`` (and ``extra_files``), relative to ``real_root``.

    Symbolic links are kept as links (their target relative to the link) and their targets are
    collected too; one that leaves the repository raises Refused ``escaped``. ``.git`` is skipped.
    """
    files: dict[str, tuple[str, str]] = {}
    seen: set[str] = set()
    pending = sorted(set(folders), reverse=True)
    for f in extra_files:
        _add_file(real_root, f, files, pending)

    while pending:
        folder = pending.pop()
        if folder in seen:
            continue
        seen.add(folder)
        stack = [folder]
        while stack:
            d = stack.pop()
            try:
                with os.scandir(d) as it:
                    entries = sorted(it, key=lambda e: e.name, reverse=True)
            except OSError:
                continue
            for e in entries:
                if e.name in SKIP_DIRS:
                    continue
                p = os.path.join(d, e.name)
                if e.is_symlink():
                    _add_link(real_root, p, files, pending)
                elif e.is_dir():
                    if p not in seen:
                        seen.add(p)
                        stack.append(p)
                elif e.is_file():
                    files[_rel(real_root, p)] = ("file", "")
    return files


def _add_file(real_root: str, path: str, files: dict, pending: list) -> None:
    if os.path.islink(path):
        _add_link(real_root, path, files, pending)
    elif os.path.isfile(path):
        files[_rel(real_root, path)] = ("file", "")
    elif os.path.isdir(path):
        pending.append(path)


def _add_link(real_root: str, path: str, files: dict, pending: list) -> None:
    target = os.path.realpath(path)
    rel = _rel(real_root, path)
    if not inside(real_root, target):
        raise Refused("escaped", f"{rel}: symbolic link that leaves the repository: refused; "
                      "copy its target into the repository")
    files[rel] = ("link", os.path.relpath(target, os.path.dirname(path)).replace(os.sep, "/"))
    if os.path.isdir(target):
        pending.append(target)
    elif os.path.isfile(target):
        files.setdefault(_rel(real_root, target), ("file", ""))


# --- Argo CD's glob (util/glob: gobwas/glob without separators) -------------------------------

def glob_regex(pattern: str) -> re.Pattern | None:
    """gobwas/glob as Argo CD compiles it (no separators: ``*`` matches ``/``); None: invalid."""
    out: list[str] = []
    depth = 0
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                return None
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "*":
            while i < n and pattern[i] == "*":
                i += 1
            out.append(".*")
            continue
        if c == "?":
            out.append(".")
        elif c == "[":
            j = pattern.find("]", i + 2 if pattern[i + 1:i + 2] in ("!", "^") else i + 1)
            if j < 0:
                return None
            body = pattern[i + 1:j]
            neg = body[:1] in ("!", "^")
            if neg:
                body = body[1:]
            parts = []
            k = 0
            while k < len(body):
                if k + 2 < len(body) and body[k + 1] == "-":
                    parts.append(re.escape(body[k]) + "-" + re.escape(body[k + 2]))
                    k += 3
                else:
                    parts.append(re.escape(body[k]))
                    k += 1
            out.append(("[^" if neg else "[") + "".join(parts) + "]")
            i = j
        elif c == "{":
            out.append("(?:")
            depth += 1
        elif c == "}" and depth:
            out.append(")")
            depth -= 1
        elif c == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(c))
        i += 1
    if depth:
        return None
    try:
        return re.compile("".join(out) + r"\Z", re.S)
    except re.error:
        return None


def glob_match(pattern: str, text: str) -> bool:
    rx = glob_regex(pattern)
    return bool(rx and rx.match(text))


# --- the three renderable types ---------------------------------------------------------------

def plan_directory(plan: SourcePlan, real_root: str, app_dir: str, directory: dict) -> None:
    """Argo CD's ``getPotentiallyValidManifests``: which files, in which order (filepath.Walk)."""
    recurse = directory.get("recurse") is True
    include = directory.get("include") if isinstance(directory.get("include"), str) else ""
    exclude = directory.get("exclude") if isinstance(directory.get("exclude"), str) else ""
    chosen: list[str] = []
    jsonnet: list[str] = []

    def walk(d: str) -> None:
        try:
            names = sorted(os.listdir(d))
        except OSError:
            return
        for name in names:
            p = os.path.join(d, name)
            is_link = os.path.islink(p)
            if not is_link and os.path.isdir(p):
                if recurse and name not in SKIP_DIRS:
                    walk(p)
                continue
            if not _MANIFEST_FILE.match(name):
                continue
            rel_app = os.path.relpath(p, app_dir).replace(os.sep, "/")
            real = p
            if is_link:
                real = os.path.realpath(p)
                if not os.path.exists(real):
                    continue  # Argo CD skips a dangling link with a warning
                if not inside(real_root, real):
                    raise Refused("escaped", f"{_rel(real_root, p)}: symbolic link that leaves "
                                  "the repository (Argo CD: illegal filepath in symlink): "
                                  "refused; copy its target into the repository", "directory")
            if not os.path.isfile(real):
                continue
            if exclude and glob_match(exclude, rel_app):
                continue
            if include and not glob_match(include, rel_app):
                continue
            try:
                with open(real, "rb") as fh:
                    data = fh.read()
            except OSError as exc:
                raise Refused("failed", f"{_rel(real_root, p)}: cannot be read "
                              f"({exc.strerror}): check the file", "directory") from None
            if SKIP_MARKER in data:
                continue
            if name.endswith(".jsonnet"):
                jsonnet.append(_rel(real_root, p))
            chosen.append(_rel(real_root, p))

    walk(app_dir)
    if jsonnet:
        raise Refused("unsupported", f"jsonnet files ({', '.join(jsonnet)}) are not rendered "
                      "by gitops-analysis (no jsonnet renderer): render them with Argo CD "
                      "(argocd app manifests) and commit the output as a plain directory",
                      "directory")
    plan.type, plan.renderer = "directory", "directory"
    plan.directory_files = chosen


def plan_kustomize(plan: SourcePlan, real_root: str, app_dir: str, source: dict,
                   allow_remote: bool) -> None:
    options = source.get("kustomize") if isinstance(source.get("kustomize"), dict) else {}
    applied = [k for k in _KUSTOMIZE_OVERRIDES if options.get(k)]
    if applied:
        raise Refused("unsupported", "spec.source.kustomize." + ", ".join(applied) + " (Argo CD "
                      "applies it with `kustomize edit`) is not applied by gitops-analysis "
                      "render: move it into the kustomization", "kustomize")
    folders, remote, needs_helm = scan_kustomization(real_root, app_dir, allow_remote)
    plan.type, plan.renderer = "kustomize", "kustomize"
    kfile = kustomization_file(app_dir)
    plan.kustomization = _rel(real_root, kfile) if kfile else ""
    plan.files = collect_files(real_root, folders)
    plan.remote = remote
    plan.needs_helm = needs_helm


def _resolve_value_file(real_root: str, app_dir: str, value: str) -> str:
    """pathutil.ResolveValueFilePathOrUrl: relative to the app path; '/x': to the root."""
    if value.startswith("/"):
        return os.path.normpath(os.path.join(real_root, value.lstrip("/")))
    return os.path.normpath(os.path.join(app_dir, value))


def plan_helm(plan: SourcePlan, real_root: str, app_dir: str, source: dict, app_name: str,
              dest_namespace: str, ref_roots: dict[str, str | None], allow_remote: bool) -> None:
    """The options of ``helm template`` as Argo CD's ``helmTemplate`` builds them."""
    helm = source.get("helm") if isinstance(source.get("helm"), dict) else {}
    plan.type, plan.renderer = "helm", "helm"
    extra: list[str] = []
    remote: list[str] = []
    value_files: list[str] = []  # relative to root, or a URL (only with --allow-remote)
    for vf in _strings(helm.get("valueFiles")):
        if vf.startswith("$"):
            ref = vf.split("/", 1)[0][1:]
            if ref not in ref_roots:
                raise Refused("failed", f"helm.valueFiles {vf}: no source with ref: {ref}: add "
                              "it to spec.sources", "helm")
            other = ref_roots[ref]
            if other is None:
                raise Refused("external", f"helm.valueFiles {vf}: the ref source {ref} is not a "
                              "local repository: pass --repo-map URL=DIR to render it", "helm")
            if other != real_root:
                raise Refused("unsupported", f"helm.valueFiles {vf}: values from another "
                              "repository are not rendered: keep the values in the chart's "
                              "repository", "helm")
            target = os.path.normpath(os.path.join(real_root, vf.split("/", 1)[1]
                                                   if "/" in vf else "."))
        elif vf.lower().startswith(("http://", "https://")):
            if not allow_remote:
                raise Refused("remote", f"helm.valueFiles {vf}: not fetched (offline): pass "
                              "--allow-remote to fetch it", "helm")
            remote.append(vf)
            value_files.append(vf)
            continue
        else:
            target = _resolve_value_file(real_root, app_dir, vf)
        if not inside(real_root, target) or not inside(real_root, os.path.realpath(target)):
            raise Refused("escaped", f"helm.valueFiles {vf} leaves the repository: refused; "
                          "keep the values file inside the repository", "helm")
        if not os.path.exists(target) and helm.get("ignoreMissingValueFiles") is True:
            continue
        value_files.append(_rel(real_root, target))
        extra.append(target)
    set_files: list[tuple[str, str]] = []
    for p in helm.get("fileParameters") if isinstance(helm.get("fileParameters"), list) else []:
        if not isinstance(p, dict) or not isinstance(p.get("path"), str):
            continue
        target = _resolve_value_file(real_root, app_dir, p["path"])
        if not inside(real_root, target) or not inside(real_root, os.path.realpath(target)):
            raise Refused("escaped", f"helm.fileParameters {p['path']} leaves the repository: "
                          "refused; keep the file inside the repository", "helm")
        set_files.append((str(p.get("name", "")), _rel(real_root, target)))
        extra.append(target)

    folders = [app_dir]
    chart_file = os.path.join(app_dir, "Chart.yaml")
    deps = []
    try:
        with open(chart_file, encoding="utf-8") as fh:
            chart = yaml.load(fh, Loader=_Loader)
        deps = chart.get("dependencies") if isinstance(chart, dict) else []
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        pass
    charts_dir = os.path.join(app_dir, "charts")
    present = os.listdir(charts_dir) if os.path.isdir(charts_dir) else []
    for dep in deps if isinstance(deps, list) else []:
        if not isinstance(dep, dict):
            continue
        name, repo = str(dep.get("name") or ""), str(dep.get("repository") or "")
        if repo.startswith("file://"):
            target = os.path.normpath(os.path.join(app_dir, repo[len("file://"):]))
            if not inside(real_root, target) or not inside(real_root, os.path.realpath(target)):
                raise Refused("escaped", f"{_rel(real_root, chart_file)}: dependency {name} "
                              f"({repo}) leaves the repository: refused; keep it inside", "helm")
            folders.append(os.path.realpath(target))
        elif repo and not any(p == name or (p.startswith(name + "-") and p.endswith(".tgz"))
                              for p in present):
            if not allow_remote:
                raise Refused("remote", f"{_rel(real_root, chart_file)}: dependency {name} from "
                              f"{repo} is not in charts/: not fetched (offline): pass "
                              "--allow-remote to fetch it", "helm")
            remote.append(repo)
    plan.files = collect_files(real_root, folders, extra)
    plan.remote = remote

    values_text = ""
    if isinstance(helm.get("valuesObject"), (dict, list)):
        values_text = json.dumps(helm["valuesObject"], sort_keys=True, ensure_ascii=False) + "\n"
    elif isinstance(helm.get("values"), str) and helm["values"].strip():
        values_text = helm["values"]
    params = helm.get("parameters") if isinstance(helm.get("parameters"), list) else []
    sets: dict[str, str] = {}
    set_strings: dict[str, str] = {}
    for p in params:
        if isinstance(p, dict) and isinstance(p.get("name"), str):
            (set_strings if p.get("forceString") is True else sets)[p["name"]] = \
                "" if p.get("value") is None else str(p.get("value"))
    plan.helm = {
        "release": str(helm.get("releaseName") or app_name),
        "namespace": str(helm.get("namespace") or dest_namespace or ""),
        "value_files": value_files,
        "values": values_text,
        "set": sorted(sets.items()),
        "set_string": sorted(set_strings.items()),
        "set_file": sorted(set_files),
        "include_crds": helm.get("skipCrds") is not True,
        "skip_tests": helm.get("skipTests") is True,
        "skip_schema_validation": helm.get("skipSchemaValidation") is True,
    }


def plan_source(source: Any, index: int, *, app_name: str, dest_namespace: str,
                roots: dict[str, str], ref_sources: dict[str, str | None],
                allow_remote: bool) -> SourcePlan:
    """Decide everything about one source; never raises (a refusal becomes the plan's status)."""
    if not isinstance(source, dict):
        return SourcePlan(index, "", status="failed",
                          message=f"spec.sources[{index}] is not a mapping: fix the Application")
    path = source.get("path")
    path = "" if path is None else str(path)
    chart = str(source.get("chart") or "")
    repo_url = str(source.get("repoURL") or "")
    plan = SourcePlan(index, path or chart)
    if source.get("ref") and not path and not chart:
        plan.skip = True  # values only: Argo CD renders nothing from it
        return plan
    try:
        explicit = explicit_type(source)
        if chart:
            raise Refused("external", f"chart {chart} from {repo_url or '(no repoURL)'} is a Helm "
                          "repository, not a local repository: render it with helm and commit "
                          "the output, or point the app at a chart folder in the repository",
                          "helm")
        root = roots.get(url_key(repo_url)) if repo_url else None
        if root is None:
            raise Refused("external", f"{repo_url or '(no repoURL)'} is not the repository "
                          f"rendered: pass --repo-map {repo_url or 'URL'}=DIR to render it",
                          explicit or "unknown")
        plan.root = root
        target = os.path.normpath(os.path.join(root, path.lstrip("/")))
        if not inside(root, target):
            raise Refused("escaped", f"path {path} leaves the repository: refused; point the "
                          "app at a folder inside the repository", explicit or "unknown")
        if not os.path.lexists(target):
            raise Refused("failed", f"{path or '.'}: app path does not exist: fix spec.source.path "
                          "or add the folder", explicit or "unknown")
        real = os.path.realpath(target)
        if not inside(root, real):
            raise Refused("escaped", f"path {path} is a symbolic link that leaves the repository: "
                          "refused; point the app at a folder inside the repository",
                          explicit or "unknown")
        if not os.path.isdir(real):
            raise Refused("failed", f"{path}: app path is not a directory: point spec.source.path "
                          "at a folder", explicit or "unknown")
        plan.path = _rel(root, real)
        source = merge_source_parameters(source, real, app_name, root)
        kind = explicit_type(source) or discovered_type(real)
        if kind == "plugin":
            plugin = source.get("plugin") if isinstance(source.get("plugin"), dict) else {}
            name = plugin.get("name") or "(discovered)"
            raise Refused("unsupported", f"config-management plugin {name} is not run by "
                          "gitops-analysis: render the app with the plugin and commit the "
                          "output as a plain directory", "plugin")
        if kind == "kustomize":
            plan_kustomize(plan, root, real, source, allow_remote)
        elif kind == "helm":
            plan_helm(plan, root, real, source, app_name, dest_namespace, ref_sources,
                      allow_remote)
        else:
            directory = source.get("directory") if isinstance(source.get("directory"), dict) \
                else {}
            plan_directory(plan, root, real, directory)
    except Refused as r:
        plan.status, plan.message = r.status, r.message
        if plan.type == "unknown":
            plan.type = r.type
    return plan
