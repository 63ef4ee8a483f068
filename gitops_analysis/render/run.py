"""``gitops-analysis render``: a GitOps repository -> a dataset (apps/, rendered/, render-status).

Each Argo CD Application is rendered the way Argo CD's repo server would render it, with the
real renderers, never a home-made kustomize or helm:

- kustomize: a ``kustomize`` binary on PATH (what Argo CD runs), else the Go kustomize library
  bundled by ``pykustomize``, run in worker processes (:mod:`gitops_analysis.render.worker`);
- helm: a ``helm`` binary on PATH (``helm template`` with the options Argo CD passes); without
  one, a helm source gets status ``unsupported``;
- a plain directory: its manifest files, selected and ordered as Argo CD does.

Every kustomization is built from a temporary copy of the files it can read, with
``buildMetadata: [originAnnotations]`` added to the copy of the top kustomization, so each
resource carries ``config.kubernetes.io/origin``; the user's files are never written.

Render statuses (``schema.RENDER_STATUSES``): ok; external (a repository that is not REPO);
remote (a remote base, chart or values file, not fetched without ``--allow-remote``);
unsupported (jsonnet, config-management plugins, no helm renderer, ...); failed (the renderer's
own message, or the time limit); escaped (a path or symbolic link that leaves the repository).

Outputs are deterministic: sorted, the same bytes on every run, no timestamps or absolute paths.
Builds are cached by content (``GITOPS_ANALYSIS_CACHE``, else ``~/.cache/gitops-analysis/render``).
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from gitops_analysis.core.errors import InputError, UsageError

CACHE_FORMAT = 1
_WORKER = Path(__file__).with_name("worker.py")
_SEVERITY = ("escaped", "failed", "remote", "unsupported", "external", "ok")
_NAME = re.compile(r"^[A-Za-z0-9](?:[-A-Za-z0-9._]{0,251}[A-Za-z0-9])?$")
_MARKER = re.compile(r"^(?:---|\.\.\.)(?=[ \t\r]|$)[^\n]*(?:\n|\Z)", re.M)
_APPLICATION_LINE = re.compile(r"^kind:[ \t]*['\"]?Application['\"]?[ \t]*\r?$", re.M)
_CONTENT_LINE = re.compile(r"^[ \t]*[^ \t\r\n#]", re.M)
_MISSING_DEPENDENCY = ("found in Chart.yaml, but missing in charts/ directory",
                       "found in requirements.yaml, but missing in charts/ directory")
NO_HELM = "no helm renderer: install helm 3 on PATH"
NO_KUSTOMIZE = ("no kustomize renderer: install kustomize on PATH, or pykustomize in this "
                "Python (make install)")
MAX_APP_FILE_BYTES = 16 << 20


# --- results -------------------------------------------------------------------------------------

@dataclass
class AppRender:
    """What happened to one app."""

    name: str
    status: str
    renderer: str = ""
    version: str = ""
    message: str = ""
    source_types: list[str] = field(default_factory=list)
    documents: int = 0  # non-empty documents written to rendered/<app>.yaml
    cached: bool = False  # every build of it came from the cache
    where: str = ""  # the Application's file:line, or "rendered by <parent>"
    parent: str = ""  # the app whose output held this Application (app-of-apps)

    def status_entry(self) -> dict:
        return {"status": self.status, "renderer": self.renderer, "version": self.version,
                "message": self.message, "source_types": list(self.source_types)}

    def line(self) -> str:
        if self.status == "ok":
            return f"{self.name}: ok: {self.documents} documents ({self.renderer})"
        return f"{self.name}: {self.status}: {self.message}"


@dataclass
class RenderReport:
    """Every app rendered (sorted by name), and where the dataset was written."""

    out: Path
    apps: list[AppRender]
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """0 when every app rendered, 1 when some did not (status other than ok)."""
        return 0 if all(a.status == "ok" for a in self.apps) else 1

    def by_name(self) -> dict[str, AppRender]:
        return {a.name: a for a in self.apps}

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for a in self.apps:
            out[a.status] = out.get(a.status, 0) + 1
        return dict(sorted(out.items()))

    def lines(self) -> list[str]:
        return [a.line() for a in self.apps]


# --- the Applications ---------------------------------------------------------------------------

@dataclass
class _AppInput:
    name: str
    data: dict
    content: bytes  # what DATASET/apps/<name>.yaml holds
    where: str
    parent: str = ""


def _documents(text: str) -> list[tuple[int, str]]:
    """(first line, text) of each document of a YAML stream, cut at its ``---``/``...`` lines."""
    out = []
    pos, line = 0, 1
    for m in _MARKER.finditer(text):
        chunk = text[pos:m.start()]
        out.append((line, chunk))
        line += chunk.count("\n") + m.group(0).count("\n")
        pos = m.end()
    out.append((line, text[pos:]))
    return out


def _content_line(line: int, chunk: str) -> int:
    m = _CONTENT_LINE.search(chunk)
    return line + chunk.count("\n", 0, m.start()) if m else line


def _document_text(chunk: str) -> bytes:
    """One document as an apps/ file: without a leading "# Source:" line or blank lines."""
    lines = chunk.splitlines(keepends=True)
    while lines and (not lines[0].strip() or lines[0].startswith("# Source: ")):
        lines.pop(0)
    text = "".join(lines)
    if text and not text.endswith("\n"):
        text += "\n"
    return text.encode("utf-8")


def _loader():
    import yaml

    return yaml, getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _is_application(data: Any) -> bool:
    return isinstance(data, dict) and data.get("kind") == "Application" and \
        isinstance(data.get("apiVersion"), str) and data["apiVersion"].startswith("argoproj.io/")


def _app_name(data: dict) -> str | None:
    meta = data.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) and _NAME.match(name) and name not in (".", "..") \
        else None


def _apps_of_text(text: str, display: str, *, strict: bool, warn, raw: bytes | None = None,
                  parent: str = "") -> list[_AppInput]:
    """The Applications of one YAML stream (a file of --apps or of REPO, or a rendered output)."""
    yaml, loader = _loader()
    found: list[_AppInput] = []
    nonempty = 0
    for line, chunk in _documents(text):
        if not _CONTENT_LINE.search(chunk):
            continue
        try:
            data = yaml.load(chunk, Loader=loader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = line + (mark.line if mark is not None else 0)
            if strict:
                problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
                raise InputError(f"not valid YAML ({problem})", file=display, line=at,
                                 todo="fix the file or leave it out of --apps") from None
            return []
        if data is None:
            continue
        nonempty += 1
        if not _is_application(data):
            continue
        where = f"{display}:{_content_line(line, chunk)}"
        name = _app_name(data)
        if name is None:
            what = f"{where}: Application without a usable metadata.name (letters, digits, " \
                   "'-', '.', '_')"
            if strict:
                raise InputError(what.split(": ", 1)[1], file=where.rsplit(":", 1)[0],
                                 line=int(where.rsplit(":", 1)[1]), todo="give it a name")
            warn(f"{what}: skipped; give it a name")
            continue
        found.append(_AppInput(name, data, _document_text(chunk), where, parent))
    if raw is not None and len(found) == 1 and nonempty == 1:
        found[0].content = raw  # the file as it is: apps/ then equals the input byte for byte
    return found


def _read_app_file(path: Path, display: str, *, strict: bool, warn) -> list[_AppInput]:
    try:
        if path.stat().st_size > MAX_APP_FILE_BYTES:
            if strict:
                raise InputError("larger than 16 MiB", file=display,
                                 todo="split the file or leave it out of --apps")
            return []
        raw = path.read_bytes()
    except OSError as exc:
        if strict:
            raise InputError(f"cannot be read ({exc.strerror})", file=display,
                             todo="check the path") from None
        return []
    if not strict and b"Application" not in raw:
        return []
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        if strict:
            raise InputError("not UTF-8", file=display, todo="save the file as UTF-8") from None
        return []
    return _apps_of_text(text, display, strict=strict, warn=warn, raw=raw)


def _yaml_files(folder: Path, root_real: str | None = None) -> list[Path]:
    """*.yaml/*.yml under ``folder``, sorted; folder links are not followed, .git is skipped."""
    out = []
    for d, dirs, files in os.walk(folder):
        dirs[:] = sorted(x for x in dirs if x != ".git" and not os.path.islink(os.path.join(d, x)))
        for f in sorted(files):
            if not f.endswith((".yaml", ".yml")):
                continue
            p = Path(d) / f
            if root_real and p.is_symlink():
                from gitops_analysis.render.sources import inside

                if not inside(root_real, os.path.realpath(p)):
                    continue
            out.append(p)
    return sorted(out, key=lambda p: p.as_posix())


def _read_apps(repo: Path, apps_paths, warn) -> list[_AppInput]:
    found: list[_AppInput] = []
    if apps_paths:
        for given in apps_paths:
            p = Path(given)
            if not p.exists() and not p.is_absolute() and (repo / p).exists():
                p = repo / p
            if not p.exists():
                raise InputError("no such file or folder", file=str(given),
                                 todo="pass Application files or folders to --apps")
            files = [p] if p.is_file() else _yaml_files(p)
            for f in files:
                found += _read_app_file(f, str(f), strict=True, warn=warn)
        if not found:
            raise InputError("no argoproj.io Application in these files",
                             file=" ".join(map(str, apps_paths)),
                             todo="pass the files or folders that hold the Applications")
    else:
        root_real = os.path.realpath(repo)
        for f in _yaml_files(repo, root_real):
            rel = f.relative_to(repo).as_posix()
            found += _read_app_file(f, rel, strict=False, warn=warn)
        if not found:
            raise InputError("no argoproj.io Application found under the repository",
                             file=str(repo), todo="pass --apps PATH with the Application files")
    apps: dict[str, _AppInput] = {}
    for a in found:
        if a.name in apps:
            warn(f"{a.where}: a second Application named {a.name} (first at "
                 f"{apps[a.name].where}): skipped; give each app its own name")
            continue
        apps[a.name] = a
    return [apps[k] for k in sorted(apps)]


def _sources_of(data: dict) -> list:
    spec = data.get("spec")
    if not isinstance(spec, dict):
        return []
    if isinstance(spec.get("sources"), list) and spec["sources"]:
        return spec["sources"]
    return [spec["source"]] if spec.get("source") is not None else []


# --- repositories ---------------------------------------------------------------------------

def _parse_repo_map(repo_map) -> list[tuple[str, str]]:
    if not repo_map:
        return []
    items = repo_map.items() if isinstance(repo_map, dict) else repo_map
    out = []
    for item in items:
        if isinstance(item, str):
            url, sep, folder = item.rpartition("=")
            if not sep or not url or not folder:
                raise UsageError(f"--repo-map {item}: expected URL=DIR",
                                 todo="write it as https://host/org/repo.git=path/to/checkout")
        else:
            url, folder = item
        out.append((str(url), str(folder)))
    return out


def _roots(repo_real: str, repo: Path, repo_map, apps: list[_AppInput]) -> dict[str, str]:
    from gitops_analysis.render.sources import git_origin, url_key

    roots: dict[str, str] = {}
    origin = git_origin(repo)
    if origin:
        roots[url_key(origin)] = repo_real
    pairs = _parse_repo_map(repo_map)
    for url, folder in pairs:
        if not os.path.isdir(folder):
            raise UsageError(f"--repo-map {url}={folder}: {folder} is not a folder",
                             todo="map the URL to a local checkout")
        roots[url_key(url)] = os.path.realpath(folder)
    if not origin and not pairs:
        keys = {url_key(str(s.get("repoURL"))) for a in apps for s in _sources_of(a.data)
                if isinstance(s, dict) and s.get("repoURL") and not s.get("chart")}
        if len(keys) == 1:
            roots[keys.pop()] = repo_real
    return roots


# --- renderers ----------------------------------------------------------------------------------

def _pykustomize_version() -> str | None:
    import importlib.metadata
    import importlib.util
    import mmap

    spec = importlib.util.find_spec("pykustomize")
    if spec is None or not spec.origin:
        return None
    try:
        version = importlib.metadata.version("pykustomize")
    except importlib.metadata.PackageNotFoundError:
        version = "?"
    api = ""
    for lib in sorted((Path(spec.origin).parent / "_lib").glob("*/*pykustomize*")):
        if lib.suffix not in (".so", ".dylib", ".dll"):
            continue
        try:
            with open(lib, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as m:
                needle = b"dep\tsigs.k8s.io/kustomize/api\t"  # the Go build info
                at = m.find(needle)
                found = re.match(rb"(v[0-9][^\t\n]*)", m[at + len(needle):at + len(needle) + 64]) \
                    if at >= 0 else None
        except (OSError, ValueError):
            continue
        if found:
            api = found.group(1).decode()
            break
    return f"{api} (pykustomize {version})" if api else f"pykustomize {version}"


def _binary_version(binary: str, args: list[str]) -> str:
    try:
        done = subprocess.run([binary, *args], capture_output=True, timeout=30,
                              stdin=subprocess.DEVNULL, check=False)
        text = (done.stdout or done.stderr).decode("utf-8", "replace").strip()
        return " ".join(text.splitlines()[0].split()) if text else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


@dataclass
class _Renderers:
    kustomize: str = ""  # "binary" | "pykustomize" | ""
    kustomize_path: str = ""
    kustomize_version: str = ""
    helm_path: str = ""
    helm_version: str = ""


def _find_renderers(kustomize: str, helm: str) -> _Renderers:
    r = _Renderers()
    if kustomize not in ("auto", "binary", "pykustomize"):
        raise UsageError(f"kustomize renderer {kustomize!r}",
                         todo="use auto, binary or pykustomize")
    binary = shutil.which("kustomize") if kustomize in ("auto", "binary") else None
    if binary:
        r.kustomize, r.kustomize_path = "binary", binary
        r.kustomize_version = _binary_version(binary, ["version"])
    elif kustomize == "binary":
        raise UsageError("no kustomize binary on PATH",
                         todo="install kustomize or use --kustomize auto")
    else:
        version = _pykustomize_version()
        if version:
            r.kustomize, r.kustomize_version = "pykustomize", version
        elif kustomize == "pykustomize":
            raise UsageError("pykustomize is not installed",
                             todo="pip install --ignore-requires-python pykustomize==0.1.4")
    if helm not in ("auto", "none"):
        raise UsageError(f"helm renderer {helm!r}", todo="use auto or none")
    helm_binary = shutil.which("helm") if helm == "auto" else None
    if helm_binary:
        r.helm_path = helm_binary
        r.helm_version = _binary_version(helm_binary, ["version", "--short"])
    return r


# --- processes with a time limit ---------------------------------------------------------------

def _kill(proc: subprocess.Popen) -> None:
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except (OSError, ProcessLookupError):
        pass


def _run(args: list[str], cwd: str, timeout: float,
         env: dict | None = None) -> tuple[int, str, str]:
    """Run a renderer binary; its whole process group is ended at the time limit."""
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=max(timeout, 0.001))
    except subprocess.TimeoutExpired:
        _kill(proc)
        proc.communicate()
        raise TimeoutError from None
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


