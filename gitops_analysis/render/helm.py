"""A Helm source rendered: ``helm template`` with the options Argo CD passes, by the renderer
of the run.

The renderer is a ``helm`` binary on PATH (what Argo CD runs), else the Helm Go library that
helm-python-sdk bundles (Helm v4, what Argo CD 3.5 runs), driven as the helm CLI drives it
(:mod:`~gitops_analysis.render.helm_engine`) in worker processes with the time limit
(:mod:`~gitops_analysis.render.helm_worker`). Both get the same command line. The plan is made
in :mod:`~gitops_analysis.render.helm_plan`; charts from Helm repositories and OCI registries
come through the chart cache (:mod:`~gitops_analysis.render.helm_remote`).

A render that fails carries, besides Helm's message, the text Argo CD would show in the
Application's ``ComparisonError`` condition (after ``Failed to load target state: ``, see
``docs/notes/helm.md``): :func:`comparison_failure`.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import shutil
import stat
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from gitops_analysis.core.errors import UsageError
from gitops_analysis.render.fetch import fetch_cause, fetch_message
from gitops_analysis.render.helm_plan import plan_chart, plan_helm
from gitops_analysis.render.helm_remote import cached_archive, fetch_chart, unpack
from gitops_analysis.render.helm_values import HelmFailure
from gitops_analysis.render.results import Built, SourcePlan
from gitops_analysis.render.workers import Workers, binary_version, run

NO_HELM = ("no helm renderer: install helm on PATH, or helm-python-sdk in this Python "
           "(make install)")
HELM_CHOICES = ("auto", "binary", "helm-python-sdk", "none")
LIBRARY = "helm-python-sdk"
_WORKER = Path(__file__).with_name("helm_worker.py")
_MISSING_DEPENDENCY = ("found in Chart.yaml, but missing in charts/ directory",
                       "found in requirements.yaml, but missing in charts/ directory")
_API_VERSIONS = re.compile(r"(--api-versions [^ ]+ )+")
CACHED_SOURCE = "<path to cached source>"
FETCH_VALUES = "failed to fetch values file"
VALUES_FILE = "<temp file with values from source.helm.values/valuesObject>"

__all__ = ["HELM_CHOICES", "NO_HELM", "Helm", "argocd_error", "comparison_failure",
           "find_helm", "plan_chart", "plan_helm", "render_helm"]


class Helm:
    """A Helm renderer: the binary on PATH (``engine == "binary"``) or helm-python-sdk in
    worker processes (``engine == "helm-python-sdk"``). ``chart_cache``: the folder of pulled
    charts. Close it (or use it as a context manager) to end the workers."""

    def __init__(self, engine: str, version: str, path: str = "", chart_cache: str = "") -> None:
        self.engine = engine
        self.version = version
        self.path = path
        self.chart_cache = chart_cache
        self._workers = Workers(_WORKER, "helm") if engine == LIBRARY else None

    def run(self, args: list[str], cwd: str, timeout: float,
            env: dict[str, str]) -> tuple[int, str, str]:
        """``helm ARGS`` in ``cwd``: (exit code, stdout, stderr); TimeoutError at the limit,
        RuntimeError when a worker process died."""
        if self._workers is None:
            return run([self.path, *args], cwd, timeout, {**os.environ, **env})
        answer = self._workers.build({"args": args, "cwd": cwd, "env": env}, timeout)
        return int(answer.get("code", 1)), str(answer.get("out", "")), \
            str(answer.get("err", answer.get("error", "")))

    def command(self, folder: str, allow_remote: bool) -> str:
        """An executable ``helm`` for kustomize's ``--helm-command``, written into ``folder``:
        the binary itself, or a script that runs the library's ``helm``."""
        if self._workers is None:
            return self.path
        script = os.path.join(folder, "helm")
        cache = f"GITOPS_ANALYSIS_CHART_CACHE={_sh(self.chart_cache)} " if self.chart_cache \
            else ""
        remote = "GITOPS_ANALYSIS_ALLOW_REMOTE=1 " if allow_remote else ""
        with open(script, "w", encoding="utf-8") as fh:
            fh.write(f"#!/bin/sh\n{cache}{remote}exec {_sh(sys.executable)} -P "
                     f"{_sh(str(_WORKER))} cli \"$@\"\n")
        os.chmod(script, stat.S_IRWXU)
        return script

    def close(self) -> None:
        if self._workers is not None:
            self._workers.close()

    def __enter__(self) -> Helm:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _sh(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def library_version() -> str | None:
    """``v4.2.3 (helm-python-sdk 0.2.2)``: the Helm the library bundles; None without it."""
    if importlib.util.find_spec("helm_python") is None:
        return None
    try:
        version = importlib.metadata.version(LIBRARY)
    except importlib.metadata.PackageNotFoundError:
        version = "?"
    try:
        from helm_python import _native
        sdk = _native.EXPECTED_HELM_SDK_VERSION  # read without loading the 85 MB library
    except Exception:
        return None
    return f"{sdk} ({LIBRARY} {version})"


def find_helm(choice: str = "auto", chart_cache: str | os.PathLike[str] | None = None) \
        -> Helm | None:
    """``auto``: the helm binary on PATH, else helm-python-sdk (None when there is neither);
    ``binary`` / ``helm-python-sdk``: that one (a usage error when it is missing); ``none``."""
    if choice not in HELM_CHOICES:
        raise UsageError(f"helm renderer {choice!r}", todo="use " + ", ".join(HELM_CHOICES))
    cache = os.path.abspath(os.fspath(chart_cache)) if chart_cache else ""
    if cache and os.path.exists(cache) and not os.path.isdir(cache):
        raise UsageError("not a folder", file=os.fspath(chart_cache or ""),
                         todo="pass a folder to --chart-cache")
    if choice == "none":
        return None
    binary = shutil.which("helm") if choice in ("auto", "binary") else None
    if binary:
        return Helm("binary", binary_version(binary, ["version", "--short"]), binary, cache)
    if choice == "binary":
        raise UsageError("no helm binary on PATH", todo="install helm or use --helm auto")
    version = library_version()
    if version:
        return Helm(LIBRARY, version, "", cache)
    if choice == LIBRARY:
        raise UsageError("helm-python-sdk is not installed", todo="make install (pip install "
                         "helm-python-sdk==0.2.2)")
    return None


# --- the run -------------------------------------------------------------------------------

def _clean_set(value: str) -> str:
    """Argo CD's cleanSetParameters: commas escaped unless the value is a {list}."""
    if value.startswith("{") and value.endswith("}"):
        return value
    out, prev = [], ""
    for ch in value:
        out.append("\\," if ch == "," and prev != "\\" else ch)
        prev = ch
    return "".join(out)


def _quote(arg: str) -> str:
    """Argo CD's ``GetCommandArgsToLog``: "" for empty, Go-quoted when it holds a space."""
    if arg == "":
        return '""'
    if any(c.isspace() for c in arg):
        return '"' + arg.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return arg


def argocd_error(args: list[str], code: int, err: str, paths: dict[str, str]) -> str:
    """What Argo CD's repo server answers when ``helm template ARGS`` fails: the gRPC error
    text (``paths``: real path -> what Argo CD shows instead)."""
    command = " ".join(["helm", *(_quote(a) for a in args)])
    text = (f"rpc error: code = Unknown desc = failed to execute helm template command: failed "
            f"running helm: `{command}` failed exit status {code}: {err.strip()}")
    for real, shown in sorted(paths.items(), key=lambda p: -len(p[0])):
        if real:
            text = text.replace(real, shown)
    if "--api-versions" in text:
        text = _API_VERSIONS.sub("<api versions removed> ", text)
    return text


def comparison_failure(failure: dict[str, Any] | None, index: int,
                       count: int) -> dict[str, Any] | None:
    """The ``failure`` of an app's render-status entry: the source (0-based index), the kind,
    and what Argo CD's ComparisonError says after ``Failed to load target state: ``."""
    if not failure:
        return None
    return {"source": index, "kind": str(failure.get("kind", "")),
            "message": f"failed to generate manifest for source {index + 1} of {count}: "
                       f"{failure.get('message', '')}"}


def _fetch_url(url: str, tmp: str, deadline: float) -> str:
    """A values file from a URL (``--allow-remote``), for the library (the binary reads URLs)."""
    target = os.path.join(tmp, f"values-url-{len(os.listdir(tmp))}.yaml")
    try:
        with urllib.request.urlopen(url, timeout=max(deadline - time.monotonic(), 1)) as r, \
                open(target, "wb") as fh:  # http(s) only: checked by the plan
            fh.write(r.read(64 << 20))
    except (OSError, ValueError) as exc:
        raise HelmFailure(f"{FETCH_VALUES} {url}: {exc}") from None
    return target


def _args(plan: SourcePlan, helm: Helm, base: str, chart_dir: str, tmp: str,
          deadline: float) -> tuple[list[str], dict[str, str]]:
    """The ``helm template`` command line (Argo CD's ``util/helm/cmd.go`` order), and what its
    paths are called in Argo CD's messages."""
    h = plan.helm
    shown = {base: CACHED_SOURCE, plan.root: CACHED_SOURCE}
    if h.get("chart"):
        shown[chart_dir] = "."  # a pulled chart: Argo CD renders it in a folder of its own
    args = ["template", ".", "--name-template", h["release"]]
    if h["namespace"]:
        args += ["--namespace", h["namespace"]]
    if h.get("kube_version"):
        args += ["--kube-version", h["kube_version"]]
    for k, v in h["set"]:
        args += ["--set", f"{k}={_clean_set(v)}"]
    for k, v in h["set_string"]:
        args += ["--set-string", f"{k}={_clean_set(v)}"]
    for name, kind, rel in h["set_file"]:
        path = os.path.join(chart_dir if kind == "chart" else base, rel)
        args += ["--set-file", f"{name}={_clean_set(path)}"]
    for kind, rel in h["value_files"]:
        if kind == "url":
            args += ["--values", rel if helm.engine == "binary" else
                     _fetch_url(rel, tmp, deadline)]
            continue
        path = os.path.join(chart_dir if kind == "chart" else base, rel)
        if kind == "chart" and not os.path.exists(path) and h.get("ignore_missing"):
            continue
        args += ["--values", path]
    if h["values"]:
        extra = os.path.join(tmp, "values-from-spec.yaml")
        with open(extra, "w", encoding="utf-8") as fh:
            fh.write(h["values"])
        args += ["--values", extra]
        shown[extra] = VALUES_FILE
    for v in h.get("api_versions", []):
        args += ["--api-versions", v]
    if h["include_crds"]:
        args.append("--include-crds")
    if h["skip_schema_validation"]:
        args.append("--skip-schema-validation")
    if h["skip_tests"]:
        args.append("--skip-tests")
    return args, shown


def _chart(plan: SourcePlan, helm: Helm, tmp: str, deadline: float, env: dict[str, str],
           allow_remote: bool) -> str | Built:
    """The pulled chart unpacked (its folder), or why not (a Built)."""
    c = plan.helm["chart"]
    if not allow_remote and not cached_archive(helm.chart_cache, c["repo_url"], c["name"],
                                                c["version"]):
        return Built("remote", message=f"chart {c['name']} {c['version'] or '(latest)'} from "
                     f"{c['repo_url'] or '(no repoURL)'}: not fetched (offline): pass "
                     "--allow-remote to fetch it (kept in --chart-cache DIR for the next runs)")
    pulls: list[tuple[list[str], int, str]] = []

    def pull(args: list[str], cwd: str) -> tuple[int, str, str]:
        code, out, err = helm.run(args, cwd, deadline - time.monotonic(), env)
        pulls.append((args, code, err))
        return code, out, err

    try:
        archive, _ = fetch_chart(c["repo_url"], c["name"], c["version"],
                                 cache_dir=helm.chart_cache, allow_remote=allow_remote, tmp=tmp,
                                 run=pull)
        return unpack(archive, os.path.join(tmp, "chart"))
    except HelmFailure as exc:
        what = f"chart {c['name']} {c['version']} from {c['repo_url']}"
        cause = fetch_cause(str(exc))
        if cause:  # our network or credentials, not the repository: a coverage gap
            return Built("fetch-failed", message=fetch_message(cause, what, str(exc), chart=True))
        failure = None
        if pulls and pulls[-1][1] != 0:  # the repository answered: the repo server fails too
            args, code, err = pulls[-1]
            failure = {"kind": "helm", "message": _pull_error(args, code, err, tmp)}
        return Built("failed", message=f"{what}: {exc}: check the chart, its version and the "
                     "repository", failure=failure)


def _pull_error(args: list[str], code: int, err: str, tmp: str) -> str:
    """What the repo server answers when its ``helm pull`` fails (util/helm/client.go
    ExtractChart, util/helm/cmd.go Fetch / PullOCI and run)."""
    oci = any(a.startswith("oci://") for a in args)
    head = "error pulling OCI chart: failed to pull OCI chart" if oci else \
        "error fetching chart: failed to fetch chart"
    command = " ".join(["helm", *(_quote(a) for a in args)]).replace(tmp, "/tmp")
    return (f"rpc error: code = Unknown desc = {head}: failed running helm: `{command}` failed "
            f"exit status {code}: {err.strip()}")


def render_helm(plan: SourcePlan, helm: Helm, base: str, tmp: str, deadline: float,
                allow_remote: bool = False) -> Built:
    """``helm template`` of the copy ``base`` (``tmp``: scratch space); TimeoutError at the
    deadline (``time.monotonic``). A failed render's ``failure`` holds Argo CD's text."""
    home = os.path.join(tmp, "helm-home")
    env = {"HELM_CACHE_HOME": os.path.join(home, "cache"),
           "HELM_CONFIG_HOME": os.path.join(home, "config"),
           "HELM_DATA_HOME": os.path.join(home, "data")}
    if plan.helm.get("chart"):
        chart = _chart(plan, helm, tmp, deadline, env, allow_remote)
        if isinstance(chart, Built):
            return chart
        cwd = chart
    else:
        cwd = os.path.join(base, plan.path)
    try:
        args, shown = _args(plan, helm, base, cwd, tmp, deadline)
    except HelmFailure as exc:
        cause = fetch_cause(str(exc)) if str(exc).startswith(FETCH_VALUES) else None
        if cause:
            return Built("fetch-failed", message=fetch_message(cause, "a values file", str(exc)))
        return Built("failed", message=str(exc))
    code, out, err = helm.run(args, cwd, deadline - time.monotonic(), env)
    if code != 0 and allow_remote and any(m in err for m in _MISSING_DEPENDENCY):
        code, _, err = helm.run(["dependency", "build"], cwd, deadline - time.monotonic(), env)
        cause = fetch_cause(err) if code != 0 else None
        if cause:  # the dependencies could not be downloaded from here
            return Built("fetch-failed", message=fetch_message(
                cause, "helm dependency build", err.strip().removeprefix("Error: "), chart=True))
        if code == 0:
            code, out, err = helm.run(args, cwd, deadline - time.monotonic(), env)
    if code != 0:
        shown[tmp] = "/tmp"
        return Built("failed", message=err.strip() or f"helm exited with {code}",
                     failure={"kind": "helm", "message": argocd_error(args, code, err, shown)})
    return Built("ok", out)
