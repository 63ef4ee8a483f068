"""Baselines: the findings a team accepts, recorded by identity, so that ``check`` reports only
what is not in them (and the entries that are no longer seen).

A baseline file is JSON: ``{"version": 1, "tool": "gitops-analysis", "findings": [...]}``,
each entry the identity fields of one finding (rule, app, cluster, group, kind, namespace,
name) with its slug, severity and message for the reader; the message is never matched.
Entries are sorted, so the same findings always write the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from gitops_analysis.core.errors import InputError
from gitops_analysis.core.findings import IDENTITY_FIELDS, finding_identity

VERSION = 1
_EXTRA = ("slug", "severity", "message")
_TODO = "write it again with 'gitops-analysis check DATASET --write-baseline FILE'"


def baseline_text(findings: pd.DataFrame) -> str:
    entries = []
    for rec in findings.to_dict("records"):
        entry = {k: str(rec[k]) for k in IDENTITY_FIELDS}
        entry.update({k: str(rec[k]) for k in _EXTRA})
        entries.append(entry)
    entries.sort(key=lambda e: (finding_identity(e), e["message"]))
    doc = {"version": VERSION, "tool": "gitops-analysis", "findings": entries}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def write_baseline(path: str | Path, findings: pd.DataFrame) -> int:
    """Write the baseline of ``findings``; the number of entries."""
    try:
        Path(path).write_text(baseline_text(findings), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot be written ({exc.strerror})", file=str(path),
                         todo="choose a file you can write for --write-baseline") from None
    return len(findings)


def read_baseline(path: str | Path) -> list[dict[str, str]]:
    display = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such file", file=display,
                         todo="write one with check --write-baseline FILE") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot be read ({getattr(exc, 'strerror', None) or exc})",
                         file=display, todo=_TODO) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON ({exc.msg})", file=display, line=exc.lineno,
                         todo=_TODO) from None
    if not isinstance(doc, dict) or doc.get("version") != VERSION or \
            not isinstance(doc.get("findings"), list):
        raise InputError(f"not a gitops-analysis baseline of version {VERSION}", file=display,
                         line=1, todo=_TODO)
    entries = []
    for i, e in enumerate(doc["findings"]):
        if not isinstance(e, dict) or not all(isinstance(e.get(k), str)
                                              for k in IDENTITY_FIELDS):
            line = _entry_line(text, i)
            raise InputError(f"entry {i + 1} lacks {', '.join(IDENTITY_FIELDS)}", file=display,
                             line=line, todo=_TODO)
        entries.append({k: str(e.get(k, "")) for k in (*IDENTITY_FIELDS, *_EXTRA)})
    return entries


def _entry_line(text: str, index: int) -> int | None:
    """The line where entry ``index`` of the findings list starts (as written: indent 4)."""
    starts = [n for n, line in enumerate(text.splitlines(), start=1) if line == "    {"]
    return starts[index] if index < len(starts) else None


@dataclass
class BaselineMatch:
    """Findings against a baseline: what is not in it, and entries no longer seen."""

    file: str
    new: pd.DataFrame
    known: int  # findings the baseline holds
    stale: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"file": self.file, "known": self.known, "new": int(len(self.new)),
                "no_longer_seen": self.stale}

    def line(self) -> str:
        return (f"baseline: {self.known} known finding{'s' if self.known != 1 else ''} not "
                f"reported, {len(self.new)} new, {len(self.stale)} "
                f"entr{'ies' if len(self.stale) != 1 else 'y'} no longer seen ({self.file})")


def apply_baseline(findings: pd.DataFrame, entries: list[dict[str, str]],
                   file: str) -> BaselineMatch:
    """Findings matched to entries by identity, each entry at most once (in sorted order)."""
    pool: dict[str, list[dict[str, str]]] = {}
    for e in entries:
        pool.setdefault(finding_identity(e), []).append(e)
    keep = []
    for rec in findings[list(IDENTITY_FIELDS)].to_dict("records"):
        waiting = pool.get(finding_identity(rec))
        keep.append(not waiting)
        if waiting:
            waiting.pop(0)
    stale = sorted((e for left in pool.values() for e in left),
                   key=lambda e: (finding_identity(e), e["message"]))
    new = findings[keep].reset_index(drop=True)
    return BaselineMatch(file, new, int(len(findings) - len(new)), stale)