class _Worker:
    """One pykustomize worker process (render_worker.py), used by one thread at a time."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-P", str(_WORKER)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        self.answers: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.answers.put(line)
        self.answers.put(None)

    def build(self, request: dict, timeout: float) -> dict:
        try:
            self.proc.stdin.write(json.dumps(request).encode("utf-8") + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise RuntimeError(f"the kustomize worker process ended (exit code "
                               f"{self.proc.wait()})") from None
        try:
            line = self.answers.get(timeout=max(timeout, 0.001))
        except queue.Empty:
            raise TimeoutError from None
        if line is None:
            raise RuntimeError(f"the kustomize worker process ended (exit code {self.proc.wait()})")
        return json.loads(line)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            _kill(self.proc)
            self.proc.wait()

    def kill(self) -> None:
        _kill(self.proc)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


class _Workers:
    """A worker per thread, started on first use; a worker that timed out is replaced."""

    def __init__(self) -> None:
        self.local = threading.local()
        self.all: list[_Worker] = []
        self.lock = threading.Lock()

    def build(self, request: dict, timeout: float) -> dict:
        w = getattr(self.local, "worker", None)
        if w is None or not w.alive():
            w = _Worker()
            self.local.worker = w
            with self.lock:
                self.all.append(w)
        try:
            return w.build(request, timeout)
        except (TimeoutError, RuntimeError):
            w.kill()
            self.local.worker = None
            raise

    def close(self) -> None:
        for w in self.all:
            w.close()


# --- cache --------------------------------------------------------------------------------------

def cache_folder() -> Path:
    env = os.environ.get("GITOPS_ANALYSIS_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "gitops-analysis" / "render"


class _Cache:
    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.digests: dict[tuple, str] = {}

    def digest(self, path: str) -> str:
        st = os.stat(path)
        key = (path, st.st_mtime_ns, st.st_size)
        d = self.digests.get(key)
        if d is None:
            h = hashlib.sha256()
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            d = self.digests[key] = h.hexdigest()
        return d

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        if self.folder is None:
            return None
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("key") == key else None

    def put(self, key: str, value: dict) -> None:
        if self.folder is None:
            return
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({**value, "key": key}, fh)
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written only costs time


# --- one build ----------------------------------------------------------------------------------

@dataclass
class _Context:
    renderers: _Renderers
    roots: dict[str, str]
    allow_remote: bool
    timeout: float
    cache: _Cache
    workers: _Workers


@dataclass
class _Built:
    status: str
    text: str | None = None
    message: str = ""
    cached: bool = False


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _sanitize(message: str, paths: list[str]) -> str:
    """Temporary and repository paths out of a renderer's message: relative paths only."""
    for p in sorted({q for p in paths if p for q in (p, os.path.realpath(p))}, key=len,
                    reverse=True):
        message = message.replace(p + os.sep, "").replace(p, ".")
    return _one_line(message)


