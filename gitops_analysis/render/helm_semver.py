"""Chart.yaml ``kubeVersion:`` checked as Helm checks it (Masterminds/semver v3 constraints).

Helm (``pkg/action/action.go`` ``renderResources``) refuses to render a chart whose
``kubeVersion`` constraint does not admit the Kubernetes version of the run:
``chart requires kubeVersion: <constraint> which is incompatible with Kubernetes <version>``;
a constraint that cannot be parsed admits nothing (``chartutil.IsCompatibleRange``). The version
checked is ``v<major>.<minor>.<patch>`` with every suffix dropped, so it never has a
pre-release; what Masterminds does with pre-release versions is therefore not needed here.

Standard library only: this runs inside the Helm worker.
"""

from __future__ import annotations

import re

_OPS = r"(?:>=|=>|<=|=<|!=|~>|>|<|=|~|\^)"
_PART = r"(?:\d+|[xX*])"
_VERSION = (rf"v?({_PART})(?:\.({_PART}))?(?:\.({_PART}))?"
            r"(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?")
_TOKEN = re.compile(rf"({_OPS})?\s*{_VERSION}")
_HYPHEN = re.compile(rf"\s*(v?{_PART}(?:\.{_PART}){{0,2}}(?:-[0-9A-Za-z.-]+)?)\s+-\s+"
                     rf"(v?{_PART}(?:\.{_PART}){{0,2}}(?:-[0-9A-Za-z.-]+)?)\s*")
_GENERIC = re.compile(r"^\s*v?([0-9]+(?:\.[0-9]+)*)(.*)$")

Version = tuple[int, int, int, tuple[str, ...]]  # major, minor, patch, pre-release parts


def parse_generic(text: str) -> tuple[int, int, int] | str:
    """k8s ``version.ParseGeneric``: (major, minor, patch), or Helm's error text."""
    m = _GENERIC.match(text)
    if m is None:
        return f'could not parse "{text}" as version'
    parts = m.group(1).split(".")
    if len(parts) < 2:
        return f'illegal version string "{text}"'
    nums = [int(p) for p in parts] + [0, 0]
    return nums[0], nums[1], nums[2]


def _is_x(part: str | None) -> bool:
    return part in ("x", "X", "*")


def _cmp_pre(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    """Semver pre-release precedence; () is a release, above any pre-release."""
    if a == b:
        return 0
    if not a or not b:
        return -1 if a else 1
    for x, y in zip(a, b):
        if x == y:
            continue
        if x.isdigit() and y.isdigit():
            return -1 if int(x) < int(y) else 1
        if x.isdigit() != y.isdigit():
            return -1 if x.isdigit() else 1
        return -1 if x < y else 1
    return -1 if len(a) < len(b) else 1


def _cmp(v: Version, c: Version) -> int:
    if v[:3] != c[:3]:
        return -1 if v[:3] < c[:3] else 1
    return _cmp_pre(v[3], c[3])


class _Constraint:
    def __init__(self, m: re.Match[str]) -> None:
        op, major, minor, patch, pre = m.groups()
        self.op = {"=>": ">=", "=<": "<=", "~>": "~", None: "="}.get(op, op)
        self.minor_dirty = self.patch_dirty = self.dirty = False
        pre_parts = tuple(pre.split(".")) if pre else ()
        if _is_x(major):
            self.dirty = True
            self.con: Version = (0, 0, 0, pre_parts)
        elif _is_x(minor):
            self.dirty = self.minor_dirty = True
            self.con = (int(major), 0, 0, pre_parts)
        elif _is_x(patch):
            self.dirty = self.patch_dirty = True
            self.con = (int(major), int(minor or 0), 0, pre_parts)
        else:
            self.con = (int(major), int(minor or 0), int(patch or 0), pre_parts)

    def check(self, v: Version) -> bool:
        c, cmp = self.con, _cmp(v, self.con)
        if self.op == "=":
            return self._tilde(v) if self.dirty else cmp == 0
        if self.op == "!=":
            if self.dirty:
                if c[0] != v[0]:
                    return True
                if self.minor_dirty:
                    return False
                if c[1] != v[1]:
                    return True
                return not self.patch_dirty and c[2] != v[2]
            return cmp != 0
        if self.op == ">":
            if not self.dirty:
                return cmp > 0
            if v[0] != c[0]:
                return v[0] > c[0]
            if self.minor_dirty:
                return False
            return v[1] > c[1] if self.patch_dirty else cmp > 0
        if self.op == "<":
            return cmp < 0
        if self.op == ">=":
            return cmp >= 0
        if self.op == "<=":
            if not self.dirty:
                return cmp <= 0
            if v[0] != c[0]:
                return v[0] < c[0]
            if self.minor_dirty:
                return True
            return v[1] <= c[1] if self.patch_dirty else cmp <= 0
        if self.op == "~":
            return self._tilde(v)
        return self._caret(v)

    def _tilde(self, v: Version) -> bool:
        c = self.con
        if _cmp(v, c) < 0:
            return False
        if c[:3] == (0, 0, 0) and not self.minor_dirty and not self.patch_dirty:
            return True
        if v[0] != c[0]:
            return False
        return v[1] == c[1] or self.minor_dirty

    def _caret(self, v: Version) -> bool:
        c = self.con
        if _cmp(v, c) < 0:
            return False
        if c[0] > 0 or self.minor_dirty:
            return v[0] == c[0]
        if v[0] > 0:
            return False
        if c[1] > 0 or self.patch_dirty:
            return v[1] == c[1]
        if v[1] > 0:
            return False
        return c[2] == v[2]


def _groups(constraint: str) -> list[list[_Constraint]] | None:
    """The OR groups of AND constraints; None when the text is no constraint."""
    text = _HYPHEN.sub(lambda m: f" >= {m.group(1)}, <= {m.group(2)} ", constraint)
    groups = []
    for segment in text.split("||"):
        tokens = list(_TOKEN.finditer(segment))
        rest = _TOKEN.sub("", segment)
        if not tokens or rest.replace(",", "").strip():
            return None
        groups.append([_Constraint(t) for t in tokens])
    return groups


def admits(constraint: str, version: tuple[int, int, int]) -> bool:
    """Whether the constraint admits the (release) version; an unparsable one admits none."""
    groups = _groups(constraint)
    v: Version = (*version, ())
    return bool(groups) and any(all(c.check(v) for c in g) for g in groups or [])
