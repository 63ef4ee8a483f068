"""What the offline expansion of an ApplicationSet takes and gives.

An expansion ends in one of three ways, as Argo CD's controller would:

- Applications generated, some perhaps left out by validation (``condition`` then holds
  ``ApplicationValidationError`` and the message Argo CD sets);
- an error that stops the reconcile before anything is created (a generator or template error:
  ``applications`` is empty and ``condition`` holds Argo CD's reason and message);
- not known offline (``gaps``): a generator that needs an API or a controller (SCM provider,
  pull request, cluster decision resource, plugin), a repository that is not here, a template
  function whose result changes on every reconcile. Then ``applications`` is None when nothing
  could be generated, else the part that could (``complete`` is False).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitops_analysis.load.clusters import ClusterSecret

# Argo CD's condition reasons (pkg/apis/application/v1alpha1/applicationset_types.go)
GENERATION_ERROR = "ApplicationGenerationFromParamsError"
RENDER_ERROR = "RenderTemplateParamsError"
VALIDATION_ERROR = "ApplicationValidationError"
ERROR_OCCURRED = "ErrorOccurred"


class AppSetError(Exception):
    """An error Argo CD's controller reports, with its message.

    ``kind``: ``generator`` (reason ApplicationGenerationFromParamsError), ``template``
    (RenderTemplateParamsError), ``panic`` (the controller recovers from a panic, logs it and
    sets no condition).
    """

    def __init__(self, message: str, kind: str = "generator") -> None:
        self.message = message
        self.kind = kind
        super().__init__(message)

    def wrap(self, prefix: str) -> AppSetError:
        """The same error inside Go's ``fmt.Errorf("<prefix>: %w", err)``."""
        return AppSetError(f"{prefix}: {self.message}", self.kind)


class OfflineGap(Exception):
    """Something the offline expansion cannot know (not an Argo CD error)."""

    def __init__(self, message: str, generator: str = "") -> None:
        self.message = message
        self.generator = generator
        super().__init__(message)


@dataclass(frozen=True)
class Condition:
    """An ApplicationSet status condition as Argo CD sets it."""

    type: str  # ErrorOccurred; "" for a panic the controller only logs
    reason: str
    message: str


@dataclass(frozen=True)
class Gap:
    """What could not be expanded offline, and why (our message, not Argo CD's)."""

    generator: str  # pullRequest, scmProvider, ..., or "" (a template, a repository)
    message: str


@dataclass
class GeneratedApp:
    """One Application the ApplicationSet generates."""

    name: str
    namespace: str
    manifest: dict[str, Any]  # apiVersion, kind, metadata, spec: what Argo CD creates
    params: dict[str, Any]  # the generator's parameter set it was rendered from
    generator: int  # index in spec.generators
    #: the RollingSync step that selects it (0-based), None: no step (or no RollingSync)
    rolling_step: int | None = None


@dataclass
class Expansion:
    """The outcome of expanding one ApplicationSet."""

    name: str
    namespace: str
    file: str
    line: int
    go_template: bool
    applications: list[GeneratedApp] | None  # created ones, sorted by name
    condition: Condition | None = None
    gaps: list[Gap] = field(default_factory=list)
    skipped: list[GeneratedApp] = field(default_factory=list)  # left out by validation
    warnings: list[str] = field(default_factory=list)  # what Argo CD only logs
    #: strategy.rollingSync.steps, as written (progressive syncs)
    rolling_steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.gaps

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class ExpandContext:
    """What the expansion may read: local checkouts, cluster Secrets, known projects."""

    #: ``url_key(repoURL)`` -> local folder (see render.repositories)
    repos: dict[str, str] = field(default_factory=dict)
    #: the ``--clusters`` Secrets; None: not given (a clusters generator is then a gap)
    clusters: list[ClusterSecret] | None = None
    argocd_namespace: str = "argocd"
    #: AppProject names that exist; None: unknown (the project check is skipped)
    projects: frozenset[str] | None = None
    #: the controller's --enable-new-git-file-globbing
    new_git_file_globbing: bool = False
    #: the repo server's --include-hidden-directories
    include_hidden_directories: bool = False


@dataclass(frozen=True)
class AppSetInfo:
    """What the generators read from the ApplicationSet itself."""

    name: str
    namespace: str
    go_template: bool
    mode: str  # missingkey: default, zero, error
    project: str  # spec.template.spec.project as written (the Git generator reads it)
