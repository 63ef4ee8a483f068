"""The records ``render`` passes around: a source's plan, a build, an app's result, the run's.

Render statuses (``schema.RENDER_STATUSES``): ok; external (a repository that is not REPO);
remote (a remote base, chart or values file, not fetched without ``--allow-remote``);
unsupported (jsonnet, config-management plugins, no helm renderer, ...); failed (the renderer's
own message, or the time limit); escaped (a path or symbolic link that leaves the repository).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: the worst status first: an app with several sources gets the worst of theirs
SEVERITY = ("escaped", "failed", "remote", "unsupported", "external", "ok")


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
    helm: dict[str, Any] = field(default_factory=dict)  # helm template options (see plan_helm)
    directory_files: list[str] = field(default_factory=list)  # manifests, in Argo CD's order


@dataclass
class Built:
    """What one source rendered to: its status, the output (when ok) or the message."""

    status: str
    text: str | None = None
    message: str = ""
    cached: bool = False
    # a failure Argo CD would show as a ComparisonError: {"kind", "message"} (render.helm)
    failure: dict[str, Any] | None = None


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
    # the first source whose failure Argo CD would show as a ComparisonError:
    # {"source": index, "kind": "helm", "message": <the text after 'Failed to load target
    # state: '>} (render.helm.comparison_failure)
    failure: dict[str, Any] | None = None

    def status_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "status": self.status, "renderer": self.renderer, "version": self.version,
            "message": self.message, "source_types": list(self.source_types)}
        if self.failure:
            entry["failure"] = dict(self.failure)
        return entry

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

    def summary(self) -> str:
        """The closing line of the progress output."""
        cached = sum(a.cached for a in self.apps)
        counts = ", ".join(f"{n} {s}" for s, n in self.counts().items())
        return (f"render: {len(self.apps)} apps in {self.seconds:.2f} s: {counts} "
                f"({cached} from the cache)")


def one_line(text: str) -> str:
    """A message on one line: every run of whitespace becomes one space."""
    return " ".join(str(text).split())
