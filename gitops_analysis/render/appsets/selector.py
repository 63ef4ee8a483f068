"""Label selectors of ApplicationSet generators.

Two different selectors with the same shape (``matchLabels``, ``matchExpressions``):

- ``generators[].selector`` filters the parameter sets a generator made
  (``generator_spec_processor.go`` ``Transform``): each set is flattened to ``a.b`` keys with
  values printed by ``%v`` and matched by Argo CD's copy of Kubernetes' selector code without
  the restriction on label values (``applicationset/utils/selector.go``);
- ``clusters.selector`` selects cluster Secrets by their labels, with Kubernetes' own
  ``LabelSelectorAsSelector`` (values must be valid label values).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gitops_analysis.render.appsets.funcs import go_sprint
from gitops_analysis.render.appsets.model import AppSetError

_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?\Z")
_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_PREFIX = re.compile(rf"{_DNS_LABEL}(\.{_DNS_LABEL})*\Z")
_OPERATORS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # in, notin, exists, !
    values: tuple[str, ...]

    def matches(self, labels: dict[str, str]) -> bool:
        if self.op == "in":
            return self.key in labels and labels[self.key] in self.values
        if self.op == "notin":
            return self.key not in labels or labels[self.key] not in self.values
        if self.op == "exists":
            return self.key in labels
        return self.key not in labels


@dataclass(frozen=True)
class Selector:
    requirements: tuple[Requirement, ...]
    nothing: bool = False  # a nil selector matches nothing (never used as a post-selector)

    def matches(self, labels: dict[str, str]) -> bool:
        return not self.nothing and all(r.matches(labels) for r in self.requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements


def _qualified_name_error(key: str) -> str | None:
    """Kubernetes' IsQualifiedName, as the message part Argo CD prints."""
    prefix, sep, name = key.rpartition("/")
    if sep and (not prefix or len(prefix) > 253 or not _PREFIX.match(prefix)):
        return (f'key: Invalid value: "{key}": prefix part a lowercase RFC 1123 subdomain must '
                "consist of lower case alphanumeric characters, '-' or '.', and must start "
                "and end with an alphanumeric character")
    if not name or len(name) > 63 or not _NAME.match(name):
        return (f'key: Invalid value: "{key}": name part must consist of alphanumeric '
                "characters, '-', '_' or '.', and must start and end with an alphanumeric "
                "character")
    return None


def parse_selector(raw: Any, where: str) -> Selector:
    """A ``LabelSelector`` of an ApplicationSet; an error carries Argo CD's text."""
    if raw is None:
        return Selector((), nothing=True)
    if not isinstance(raw, dict):
        raise AppSetError(f"{where}: the selector is not a mapping")
    labels = raw.get("matchLabels") or {}
    exprs = raw.get("matchExpressions") or []
    if not isinstance(labels, dict) or not isinstance(exprs, list):
        raise AppSetError(f"{where}: matchLabels must be a mapping and matchExpressions a list")
    reqs = []
    for key, value in labels.items():
        reqs.append(_requirement(str(key), "in", [value], exact=True))
    for expr in exprs:
        if not isinstance(expr, dict):
            raise AppSetError(f"{where}: a matchExpressions entry is not a mapping")
        op = expr.get("operator")
        if op not in _OPERATORS:
            raise AppSetError(f'"{op}" is not a valid pod selector operator')
        values = expr.get("values") or []
        if not isinstance(values, list):
            raise AppSetError(f"{where}: matchExpressions values must be a list")
        reqs.append(_requirement(str(expr.get("key", "")), _OPERATORS[op], values))
    return Selector(tuple(sorted(reqs, key=lambda r: r.key)))


def _requirement(key: str, op: str, values: list[Any], exact: bool = False) -> Requirement:
    problems = []
    bad = _qualified_name_error(key)
    if bad:
        problems.append(bad)
    if op in ("in", "notin") and not values:
        problems.append("values: Invalid value: []string{}: for 'in', 'notin' operators, "
                        "values set can't be empty")
    if op in ("exists", "!") and values:
        problems.append("values: Invalid value: for exists and does not exist, values set "
                        "must be empty")
    if problems:
        raise AppSetError(problems[0] if len(problems) == 1 else
                          "[" + ", ".join(problems) + "]")
    del exact
    return Requirement(key, op, tuple(go_sprint(v) for v in values))


def flatten_params(params: dict[str, Any]) -> dict[str, str]:
    """``flattenParameters``: nested maps and lists to ``a.b`` / ``a.0`` keys (empty ones give
    nothing), every value printed with ``%v``; a Go ``[]string`` (a tuple here) is one value."""
    out: dict[str, str] = {}

    def walk(value: Any, prefix: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{prefix}.{k}" if prefix else str(k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{prefix}.{i}" if prefix else str(i))
        else:
            out[prefix] = go_sprint(value)

    walk(params, "")
    return out
