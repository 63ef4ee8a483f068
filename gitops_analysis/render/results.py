"""The records ``render`` passes around: a source's plan, a build, an app's result, the run's.

Render statuses (``schema.RENDER_STATUSES``): ok; external (a repository that is not REPO);
remote (a remote base, chart or values file, not fetched without ``--allow-remote``);
unsupported (jsonnet, config-management plugins, no helm renderer, ...); failed (the renderer's
own message, or the time limit); fetch-failed (``--allow-remote`` was given but the fetch failed
for a reason of this machine: DNS, connection, TLS, 401/403; see
:mod:`~gitops_analysis.render.fetch`); escaped (a path or symbolic link that leaves the repository).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_analysis.core.words import plural

#: the worst status first: an app with several sources gets the worst of theirs
SEVERITY = ("escaped", "failed", "fetch-failed", "remote", "unsupported", "external", "ok")


def repo_server_error(text: str, kind: str, code: str = "Unknown") -> dict[str, str]:
    """A failure as the controller receives it from the repo server: a plain error becomes
    ``rpc error: code = Unknown desc = <text>`` (util/grpc/sanitizer.go); errors that carry a
    gRPC status keep their code (FailedPrecondition for manifests that do not parse)."""
    return {"kind": kind, "message": f"rpc error: code = {code} desc = {text}"}


class Refused(Exception):
    """A source that is not rendered: its render status and the message saying why."""

    def __init__(self, status: str, message: str, type_: str = "unknown",
                 failure: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.failure = failure  # when Argo CD fails the same way: {"kind", "message"}


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
    # True: the build adds buildMetadata originAnnotations (no kustomization reached asks for
    # it): config.kubernetes.io/origin in its output is ours, not the source's
    origin_added: bool = False
    # helmCharts from --chart-cache: (folder relative to root where kustomize looks, archive)
    cached_charts: list[tuple[str, str]] = field(default_factory=list)
    helm: dict[str, Any] = field(default_factory=dict)  # helm template options (see plan_helm)
    directory_files: list[str] = field(default_factory=list)  # manifests, in Argo CD's order
    failure: dict[str, Any] | None = None  # a refusal Argo CD's repo server makes too


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
    appset: str = ""  # the ApplicationSet that generated it (<namespace>/<name>)
    appset_params: dict[str, Any] | None = None  # the generator's parameter set
    rollout_step: int = 0  # RollingSync step, 1-based; 0: none
    # the origin annotations of its output are all ours (see SourcePlan.origin_added): left
    # out of the Applications it holds when they are written to apps/
    origin_added: bool = False

    def status_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "status": self.status, "renderer": self.renderer, "version": self.version,
            "message": self.message, "source_types": list(self.source_types)}
        if self.failure:
            entry["failure"] = dict(self.failure)
        if self.appset:
            entry["appset"] = self.appset
            entry["appset_params"] = jsonable(self.appset_params or {})
            if self.rollout_step:
                entry["rollout_step"] = self.rollout_step
        return entry

    def line(self) -> str:
        if self.status == "ok":
            return f"{self.name}: ok: {plural(self.documents, 'document')} ({self.renderer})"
        return f"{self.name}: {self.status}: {self.message}"


@dataclass
class AppSetStatus:
    """What happened to one ApplicationSet: the Applications it generated, Argo CD's condition
    (an error Argo CD would report), what could not be expanded offline (gaps)."""

    name: str  # <namespace>/<name>
    where: str  # file:line, or "rendered by <parent> (...)"
    parent: str = ""  # the app whose output held it
    applications: list[str] = field(default_factory=list)  # generated and created, by key
    skipped: list[str] = field(default_factory=list)  # generated, left out by validation
    condition: dict[str, str] | None = None  # {type, reason, message}
    gaps: list[dict[str, str]] = field(default_factory=list)  # {generator, message}
    warnings: list[str] = field(default_factory=list)  # what Argo CD only logs
    rolling_steps: list[dict[str, Any]] = field(default_factory=list)
    complete: bool = True  # False: some generator could not be expanded offline

    def status_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "where": self.where, "parent": self.parent, "applications": list(self.applications),
            "skipped": list(self.skipped), "condition": self.condition,
            "gaps": [dict(g) for g in self.gaps], "complete": self.complete}
        if self.warnings:
            entry["warnings"] = list(self.warnings)
        if self.rolling_steps:
            entry["rolling_steps"] = jsonable(self.rolling_steps)
        return entry

    def lines(self) -> list[str]:
        out = []
        if self.condition:
            kind = self.condition["type"] or "not reconciled"
            out.append(f"{self.where}: ApplicationSet {self.name}: {kind} "
                       f"{self.condition['reason']}: {one_line(self.condition['message'])}")
        for gap in self.gaps:
            out.append(f"{self.where}: ApplicationSet {self.name}: not expanded offline: "
                       f"{one_line(gap['message'])}")
        if not (self.condition or self.gaps or self.applications or self.skipped):
            # Argo CD creates nothing then, and says nothing either
            out.append(f"{self.where}: ApplicationSet {self.name}: generated no Application: "
                       "its generators gave no parameters (an empty list, a clusters selector "
                       "that matches no cluster, a git path that matches nothing)")
        return out


@dataclass
class Unreachable:
    """An Application or ApplicationSet file that no root reaches: not rendered."""

    kind: str  # Application | ApplicationSet
    name: str  # <namespace>/<name>
    file: str
    line: int

    def status_entry(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "file": self.file, "line": self.line}

    def line_text(self) -> str:
        return (f"{self.file}:{self.line}: {self.kind} {self.name}: unreachable: no root "
                "Application or ApplicationSet reaches it: not rendered; pass it with --apps "
                "to render it anyway")


@dataclass
class RenderReport:
    """Every app rendered (sorted by name), and where the dataset was written."""

    out: Path
    apps: list[AppRender]
    seconds: float = 0.0
    appsets: list[AppSetStatus] = field(default_factory=list)
    unreachable: list[Unreachable] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 when every app rendered and every ApplicationSet was expanded, 1 when some app
        did not render (status other than ok) or some ApplicationSet could not be expanded."""
        ok = all(a.status == "ok" for a in self.apps) and all(s.complete for s in self.appsets)
        return 0 if ok else 1

    def by_name(self) -> dict[str, AppRender]:
        return {a.name: a for a in self.apps}

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for a in self.apps:
            out[a.status] = out.get(a.status, 0) + 1
        return dict(sorted(out.items()))

    def lines(self) -> list[str]:
        out = [a.line() for a in self.apps]
        for s in self.appsets:
            out += s.lines()
        out += [u.line_text() for u in self.unreachable]
        return out

    def summary(self) -> str:
        """The closing line of the progress output."""
        cached = sum(a.cached for a in self.apps)
        counts = ", ".join(f"{n} {s}" for s, n in self.counts().items())
        extra = ""
        if self.appsets:
            extra += f"; {plural(len(self.appsets), 'ApplicationSet')}"
            partial = sum(not s.complete for s in self.appsets)
            if partial:
                extra += f" ({partial} not fully expanded)"
        if self.unreachable:
            extra += f"; {plural(len(self.unreachable), 'unreachable file')} not rendered"
        done = f": {counts} ({cached} from the cache)" if self.apps else ""
        return f"render: {plural(len(self.apps), 'app')} in {self.seconds:.2f} s{done}{extra}"


def jsonable(value: Any) -> Any:
    """Data as JSON holds it: tuples as lists, keys as strings."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def one_line(text: str) -> str:
    """A message on one line: every run of whitespace becomes one space."""
    return " ".join(str(text).split())
