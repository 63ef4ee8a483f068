"""Kustomization files: what they name, what a build of one can read, and the copy it builds.

Before any renderer runs, a kustomization tree is scanned for remote bases and for paths that
leave the repository (refused as ``remote`` / ``escaped``), and every file the build can read
is listed: the folders of every kustomization reached (with kustomize's default load
restrictions a kustomization reads nothing outside its own folder, so these subtrees are all it
can read). The copy that is built gets ``buildMetadata: [originAnnotations]``, so that each
resource carries ``config.kubernetes.io/origin``; the user's files are never written.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from gitops_analysis.core.paths import inside, relative
from gitops_analysis.load.yaml_reader import Remark
from gitops_analysis.render.files import collect_files
from gitops_analysis.render.helm_remote import cached_archive
from gitops_analysis.render.reading import mapping, read_single, strings
from gitops_analysis.render.results import Refused, SourcePlan

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_REMOTE_PREFIXES = ("http://", "https://", "git::", "ssh://", "oci://", "git@", "file://",
                    "github.com/", "gitlab.com/", "bitbucket.org/", "dev.azure.com/")
_HOST_PATH = re.compile(r"^[a-z0-9][a-z0-9.-]*\.[a-z]{2,}(:\d+)?/")
# spec.source.kustomize fields that Argo CD applies with `kustomize edit` before it builds
_KUSTOMIZE_OVERRIDES = ("namePrefix", "nameSuffix", "images", "replicas", "commonLabels",
                        "commonAnnotations", "namespace", "components", "patches")


def looks_remote(entry: str, base_dir: str) -> bool:
    """Whether kustomize would fetch ``entry`` (a URL, a remote repository), not read a file."""
    s = entry.strip()
    low = s.lower()
    if low.startswith(_REMOTE_PREFIXES):
        return True
    if os.path.lexists(os.path.join(base_dir, s)):
        return False
    return "?ref=" in s or "//" in s.lstrip("/") or bool(_HOST_PATH.match(low))


def _line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return 0


def _kustomization_entries(data: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(field, entry, may be a kustomization folder) of every path a kustomization names."""
    out: list[tuple[str, str, bool]] = []
    for f in ("resources", "bases", "components", "generators", "transformers", "validators"):
        out += [(f, e, True) for e in strings(data.get(f))]
    for f in ("crds", "configurations", "patchesStrategicMerge"):
        out += [(f, e, False) for e in strings(data.get(f))]
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
            for e in strings(item.get("files")):
                out.append((f, e.split("=", 1)[-1], False))
            for e in strings(item.get("envs")) + strings(item.get("env")):
                out.append((f, e, False))
    charts = data.get("helmCharts")
    for item in charts if isinstance(charts, list) else []:
        if isinstance(item, dict):
            for e in strings(item.get("valuesFile")) + strings(item.get("additionalValuesFiles")):
                out.append(("helmCharts", e, False))
    # an inline patch or generator config is not a path
    return [(f, e, d) for f, e, d in out if e.strip() and "\n" not in e]


def read_kustomization(path: str) -> tuple[str, dict[str, Any]] | None:
    """(text, mapping) of a kustomization file; None when it cannot be read as one (the
    renderer then says what is wrong with it)."""
    read = read_single(path, path)
    if isinstance(read, Remark) or not isinstance(read[1], dict):
        return None
    return read


def kustomization_file(directory: str) -> str | None:
    """The kustomization file of a folder, in the order kustomize looks for one."""
    for name in KUSTOMIZATION_FILES:
        p = os.path.join(directory, name)
        if os.path.isfile(p):
            return p
    return None


def scan_kustomization(real_root: str, app_dir: str, allow_remote: bool, chart_cache: str = "",
                       cached: list[tuple[str, str]] | None = None
                       ) -> tuple[list[str], list[str], bool]:
    """Every kustomization folder reached from ``app_dir``, the remote references, helmCharts.

    Raises Refused ``escaped`` for a path that leaves the repository, and ``remote`` for a
    remote reference when ``allow_remote`` is false, before any renderer runs. A helmCharts
    chart that ``chart_cache`` holds is no refusal, as for a chart source: (the folder,
    relative to ``real_root``, where kustomize looks for it; the archive) goes to ``cached``.
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
        where_file = relative(kfile, real_root)
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
            if not inside(target, real_root):
                raise Refused("escaped", f"{where}: {f} entry {entry} leaves the repository: "
                              "refused; keep every path inside the repository", "kustomize")
            real = os.path.realpath(target)
            if not inside(real, real_root):
                raise Refused("escaped", f"{where}: {f} entry {entry} is a symbolic link that "
                              "leaves the repository: refused; copy its target into the "
                              "repository", "kustomize")
            if may_be_folder and os.path.isdir(real):
                stack.append(real)
        charts = data.get("helmCharts")
        if isinstance(charts, list) and charts:
            needs_helm = True
            home = mapping(data.get("helmGlobals")).get("chartHome")
            if not isinstance(home, str):
                home = "charts"
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
                    archive = cached_archive(chart_cache, repo, name, version)
                    if archive and cached is not None:
                        # kustomize's absChartHome: <chartHome>/<name>-<version> with a version
                        home_dir = os.path.join(folder, home, f"{name}-{version}" if version
                                                else "")
                        cached.append((relative(os.path.normpath(home_dir), real_root),
                                       archive))
                    elif not allow_remote:
                        raise Refused("remote", f"{where}: helm chart {name} "
                                      f"{version or '(latest)'} from {repo}: not fetched "
                                      "(offline): pass --allow-remote to fetch it (kept in "
                                      "--chart-cache DIR for the next runs)", "kustomize")
                    remote.append(repo)
    return folders, remote, needs_helm


def plan_kustomize(plan: SourcePlan, real_root: str, app_dir: str, source: dict[str, Any],
                   allow_remote: bool, chart_cache: str = "") -> None:
    """A kustomize source: refused when it needs what is not done here, else every file its
    build reads."""
    options = mapping(source.get("kustomize"))
    applied = [k for k in _KUSTOMIZE_OVERRIDES if options.get(k)]
    if applied:
        raise Refused("unsupported", "spec.source.kustomize." + ", ".join(applied) + " (Argo CD "
                      "applies it with `kustomize edit`) is not applied by gitops-analysis "
                      "render: move it into the kustomization", "kustomize")
    folders, remote, needs_helm = scan_kustomization(real_root, app_dir, allow_remote,
                                                     chart_cache, plan.cached_charts)
    plan.type, plan.renderer = "kustomize", "kustomize"
    kfile = kustomization_file(app_dir)
    plan.kustomization = relative(kfile, real_root) if kfile else ""
    plan.files = collect_files(real_root, folders)
    plan.origin_added = not any(_asks_for_origins(f) for f in folders)
    plan.remote = remote
    plan.needs_helm = needs_helm


def _asks_for_origins(folder: str) -> bool:
    """Whether the kustomization of ``folder`` itself has ``buildMetadata: [originAnnotations]``."""
    kfile = kustomization_file(folder)
    read = read_kustomization(kfile) if kfile else None
    current = read[1].get("buildMetadata") if read else None
    return isinstance(current, list) and "originAnnotations" in current


def add_origin_annotations(path: str) -> None:
    """``buildMetadata: [originAnnotations]`` into a (copied) kustomization file."""
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
