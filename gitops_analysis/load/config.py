"""The project's configuration: ``.gitops-analysis.toml`` at the repository root, or the table
``[tool.gitops-analysis]`` of its ``pyproject.toml`` (read with :mod:`tomllib`).

Every key is optional::

    select = ["GA101", "crd-late"]        # report only these rules (ids or slugs)
    ignore = ["GA401"]                    # never report these
    cluster-api = "cluster/api-resources.txt"    # 'kubectl api-resources -o wide' output
    cluster-namespaces = ["istio-system"]        # namespaces the cluster already has (or a
                                                 # file: 'kubectl get namespaces -o name')
    control-plane-namespace = "argocd"    # where Argo CD runs (Applications without a namespace)
    repo-map = {"https://git.example/org/charts.git" = "../charts"}

    [severity]                            # a rule's findings at another severity
    GA402 = "error"

    [per-app-ignores]                     # app (<namespace>/<name>, a glob) -> rules; "*": all
    "argocd/legacy-*" = ["GA101"]

    [per-path-ignores]                    # repository file (a glob) -> rules
    "apps/legacy/*" = ["*"]

Paths are relative to the folder of the file that names them. Globs are shell-style
(:func:`fnmatch.fnmatchcase`; ``*`` matches ``/`` too). Rule names are checked against the
registry by :mod:`gitops_analysis.rules.policy`, which applies the configuration; this module
only reads it. Command-line flags (``--select``, ``--ignore``, ``--config``) win over the file.
A problem is an :class:`~gitops_analysis.core.errors.InputError` at its line.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from gitops_analysis.core.errors import InputError
from gitops_analysis.core.findings import SEVERITIES

FILE_NAME = ".gitops-analysis.toml"
PYPROJECT = "pyproject.toml"
TOOL = "gitops-analysis"
KEYS = ("select", "ignore", "severity", "per-app-ignores", "per-path-ignores", "cluster-api",
        "cluster-namespaces", "control-plane-namespace", "repo-map")
ALL_RULES = "*"
MAX_CONFIG_BYTES = 1 << 20

Ignores = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Config:
    """A configuration as read (rule names not yet checked: see rules.policy)."""

    file: str = ""  # the file it was read from ('' when there was none)
    select: tuple[str, ...] | None = None  # None: every rule
    ignore: tuple[str, ...] = ()
    severity: tuple[tuple[str, str], ...] = ()
    per_app_ignores: Ignores = ()
    per_path_ignores: Ignores = ()
    cluster_api: str | None = None  # a path, relative to the working directory or absolute
    cluster_namespaces: str | tuple[str, ...] | None = None  # a file, or names
    control_plane_namespace: str | None = None
    repo_map: tuple[tuple[str, str], ...] = ()
    lines: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def line_of(self, *needles: str) -> int | None:
        """The first line of the file that holds every needle (for ``file:line`` errors)."""
        for number, line in enumerate(self.lines, start=1):
            if all(n in line for n in needles):
                return number
        return None

    def error(self, what: str, *needles: str, todo: str) -> InputError:
        return InputError(what, file=self.file or None, line=self.line_of(*needles) if needles
                          else None, todo=todo)

    def with_flags(self, *, select: Sequence[str] | None = None,
                   ignore: Sequence[str] | None = None) -> Config:
        """``--select``/``--ignore`` of the command line (comma-separated allowed) win."""
        out = self
        if select:
            out = replace(out, select=_split(select))
        if ignore:
            out = replace(out, ignore=_split(ignore))
        return out

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("lines")
        return data

    def digest(self) -> str:
        """What the configuration says, as a short digest (cache keys)."""
        blob = json.dumps(self.as_dict(), sort_keys=True).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()[:16]


def _split(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(v.strip() for value in values for v in str(value).split(",") if v.strip())


def find_config(start: str | Path) -> Path | None:
    """The configuration file of ``start`` or the nearest folder above it, stopping at the root
    of a git checkout: ``.gitops-analysis.toml``, else a ``pyproject.toml`` with the table."""
    folder = Path(start).resolve()
    if folder.is_file():
        folder = folder.parent
    for d in (folder, *folder.parents):
        if (d / FILE_NAME).is_file():
            return d / FILE_NAME
        pyproject = d / PYPROJECT
        if pyproject.is_file() and _has_tool_table(pyproject):
            return pyproject
        if (d / ".git").exists():
            return None
    return None


def _has_tool_table(path: Path) -> bool:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False  # a pyproject.toml that is not ours to judge
    return isinstance(data.get("tool"), dict) and TOOL in data["tool"]


def load_config(path: str | Path | None) -> Config:
    """Read a configuration file (``.gitops-analysis.toml`` or ``pyproject.toml``); None -> the
    empty configuration."""
    if path is None:
        return Config()
    p = Path(path)
    display = str(path)
    try:
        if not p.is_file():
            raise InputError("no such file" if not p.exists() else "not a regular file",
                             file=display, todo="pass a .gitops-analysis.toml to --config")
        if p.stat().st_size > MAX_CONFIG_BYTES:
            raise InputError("larger than 1 MiB", file=display, todo="keep the configuration short")
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError("not UTF-8", file=display, todo="save the file as UTF-8") from None
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror})", file=display,
                         todo="check the path") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        what, _, at = str(exc).partition(" (at line ")
        line = int(at.split(",")[0]) if at.split(",")[0].isdigit() else None
        raise InputError(f"not valid TOML ({what})", file=display, line=line,
                         todo="fix the TOML syntax") from None
    lines = tuple(text.splitlines())
    if p.name == PYPROJECT:
        tool = data.get("tool")
        table = tool.get(TOOL) if isinstance(tool, dict) else None
        if table is None:
            raise InputError(f"no [tool.{TOOL}] table", file=display,
                             todo=f"add [tool.{TOOL}] or use a {FILE_NAME}")
        if not isinstance(table, dict):
            raise InputError(f"tool.{TOOL} is not a table", file=display,
                             line=_find(lines, f"{TOOL}"), todo=f"write it as [tool.{TOOL}]")
        data = table
    return _parse(data, Config(file=display, lines=lines), p.resolve().parent)


def _find(lines: tuple[str, ...], needle: str) -> int | None:
    return next((i for i, line in enumerate(lines, start=1) if needle in line), None)


def _strings(cfg: Config, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise cfg.error(f"{key} is not a list of strings", key,
                        todo=f'write it as {key} = ["GA101", "shared-crd"]')
    return _split(value)


def _table(cfg: Config, key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise cfg.error(f"{key} is not a table", key, todo=f"write it as [{key}] with entries")
    return value


def _ignores(cfg: Config, key: str, value: Any) -> Ignores:
    out = []
    for pattern, rules in sorted(_table(cfg, key, value).items()):
        if not pattern:
            raise cfg.error(f"{key}: an empty pattern", key, todo="name apps or paths (globs)")
        out.append((pattern, _strings(cfg, f"{key}.{pattern}", rules)))
    return tuple(out)


def _path(base: Path, value: str) -> str:
    """A path of the file, relative to its folder; absolute when given so."""
    p = Path(os.path.expanduser(value))
    return str(p if p.is_absolute() else base / p)


def _parse(data: dict[str, Any], cfg: Config, base: Path) -> Config:
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise cfg.error(f"unknown key {unknown[0]!r}", unknown[0],
                        todo="use one of " + ", ".join(KEYS))
    fields: dict[str, Any] = {}
    if "select" in data:
        fields["select"] = _strings(cfg, "select", data["select"])
    if "ignore" in data:
        fields["ignore"] = _strings(cfg, "ignore", data["ignore"])
    if "severity" in data:
        sev = []
        for rule, level in sorted(_table(cfg, "severity", data["severity"]).items()):
            if level not in SEVERITIES:
                raise cfg.error(f"severity of {rule} is {level!r}", rule,
                                todo="use one of " + ", ".join(SEVERITIES))
            sev.append((rule, str(level)))
        fields["severity"] = tuple(sev)
    if "per-app-ignores" in data:
        fields["per_app_ignores"] = _ignores(cfg, "per-app-ignores", data["per-app-ignores"])
    if "per-path-ignores" in data:
        fields["per_path_ignores"] = _ignores(cfg, "per-path-ignores", data["per-path-ignores"])
    if "cluster-api" in data:
        if not isinstance(data["cluster-api"], str) or not data["cluster-api"]:
            raise cfg.error("cluster-api is not a path", "cluster-api",
                            todo="name the 'kubectl api-resources -o wide' output file")
        fields["cluster_api"] = _path(base, data["cluster-api"])
    if "cluster-namespaces" in data:
        fields["cluster_namespaces"] = _namespaces(cfg, data["cluster-namespaces"], base)
    if "control-plane-namespace" in data:
        ns = data["control-plane-namespace"]
        if not isinstance(ns, str) or not ns:
            raise cfg.error("control-plane-namespace is not a namespace",
                            "control-plane-namespace", todo='write it as "argocd"')
        fields["control_plane_namespace"] = ns
    if "repo-map" in data:
        pairs = []
        for url, folder in sorted(_table(cfg, "repo-map", data["repo-map"]).items()):
            if not isinstance(folder, str) or not folder:
                raise cfg.error(f"repo-map {url} is not a folder", url,
                                todo="map the URL to the folder of a local checkout")
            pairs.append((url, _path(base, folder)))
        fields["repo_map"] = tuple(pairs)
    return replace(cfg, **fields)


def _namespaces(cfg: Config, value: Any, base: Path) -> str | tuple[str, ...]:
    """A list of names, or the path of a ``kubectl get namespaces -o json|yaml|name`` file
    (read by the loader, :func:`~gitops_analysis.load.cluster.load_cluster_namespaces`)."""
    if isinstance(value, list):
        return tuple(sorted(set(_strings(cfg, "cluster-namespaces", value))))
    if not isinstance(value, str) or not value:
        raise cfg.error("cluster-namespaces is not a list or a file", "cluster-namespaces",
                        todo='write it as ["kube-system", "istio-system"] or name a file')
    return _path(base, value)


def config_for(start: str | Path | None, explicit: str | Path | None) -> Config:
    """``--config`` when given, else the file found from ``start`` upwards, else nothing."""
    if explicit is not None:
        return load_config(explicit)
    found = find_config(start) if start is not None else None
    return load_config(found)
