"""The typed finding: what a rule predicts, with the failure chain as structured steps.

Rules build findings through :func:`finding` only; the rule registry collects them into one
frame (a row per finding, the columns below), and views turn a chain into text. Nothing reads
a message to learn what a finding means: every fact a later stage needs is a field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

SEVERITIES = ("error", "warning", "info")
# certain: everything the finding depends on was analysed. unproven: something not analysed
# could supply what the finding says is missing (a CRD, a namespace, a Service); at most a
# warning, and ``could_come_from`` names the apps that might.
CONFIDENCES = ("certain", "unproven")


@dataclass(frozen=True, order=True)
class ChainStep:
    """One link of a failure chain, read from the failing app back to the root cause.

    Every step but the last names what ``app`` needs from the app of the next step
    (``kind`` ``CustomResourceDefinition``, ``Namespace`` or ``Service``; ``name`` the CRD's
    ``group/Kind``, the namespace, or the Service's ``namespace/name``). The last step is the
    root: ``condition`` is the Argo CD condition (or rule slug) it fails with, ``kind`` and
    ``name`` are empty.
    """

    app: str
    kind: str = ""
    name: str = ""
    condition: str = ""

    @property
    def is_root(self) -> bool:
        return bool(self.condition)


Chain = tuple[ChainStep, ...]


@dataclass(frozen=True)
class Finding:
    """One predicted condition of one app (or of the whole dataset when ``app`` is empty)."""

    rule: str
    slug: str
    severity: str
    argocd_condition: str
    message: str
    app: str = ""
    cluster: str = ""
    group: str = ""
    version: str = ""
    kind: str = ""
    namespace: str = ""
    name: str = ""
    detail: str = ""
    related_apps: tuple[str, ...] = ()
    chain: Chain = field(default=())
    file: str = ""
    line: int = 0
    confidence: str = "certain"
    could_come_from: tuple[str, ...] = ()
    origin: str = ""  # the repository file that produced the resource, when known

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} is not one of {SEVERITIES}")
        if self.confidence not in CONFIDENCES:
            raise ValueError(f"confidence {self.confidence!r} is not one of {CONFIDENCES}")
        if self.confidence == "unproven" and self.severity == "error":
            raise ValueError("an unproven finding is at most a warning")
        if self.chain and not self.chain[-1].is_root:
            raise ValueError("a chain ends at its root: the last step carries the condition")

    @property
    def root(self) -> ChainStep | None:
        """The root cause of a consequence, or None for a finding that is a cause itself."""
        return self.chain[-1] if self.chain else None


FINDING_COLUMNS = [f.name for f in fields(Finding)]
_TEXT_FIELDS = frozenset(f.name for f in fields(Finding) if f.type == "str")


def finding(rule, *, message: str, severity: str | None = None,
            argocd_condition: str | None = None, related_apps: Iterable[str] | None = (),
            chain: Iterable[ChainStep] | None = (), line: int | float | None = 0,
            **where: object) -> Finding:
    """The one builder: a finding of ``rule`` (a registered Rule) with the rule's severity and
    condition unless the finding raises them (FailOnSharedResource). Values missing in a frame
    row (None, NaN) count as not given."""
    condition = _text(argocd_condition)
    unknown = set(where) - _TEXT_FIELDS
    if unknown:
        raise TypeError(f"a finding has no text field {sorted(unknown)}")
    texts: dict[str, Any] = {k: _text(v) for k, v in where.items()}
    return Finding(rule=rule.id, slug=rule.slug,
                   severity=_text(severity) or rule.severity,
                   argocd_condition=condition or rule.argocd_condition,
                   message=message, related_apps=tuple(related_apps or ()),
                   chain=tuple(chain or ()),
                   line=int(line) if line and line == line else 0,
                   **texts)


def _text(value: object) -> str:
    return "" if value is None or value != value else str(value)  # None and NaN are empty


IDENTITY_FIELDS = ("rule", "app", "cluster", "group", "kind", "namespace", "name")


def finding_identity(rec: Finding | dict) -> str:
    """What a finding is about, independent of its message: rule, app and resource key.

    The one identity that matches findings across runs: SARIF fingerprints, ``diff`` (new,
    fixed, unchanged) and baselines. ``rec`` is a Finding or a row of the findings frame."""
    get = rec.get if isinstance(rec, dict) else lambda k: getattr(rec, k)
    return "|".join(str(get(k)) for k in IDENTITY_FIELDS)


def chain_text(chain: Iterable[ChainStep]) -> str:
    """``web-apps <- VirtualService CRD <- common-services: InvalidSpecError``."""
    parts: list[str] = []
    for step in chain:
        if step.is_root:
            parts.append(f"{step.app}: {step.condition}")
        else:
            parts += [step.app, need_text(step.kind, step.name)]
    return " <- ".join(parts)


def need_text(kind: str, name: str) -> str:
    """What a step needs, as a reader says it: ``VirtualService CRD``, ``namespace kubeflow``."""
    if kind == "CustomResourceDefinition":
        return f"{name.rpartition('/')[2]} CRD"
    if kind == "Namespace":
        return f"namespace {name}"
    return f"{kind} {name}"


def chain_records(chain: Iterable[ChainStep]) -> list[dict]:
    """The chain as plain JSON-ready records."""
    return [asdict(step) for step in chain]
