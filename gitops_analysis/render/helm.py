"""A Helm source: the options of ``helm template`` as Argo CD passes them, and the run.

The renderer is a ``helm`` 3 binary on PATH (what Argo CD runs); without one, a Helm source
gets status ``unsupported`` and says so.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from typing import Any

from gitops_analysis.core.errors import UsageError
from gitops_analysis.core.paths import inside, relative
from gitops_analysis.render.files import collect_files
from gitops_analysis.render.reading import mapping, read_single, strings
from gitops_analysis.render.results import Built, Refused, SourcePlan
from gitops_analysis.render.workers import binary_version, run

NO_HELM = "no helm renderer: install helm 3 on PATH"
HELM_CHOICES = ("auto", "none")
_MISSING_DEPENDENCY = ("found in Chart.yaml, but missing in charts/ directory",
                       "found in requirements.yaml, but missing in charts/ directory")


@dataclass(frozen=True)
class Helm:
    """The helm binary and its version."""

    path: str
    version: str


def find_helm(choice: str = "auto") -> Helm | None:
    """``auto``: the helm binary on PATH (None when there is none); ``none``: no helm."""
    if choice not in HELM_CHOICES:
        raise UsageError(f"helm renderer {choice!r}", todo="use auto or none")
    binary = shutil.which("helm") if choice == "auto" else None
    return Helm(binary, binary_version(binary, ["version", "--short"])) if binary else None


# --- planning ------------------------------------------------------------------------------

def _resolve_value_file(real_root: str, app_dir: str, value: str) -> str:
    """pathutil.ResolveValueFilePathOrUrl: relative to the app path; '/x': to the root."""
    if value.startswith("/"):
        return os.path.normpath(os.path.join(real_root, value.lstrip("/")))
    return os.path.normpath(os.path.join(app_dir, value))


def _stays_inside(real_root: str, target: str) -> bool:
    return inside(target, real_root) and inside(os.path.realpath(target), real_root)


def _value_files(helm: dict[str, Any], real_root: str, app_dir: str,
                 ref_roots: dict[str, str | None], allow_remote: bool,
                 extra: list[str], remote: list[str]) -> list[str]:
    """``helm.valueFiles``: relative to the root, or a URL (only with --allow-remote)."""
    value_files: list[str] = []
    for vf in strings(helm.get("valueFiles")):
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
        if not _stays_inside(real_root, target):
            raise Refused("escaped", f"helm.valueFiles {vf} leaves the repository: refused; "
                          "keep the values file inside the repository", "helm")
        if not os.path.exists(target) and helm.get("ignoreMissingValueFiles") is True:
            continue
        value_files.append(relative(target, real_root))
        extra.append(target)
    return value_files


def _file_parameters(helm: dict[str, Any], real_root: str, app_dir: str,
                     extra: list[str]) -> list[tuple[str, str]]:
    """``helm.fileParameters``: (name, file relative to the root)."""
    set_files: list[tuple[str, str]] = []
    params = helm.get("fileParameters")
    for p in params if isinstance(params, list) else []:
        if not isinstance(p, dict) or not isinstance(p.get("path"), str):
            continue
        target = _resolve_value_file(real_root, app_dir, p["path"])
        if not _stays_inside(real_root, target):
            raise Refused("escaped", f"helm.fileParameters {p['path']} leaves the repository: "
                          "refused; keep the file inside the repository", "helm")
        set_files.append((str(p.get("name", "")), relative(target, real_root)))
        extra.append(target)
    return sorted(set_files)


def _dependency_folders(real_root: str, app_dir: str, allow_remote: bool,
                        remote: list[str]) -> list[str]:
    """The folders of the chart's ``file://`` dependencies; a dependency from a repository that
    is not in ``charts/`` is remote."""
    chart_file = os.path.join(app_dir, "Chart.yaml")
    read = read_single(chart_file, relative(chart_file, real_root)) \
        if os.path.isfile(chart_file) else None
    chart = mapping(read[1]) if isinstance(read, tuple) else {}  # helm reports a bad Chart.yaml
    deps = chart.get("dependencies")
    charts_dir = os.path.join(app_dir, "charts")
    present = os.listdir(charts_dir) if os.path.isdir(charts_dir) else []
    folders: list[str] = []
    for dep in deps if isinstance(deps, list) else []:
        if not isinstance(dep, dict):
            continue
        name, repo = str(dep.get("name") or ""), str(dep.get("repository") or "")
        if repo.startswith("file://"):
            target = os.path.normpath(os.path.join(app_dir, repo[len("file://"):]))
            if not _stays_inside(real_root, target):
                raise Refused("escaped", f"{relative(chart_file, real_root)}: dependency {name} "
                              f"({repo}) leaves the repository: refused; keep it inside", "helm")
            folders.append(os.path.realpath(target))
        elif repo and not any(p == name or (p.startswith(name + "-") and p.endswith(".tgz"))
                              for p in present):
            if not allow_remote:
                raise Refused("remote", f"{relative(chart_file, real_root)}: dependency {name} "
                              f"from {repo} is not in charts/: not fetched (offline): pass "
                              "--allow-remote to fetch it", "helm")
            remote.append(repo)
    return folders


def plan_helm(plan: SourcePlan, real_root: str, app_dir: str, source: dict[str, Any],
              app_name: str, dest_namespace: str, ref_roots: dict[str, str | None],
              allow_remote: bool) -> None:
    """The options of ``helm template`` as Argo CD's ``helmTemplate`` builds them."""
    helm = mapping(source.get("helm"))
    plan.type, plan.renderer = "helm", "helm"
    extra: list[str] = []
    remote: list[str] = []
    value_files = _value_files(helm, real_root, app_dir, ref_roots, allow_remote, extra, remote)
    set_files = _file_parameters(helm, real_root, app_dir, extra)
    folders = [app_dir, *_dependency_folders(real_root, app_dir, allow_remote, remote)]
    plan.files = collect_files(real_root, folders, extra)
    plan.remote = remote

    values_text = ""
    if isinstance(helm.get("valuesObject"), (dict, list)):
        values_text = json.dumps(helm["valuesObject"], sort_keys=True, ensure_ascii=False) + "\n"
    elif isinstance(helm.get("values"), str) and helm["values"].strip():
        values_text = helm["values"]
    params = helm.get("parameters")
    sets: dict[str, str] = {}
    set_strings: dict[str, str] = {}
    for p in params if isinstance(params, list) else []:
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
        "set_file": set_files,
        "include_crds": helm.get("skipCrds") is not True,
        "skip_tests": helm.get("skipTests") is True,
        "skip_schema_validation": helm.get("skipSchemaValidation") is True,
    }


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


def render_helm(plan: SourcePlan, helm: Helm, base: str, tmp: str, deadline: float) -> Built:
    """``helm template`` in the copy ``base`` (``tmp``: scratch space); TimeoutError at the
    deadline (``time.monotonic``)."""
    h = plan.helm
    args = [helm.path, "template", ".", "--name-template", h["release"]]
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
    code, out, err = run(args, cwd, deadline - time.monotonic(), env)
    if code != 0 and any(m in err for m in _MISSING_DEPENDENCY):
        code, _, err = run([helm.path, "dependency", "build"], cwd,
                           deadline - time.monotonic(), env)
        if code == 0:
            code, out, err = run(args, cwd, deadline - time.monotonic(), env)
    if code != 0:
        return Built("failed", message=err.strip() or f"helm exited with {code}")
    return Built("ok", out)
