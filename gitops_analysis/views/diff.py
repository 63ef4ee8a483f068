"""``diff``'s text, JSON and Markdown (a pull-request comment); baselines in ``check``.

JSON: top-level lists ``new``, ``fixed`` and ``unchanged``, each finding in ``check``'s JSON
form (:func:`~gitops_analysis.views.formats.findings_records`). Markdown: a summary line, the
new findings first, everything else folded in ``<details>``, the root-cause chain of each new
finding that has one, and tables without links whose cells are escaped so that GitHub and
GitLab render them the same. Nothing here recomputes: every fact comes from the result.
"""

from __future__ import annotations

import json

import pandas as pd

from gitops_analysis.core.findings import chain_text
from gitops_analysis.views.formats import findings_records
from gitops_analysis.views.text import WIDTH, folded, plural

_RANK = ("error", "warning", "info")
MAX_ROWS = 50  # per Markdown table: a comment stays far below GitHub's 65,536 characters
MAX_LINES = 20  # per text section without --verbose


def _counts(findings: pd.DataFrame) -> dict[str, int]:
    sev = findings["severity"].astype(str)
    return {s: int((sev == s).sum()) for s in _RANK if (sev == s).any()}


def _by_severity(findings: pd.DataFrame) -> str:
    c = _counts(findings)
    return ", ".join(plural(n, s) for s, n in c.items())


def summary_line(result) -> str:
    """``2 new findings (1 error, 1 warning), 1 fixed, 12 unchanged``."""
    f = result.findings
    new = plural(len(f.new), "new finding")
    if len(f.new):
        new += f" ({_by_severity(f.new)})"
    return f"{new}, {len(f.fixed)} fixed, {len(f.unchanged)} unchanged"


def _revisions(result) -> str:
    b, h = result.base, result.head
    return f"base {b.revision} ({b.short}) -> head {h.revision} ({h.short})"


def _work_line(result) -> str:
    files = plural(len(result.changed_files), "file")
    return (f"{files} changed; head: {plural(h_apps(result), 'app')} rendered; base: "
            f"{result.base.apps_rendered} rendered, {result.base.apps_reused} as at the head")


def h_apps(result) -> int:
    return result.head.apps_rendered + result.head.apps_reused


def _changes_line(result) -> str:
    c = result.changes.as_dict()
    return ("apps: " + ", ".join(f"{len(v)} {k}" for k, v in c["apps"].items()) +
            "; resources: " + ", ".join(f"{len(v)} {k}" for k, v in c["resources"].items()))


def _resource(rec) -> str:
    """``group/Kind namespace/name`` (what kube's ResourceKey names), or '' for an app."""
    if not rec["kind"]:
        return ""
    kind = f"{rec['group']}/{rec['kind']}" if rec["group"] else str(rec["kind"])
    name = f"{rec['namespace']}/{rec['name']}" if rec["namespace"] else str(rec["name"])
    return f"{kind} {name}"


# --- text ------------------------------------------------------------------------------------

def diff_text(result, *, verbose: bool = False) -> str:
    lines = [_revisions(result), _work_line(result), _changes_line(result),
             result.head.coverage.line("head")]
    for side in (result.base, result.head):
        if side.silenced.total:
            lines.append(f"{side.label}: {side.silenced.line()}")
    sections = [("New", result.findings.new, True), ("Fixed", result.findings.fixed, False),
                ("Unchanged", result.findings.unchanged, False)]
    for title, frame, details in sections:
        lines.append("")
        if frame.empty:
            lines.append(f"{title}: none")
            continue
        if title == "Unchanged" and not verbose:
            lines.append(f"Unchanged: {plural(len(frame), 'finding')} (--verbose lists them)")
            continue
        lines.append(f"{title} ({len(frame)})")
        shown = frame if verbose else frame.head(MAX_LINES)
        for rec in shown.to_dict("records"):
            lead = f"  {str(rec['severity']):<7} {rec['rule']} {rec['app'] or '(all apps)'}: "
            lines.append(lead + " ".join(str(rec["message"]).split()))
            if details and len(rec["chain"]):
                lines.append("          chain: " + chain_text(rec["chain"]))
        if len(frame) > len(shown):
            lines.append(f"  ... {len(frame) - len(shown)} more (--verbose)")
    lines += ["", summary_line(result)]
    return "\n".join(folded(lines, WIDTH)) + "\n"  # long lines go on indented, never cut


# --- JSON ------------------------------------------------------------------------------------

def _side(side) -> dict:
    return {"revision": side.revision, "commit": side.commit,
            "apps_rendered": side.apps_rendered, "apps_reused": side.apps_reused,
            "coverage": side.coverage.as_dict(), "findings": int(len(side.findings)),
            "silenced": side.silenced.as_dict()}


def diff_dict(result) -> dict:
    f = result.findings
    return {
        "base": _side(result.base), "head": _side(result.head),
        "changed_files": list(result.changed_files),
        "summary": {"new": int(len(f.new)), "fixed": int(len(f.fixed)),
                    "unchanged": int(len(f.unchanged)), "new_by_severity": _counts(f.new)},
        **result.changes.as_dict(),
        "new": findings_records(f.new),
        "fixed": findings_records(f.fixed),
        "unchanged": findings_records(f.unchanged),
    }