def _copy_tree(plan, base: str) -> None:
    for rel, (kind, payload) in sorted(plan.files.items()):
        dst = os.path.join(base, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if kind == "link":
            os.symlink(payload, dst)
        else:
            shutil.copyfile(os.path.join(plan.root, rel), dst)
    os.makedirs(os.path.join(base, plan.path), exist_ok=True)


def _add_origin_annotations(path: str) -> None:
    """``buildMetadata: [originAnnotations]`` into a (copied) kustomization file."""
    from gitops_analysis.render.sources import read_kustomization

    read = read_kustomization(path)
    if read is None:
        return  # the renderer reports what is wrong with it
    text, data = read
    current = data.get("buildMetadata")
    if isinstance(current, list) and "originAnnotations" in current:
        return
    block_style = not text.lstrip().startswith("{") and \
        not re.search(r"^(?:---|\.\.\.)", text, re.M) and \
        not re.search(r"^['\"]?buildMetadata['\"]?[ \t]*:", text, re.M)
    if current is None and block_style:
        new = text + ("\n" if text and not text.endswith("\n") else "") + \
            "buildMetadata: [originAnnotations]\n"
    else:
        data["buildMetadata"] = (current if isinstance(current, list) else []) + \
            ["originAnnotations"]
        new = json.dumps(data, ensure_ascii=False, default=str) + "\n"
    if os.path.islink(path):
        os.unlink(path)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(new)


def _cache_key(plan, ctx: _Context, renderer: str, version: str) -> str | None:
    if plan.remote:
        return None  # what a remote reference holds can change: never cached
    files = []
    for rel, (kind, payload) in sorted(plan.files.items()):
        files.append([rel, kind, payload if kind == "link" else
                      ctx.cache.digest(os.path.join(plan.root, rel))])
    material = {"format": CACHE_FORMAT, "renderer": renderer, "version": version,
                "engine": ctx.renderers.kustomize if renderer == "kustomize" else "binary",
                "options": {"origin_annotations": True, "load_restrictions": "RootOnly",
                            "enable_helm": plan.needs_helm,
                            "helm": ctx.renderers.helm_version if plan.needs_helm or
                            renderer == "helm" else ""},
                "path": plan.path, "kustomization": plan.kustomization, "helm": plan.helm,
                "files": files}
    blob = json.dumps(material, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def _build_kustomize(plan, ctx: _Context, base: str, deadline: float) -> _Built:
    if plan.kustomization:
        _add_origin_annotations(os.path.join(base, plan.kustomization))
    target = os.path.join(base, plan.path)
    r = ctx.renderers
    if r.kustomize == "binary":
        args = [r.kustomize_path, "build", target]
        if plan.needs_helm:
            args += ["--enable-helm", "--helm-command", r.helm_path]
        code, out, err = _run(args, base, deadline - time.monotonic())
        if code != 0:
            return _Built("failed", message=err.strip() or f"kustomize exited with {code}")
        return _Built("ok", out)
    answer = ctx.workers.build({"path": target, "enable_helm": plan.needs_helm,
                                "helm_command": r.helm_path}, deadline - time.monotonic())
    if not answer.get("ok"):
        return _Built("failed", message=str(answer.get("error") or "kustomize build failed"))
    return _Built("ok", str(answer.get("yaml", "")))


def _clean_set(value: str) -> str:
    """Argo CD's cleanSetParameters: commas escaped unless the value is a {list}."""
    if value.startswith("{") and value.endswith("}"):
        return value
    out, prev = [], ""
    for ch in value:
        out.append("\\," if ch == "," and prev != "\\" else ch)
        prev = ch
    return "".join(out)


def _build_helm(plan, ctx: _Context, base: str, tmp: str, deadline: float) -> _Built:
    h = plan.helm
    args = [ctx.renderers.helm_path, "template", ".", "--name-template", h["release"]]
    if h["namespace"]:
        args += ["--namespace", h["namespace"]]
    for k, v in h["set"]:
        args += ["--set", f"{k}={_clean_set(v)}"]
    for k, v in h["set_string"]:
        args += ["--set-string", f"{k}={_clean_set(v)}"]
    for k, rel in h["set_file"]:
        args += ["--set-file", f"{k}={_clean_set(os.path.join(base, rel))}"]
    for vf in h["value_files"]:
        args += ["--values", vf if "://" in vf else os.path.join(base, vf)]
    if h["values"]:
        extra = os.path.join(tmp, "values-from-spec.yaml")
        with open(extra, "w", encoding="utf-8") as fh:
            fh.write(h["values"])
        args += ["--values", extra]
    if h["include_crds"]:
        args.append("--include-crds")
    if h["skip_schema_validation"]:
        args.append("--skip-schema-validation")
    if h["skip_tests"]:
        args.append("--skip-tests")
    home = os.path.join(tmp, "helm-home")
    env = {**os.environ, "HELM_CACHE_HOME": os.path.join(home, "cache"),
           "HELM_CONFIG_HOME": os.path.join(home, "config"),
           "HELM_DATA_HOME": os.path.join(home, "data")}
    cwd = os.path.join(base, plan.path)
    code, out, err = _run(args, cwd, deadline - time.monotonic(), env)
    if code != 0 and any(m in err for m in _MISSING_DEPENDENCY):
        code, _, err = _run([ctx.renderers.helm_path, "dependency", "build"], cwd,
                            deadline - time.monotonic(), env)
        if code == 0:
            code, out, err = _run(args, cwd, deadline - time.monotonic(), env)
    if code != 0:
        return _Built("failed", message=err.strip() or f"helm exited with {code}")
    return _Built("ok", out)


def _decode(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    return raw.decode("utf-8-sig")


def _render_directory(plan) -> _Built:
    """Argo CD's findManifests over the selected files; the output is the files as they are."""
    yaml, loader = _loader()
    parts = []
    for rel in plan.directory_files:
        name = rel.rsplit("/", 1)[-1]
        try:
            with open(os.path.join(plan.root, rel), "rb") as fh:
                raw = fh.read()
            text = _decode(raw)
        except (OSError, UnicodeDecodeError) as exc:
            return _Built("failed", message=f"{rel}: cannot be read ({exc}): fix the file")
        if name.endswith(".json"):
            try:
                obj = json.loads(text)
            except ValueError as exc:
                return _Built("failed", message=f"{rel}: Failed to unmarshal {name!r}: {exc}: "
                                                "fix the file (one JSON object per file)")
            if not isinstance(obj, dict):
                return _Built("failed", message=f"{rel}: Failed to unmarshal {name!r}: not an "
                                                "object: fix the file")
        else:
            objects, error = 0, ""
            for _, chunk in _documents(text):
                if not _CONTENT_LINE.search(chunk):
                    continue
                try:
                    data = yaml.load(chunk, Loader=loader)
                except yaml.YAMLError as exc:
                    error = _one_line(str(exc))
                    break
                if data is None:
                    continue
                if not isinstance(data, dict) or not data.get("kind"):
                    error = "Object 'Kind' is missing" if isinstance(data, dict) else \
                        "not a mapping"
                    break
                objects += 1
            if error:
                looks_like_manifest = all(k in raw for k in (b"apiVersion:", b"kind:",
                                                               b"metadata:"))
                if objects or looks_like_manifest:
                    return _Built("failed", message=f"{rel}: Failed to unmarshal {name!r}: "
                                                    f"{error}: fix the file")
                continue  # Argo CD ignores a YAML file that is not a manifest
        parts.append(text if text.endswith("\n") or not text else text + "\n")
    return _Built("ok", "---\n".join(parts))


def _execute(plan, ctx: _Context, deadline: float) -> tuple[_Built, str, str]:
    """Render one source: (result, renderer, version)."""
    r = ctx.renderers
    renderer = plan.renderer or (plan.type if plan.type in ("kustomize", "helm", "directory")
                                 else "")
    version = ""
    if renderer == "kustomize":
        version = r.kustomize_version
    elif renderer == "helm":
        version = r.helm_version
    elif renderer == "directory":
        from gitops_analysis.core.version import __version__

        version = f"gitops-analysis {__version__}"
    if plan.status != "ok":
        return _Built(plan.status, message=plan.message), renderer, version
    if plan.renderer == "directory":
        return _render_directory(plan), renderer, version
    if plan.renderer == "kustomize" and not r.kustomize:
        return _Built("unsupported", message=NO_KUSTOMIZE), renderer, version
    if (plan.renderer == "helm" or plan.needs_helm) and not r.helm_path:
        return _Built("unsupported", message=NO_HELM), "helm", version
    key = _cache_key(plan, ctx, renderer, version)
    hit = ctx.cache.get(key) if key else None
    if hit is not None:
        return _Built(hit["status"], hit.get("text"), hit.get("message", ""), True), renderer, \
            version
    tmp = tempfile.mkdtemp(prefix="gitops-analysis-render-")
    base = os.path.join(tmp, "repo")
    try:
        _copy_tree(plan, base)
        if plan.renderer == "kustomize":
            built = _build_kustomize(plan, ctx, base, deadline)
        else:
            built = _build_helm(plan, ctx, base, tmp, deadline)
    except TimeoutError:
        return _Built("failed", message=f"timed out after {ctx.timeout:g} s: the render was "
                                        "stopped; raise --timeout if it needs longer"), \
            renderer, version
    except RuntimeError as exc:
        return _Built("failed", message=_one_line(str(exc))), renderer, version
    except OSError as exc:  # a file that cannot be read or copied
        where = _sanitize(str(exc.filename or ""), [base, tmp, plan.root])
        return _Built("failed", message=f"{where}: cannot be read ({exc.strerror}): check the "
                                        "file"), renderer, version
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    built.message = _sanitize(built.message, [base, tmp, plan.root])
    if key and built.status in ("ok", "failed"):
        ctx.cache.put(key, {"status": built.status, "text": built.text, "message": built.message})
    return built, renderer, version


# --- one app ------------------------------------------------------------------------------------

def _count_documents(text: str) -> int:
    return sum(1 for _, chunk in _documents(text) if _CONTENT_LINE.search(chunk))


def _join(values: list[str]) -> str:
    out: list[str] = []
    for v in values:
        if v and v not in out:
            out.append(v)
    return ", ".join(out)


def _render_app(app: _AppInput, ctx: _Context) -> tuple[AppRender, str | None, list[_AppInput]]:
    from gitops_analysis.render.sources import plan_source, url_key

    result = AppRender(app.name, "ok", where=app.where, parent=app.parent)
    spec = app.data.get("spec")
    sources = _sources_of(app.data)
    if not isinstance(spec, dict) or not sources:
        result.status = "failed"
        result.message = (f"{app.where}: Application {app.name} has no spec.source or "
                          "spec.sources: Argo CD cannot render it; add a source")
        return result, None, []
    dest = spec.get("destination") if isinstance(spec.get("destination"), dict) else {}
    dest_ns = str(dest.get("namespace") or "")
    refs = {str(s["ref"]): ctx.roots.get(url_key(str(s.get("repoURL") or "")))
            for s in sources if isinstance(s, dict) and s.get("ref")}
    deadline = time.monotonic() + ctx.timeout
    multi = len(sources) > 1
    parts: list[str] = []
    problems: list[tuple[str, str]] = []
    renderers: list[str] = []
    versions: list[str] = []
    cached = []
    for i, source in enumerate(sources):
        plan = plan_source(source, i, app_name=app.name, dest_namespace=dest_ns,
                           roots=ctx.roots, ref_sources=refs, allow_remote=ctx.allow_remote)
        result.source_types.append(plan.type)
        if plan.skip:
            continue
        built, renderer, version = _execute(plan, ctx, deadline)
        renderers.append(renderer)
        versions.append(version)
        if plan.status == "ok":
            cached.append(built.cached)
        if built.status == "ok":
            text = built.text or ""
            if text and not text.endswith("\n"):
                text += "\n"
            parts.append((f"# Source: {plan.label}\n" if multi else "") + text)
        else:
            where = f"sources[{i}] {plan.label or '(no path)'}: " if multi else ""
            problems.append((built.status, where + built.message))
    result.renderer, result.version = _join(renderers), _join(versions)
    if problems:
        result.status = min((s for s, _ in problems), key=_SEVERITY.index)
        result.message = "; ".join(m for _, m in problems)
    text = "---\n".join(parts) if parts else None
    result.cached = bool(cached) and all(cached)
    children: list[_AppInput] = []
    if text is not None:
        result.documents = _count_documents(text)
        if _APPLICATION_LINE.search(text):
            children = _apps_of_text(text, f"rendered/{app.name}.yaml", strict=False,
                                     warn=lambda _m: None, parent=app.name)
            for c in children:
                c.where = f"rendered by {app.name} ({c.where})"
    return result, text, children


# --- the dataset folder ------------------------------------------------------------------------

def _check_out(out: Path, repo_real: str) -> None:
    from gitops_analysis.render.sources import inside

    if inside(repo_real, os.path.realpath(out)):
        raise UsageError("the dataset folder is inside the repository", file=str(out),
                         todo="write the dataset to a folder outside the repository")
    if out.exists() and not out.is_dir():
        raise UsageError("not a folder", file=str(out), todo="pass a folder to --out")
    for part in ("apps", "rendered"):
        p = out / part
        if not os.path.lexists(p):
            continue
        if p.is_symlink() or not p.is_dir():
            raise UsageError(f"{part} is not a folder", file=str(p),
                             todo="choose an empty folder or a dataset folder for --out")
        for d, dirs, files in os.walk(p):
            for f in files:
                if not f.endswith((".yaml", ".yml")) or os.path.islink(os.path.join(d, f)):
                    raise UsageError("holds files that are not YAML: refused to replace it",
                                     file=os.path.join(d, f),
                                     todo="choose an empty folder or a dataset folder for --out")
    if (out / "render-status.json").is_dir():
        raise UsageError("render-status.json is a folder", file=str(out),
                         todo="choose an empty folder or a dataset folder for --out")


def _write_dataset(out: Path, apps: dict[str, tuple[_AppInput, AppRender, str | None]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out, prefix=".render-"))
    try:
        (tmp / "apps").mkdir()
        (tmp / "rendered").mkdir()
        status = {}
        for name in sorted(apps):
            app, result, text = apps[name]
            (tmp / "apps" / f"{name}.yaml").write_bytes(app.content)
            if text is not None:
                (tmp / "rendered" / f"{name}.yaml").write_bytes(text.encode("utf-8"))
            status[name] = result.status_entry()
        (tmp / "render-status.json").write_text(
            json.dumps({"apps": status}, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
            encoding="utf-8")
        for part in ("apps", "rendered", "render-status.json"):
            old = out / part
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old)
            elif os.path.lexists(old):
                old.unlink()
            os.replace(tmp / part, old)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --- progress -----------------------------------------------------------------------------------

class _Progress:
    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream
        self.tty = bool(stream) and hasattr(stream, "isatty") and stream.isatty()
        self.done = self.total = 0
        self.lock = threading.Lock()

    def add(self, n: int) -> None:
        with self.lock:
            self.total += n

    def step(self, result: AppRender) -> None:
        if not self.stream:
            return
        with self.lock:
            self.done += 1
            tail = " (cached)" if result.cached else ""
            if self.tty:
                self.stream.write(f"\rrender: {self.done}/{self.total} apps "
                                  f"{result.name[:40]:<40}")
            else:
                self.stream.write(f"render: [{self.done}/{self.total}] {result.name}: "
                                  f"{result.status}{tail}\n")
            self.stream.flush()

    def close(self, report: RenderReport) -> None:
        if not self.stream:
            return
        if self.tty:
            self.stream.write("\r" + " " * 70 + "\r")
        cached = sum(a.cached for a in report.apps)
        counts = ", ".join(f"{n} {s}" for s, n in report.counts().items())
        self.stream.write(f"render: {len(report.apps)} apps in {report.seconds:.2f} s: {counts} "
                          f"({cached} from the cache)\n")
        self.stream.flush()


# --- the whole run ------------------------------------------------------------------------------

def render_repository(repo, out, *, apps_paths=None, repo_map=None, allow_remote: bool = False,
                      jobs: int | None = None, use_cache: bool = True, timeout: float = 120,
                      kustomize: str = "auto", helm: str = "auto",
                      progress: TextIO | None = None) -> RenderReport:
    """Render the Applications of ``repo`` into the dataset folder ``out``.

    ``apps_paths``: Application files or folders (default: every Application under ``repo``).
    ``repo_map``: ``{url: folder}`` or ``["URL=DIR", ...]``: repositories available locally.
    ``kustomize``: ``auto`` (a binary on PATH, else pykustomize), ``binary`` or ``pykustomize``;
    ``helm``: ``auto`` (a binary on PATH) or ``none``. Usage and input errors raise
    :class:`~gitops_analysis.core.errors.GitopsAnalysisError` subclasses before anything is written.
    """
    started = time.monotonic()
    repo = Path(repo)
    out = Path(out)
    if not repo.is_dir():
        raise InputError("no such folder" if not repo.exists() else "not a folder",
                         file=str(repo), todo="pass the repository's folder as REPO")
    if jobs is not None and int(jobs) < 1:
        raise UsageError(f"--jobs {jobs}: at least 1", todo="pass a positive number of jobs")
    if not timeout or timeout <= 0:
        raise UsageError(f"--timeout {timeout}: must be positive", todo="pass seconds, e.g. 120")
    repo_real = os.path.realpath(repo)
    _check_out(out, repo_real)
    warn = (lambda m: (progress.write(f"render: {m}\n"), progress.flush())) if progress \
        else (lambda m: None)
    initial = _read_apps(repo, apps_paths, warn)
    ctx = _Context(_find_renderers(kustomize, helm), _roots(repo_real, repo, repo_map, initial),
                   allow_remote, float(timeout),
                   _Cache(cache_folder() if use_cache else None), _Workers())
    if not jobs:
        jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
            (os.cpu_count() or 1)
    jobs = int(jobs)
    bar = _Progress(progress)
    done: dict[str, tuple[_AppInput, AppRender, str | None]] = {}
    seen = {a.name for a in initial}
    level = initial

    def one(app: _AppInput):
        try:
            res = _render_app(app, ctx)
        except Exception as exc:
            res = (AppRender(app.name, "failed", message=f"{app.where}: cannot be rendered "
                             f"({type(exc).__name__}: {_one_line(str(exc))}): please report it "
                             "as a bug of gitops-analysis", where=app.where, parent=app.parent),
                   None, [])
        bar.step(res[0])
        return res

    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            while level:
                bar.add(len(level))
                results = list(pool.map(one, level))
                nxt: list[_AppInput] = []
                for app, (result, text, children) in zip(level, results):
                    done[app.name] = (app, result, text)
                    for child in children:  # app-of-apps: each child once, cycles end here
                        if child.name not in seen:
                            seen.add(child.name)
                            nxt.append(child)
                level = sorted(nxt, key=lambda a: a.name)
    finally:
        ctx.workers.close()
    _write_dataset(out, done)
    report = RenderReport(out, [done[k][1] for k in sorted(done)],
                          round(time.monotonic() - started, 3))
    bar.close(report)
    return report


# --- command line -------------------------------------------------------------------------------

def cmd_render(args) -> int:
    report = render_repository(
        args.repo, args.out, apps_paths=args.apps, repo_map=args.repo_map,
        allow_remote=args.allow_remote, jobs=args.jobs, use_cache=not args.no_cache,
        timeout=args.timeout, kustomize=args.kustomize, progress=sys.stderr)
    for line in report.lines():
        sys.stdout.write(line + "\n")
    return report.exit_code


def add_commands(subparsers, parser_class=None) -> None:
    """Add ``render`` to the CLI (called by cli.py when this module exists)."""
    p = subparsers.add_parser(
        "render", help="render every Application of a repository into a dataset",
        description="Render the Argo CD Applications of REPO (and the Applications their output "
                    "holds) with the real kustomize/helm into DATASET: apps/, rendered/ and "
                    "render-status.json. Exit 0: every app rendered; 1: some app not rendered "
                    "(external, remote, unsupported, failed, escaped); 2: usage or input error.")
    p.add_argument("repo", metavar="REPO", help="the repository (a checkout) the apps point at")
    p.add_argument("--apps", metavar="PATH", nargs="+", action="extend", default=None,
                   help="Application files or folders (default: every Application under REPO)")
    p.add_argument("--out", metavar="DATASET", required=True, help="the dataset folder to write")
    p.add_argument("--repo-map", metavar="URL=DIR", action="append", default=[],
                   help="a repository URL the apps name, and the local folder that holds it")
    p.add_argument("--allow-remote", action="store_true",
                   help="fetch remote bases, charts and values files (default: status remote)")
    p.add_argument("--jobs", type=int, metavar="N", default=None,
                   help="renders in parallel (default: the number of cores)")
    p.add_argument("--no-cache", action="store_true",
                   help="render every app again (cache: $GITOPS_ANALYSIS_CACHE, else "
                        "~/.cache/gitops-analysis/render)")
    p.add_argument("--timeout", type=float, metavar="SECONDS", default=120,
                   help="time limit of one app's render (default: 120)")
    p.add_argument("--kustomize", choices=("auto", "binary", "pykustomize"), default="auto",
                   help="kustomize renderer: a binary on PATH, else pykustomize (default: auto)")
    p.set_defaults(func=cmd_render)