def diff_json(result) -> str:
    return json.dumps(diff_dict(result), indent=2, ensure_ascii=False) + "\n"


# --- Markdown --------------------------------------------------------------------------------

_ESCAPES = {"\\": "\\\\", "|": "\\|", "`": "\\`", "*": "\\*", "_": "\\_", "[": "\\[",
            "]": "\\]", "<": "&lt;", ">": "&gt;", "&": "&amp;", "#": "\\#", "~": "\\~"}


def md(text: object) -> str:
    """Text safe in a Markdown table cell or line: one line, no HTML, no link, no emphasis."""
    return "".join(_ESCAPES.get(ch, ch) for ch in " ".join(str(text).split()))


def _table(frame: pd.DataFrame, *, title: str) -> list[str]:
    out = ["| severity | rule | app | resource | message |", "|---|---|---|---|---|"]
    for rec in frame.head(MAX_ROWS).to_dict("records"):
        unproven = " (unproven)" if rec["confidence"] == "unproven" else ""
        out.append(f"| {md(rec['severity'])}{unproven} | {md(rec['rule'])} {md(rec['slug'])} "
                   f"| {md(rec['app'] or '(all apps)')} | {md(_resource(rec))} "
                   f"| {md(rec['message'])} |")
    if len(frame) > MAX_ROWS:
        out += ["", f"... and {len(frame) - MAX_ROWS} more {title} (the JSON output lists "
                "every one)"]
    return out


def _details(summary: str, body: list[str]) -> list[str]:
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>", ""]


def _resource_rows(items: list[dict], what: str) -> list[str]:
    rows = [f"| {what} | {md(r['app'])} | {md(_resource(r))} |" for r in items[:MAX_ROWS]]
    if len(items) > MAX_ROWS:
        rows.append(f"| {what} | ... | {len(items) - MAX_ROWS} more |")
    return rows


def diff_markdown(result) -> str:
    f = result.findings
    mark = "❌" if any(f.new["severity"].astype(str) == "error") else \
        "⚠️" if len(f.new) else "✅"
    lines = [f"### {mark} gitops-analysis: {md(summary_line(result))}", "",
             f"{md(_revisions(result))}. {md(_work_line(result))}. {md(_changes_line(result))}.",
             ""]
    if len(f.new):
        lines += ["#### New findings", "", *_table(f.new, title="new findings"), ""]
        chained = f.new[f.new["chain"].map(len) > 0]
        if not chained.empty:
            body = [f"- {md(r['app'])}: {md(chain_text(r['chain']))}"
                    for r in chained.head(MAX_ROWS).to_dict("records")]
            lines += _details(f"Root-cause chains of the new findings ({len(chained)})", body)
    else:
        lines += ["No new findings.", ""]
    if len(f.fixed):
        lines += _details(f"Fixed findings ({len(f.fixed)})",
                          _table(f.fixed, title="fixed findings"))
    if len(f.unchanged):
        lines += _details(f"Unchanged findings ({len(f.unchanged)})",
                          _table(f.unchanged, title="unchanged findings"))
    c = result.changes
    if not c.empty:
        body = ["| change | app | resource |", "|---|---|---|"]
        body += [f"| app added | {md(a)} | |" for a in c.apps_added]
        body += [f"| app removed | {md(a)} | |" for a in c.apps_removed]
        body += [f"| app changed | {md(a)} | |" for a in c.apps_changed]
        body += _resource_rows(c.resources_added, "added")
        body += _resource_rows(c.resources_removed, "removed")
        body += _resource_rows(c.resources_changed, "changed")
        lines += _details("Apps and resources changed", body)
    notes = [md(result.head.coverage.line("head"))]
    for side in (result.base, result.head):
        if side.silenced.total:
            notes.append(md(f"{side.label}: {side.silenced.line()}"))
    lines += ["<sub>" + " · ".join(notes) + "</sub>"]
    return "\n".join(lines) + "\n"


# --- check: what was silenced, and the baseline -----------------------------------------------

def _extras(silenced, match) -> dict:
    out: dict = {"silenced": silenced.as_dict()}
    if match is not None:
        out["baseline"] = match.as_dict()
    return out


def check_json(text: str, silenced, match=None) -> str:
    """``check``'s JSON with ``silenced`` (what the configuration and annotations left out)
    and, with a baseline, ``baseline`` (known findings, entries no longer seen)."""
    doc = json.loads(text)
    doc.update(_extras(silenced, match))
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


def check_sarif(text: str, silenced, match=None) -> str:
    """The same counts as run properties of the SARIF log."""
    doc = json.loads(text)
    doc["runs"][0].setdefault("properties", {}).update(_extras(silenced, match))
    return json.dumps(doc, indent=2) + "\n"


def check_text(text: str, silenced, match=None) -> str:
    """``check``'s text with a closing line for each of them."""
    lines = [line for line in (silenced.line(), match.line() if match is not None else "")
             if line]
    if match is not None:
        for e in match.stale[:MAX_LINES]:
            lines.append(f"  no longer seen: {e['rule']} {e['app'] or '(all apps)'}: "
                         f"{e['message']}")
        if len(match.stale) > MAX_LINES:
            lines.append(f"  ... {len(match.stale) - MAX_LINES} more (--format json)")
    return text + "".join(line + "\n" for line in folded(lines, WIDTH))
