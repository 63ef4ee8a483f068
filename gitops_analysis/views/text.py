"""``check``'s text: what was looked at first, then the root causes with what they block folded
under them, then every other finding, one line each. Every line fits ``width`` columns, on a
terminal or piped: a longer one goes on over indented continuation lines, never cut;
``verbose`` adds the details (wrapped), ``show_all`` lifts the per-rule cap, ``color`` (a
terminal, no ``NO_COLOR``) colours the severities."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import pandas as pd

from gitops_analysis.analysis.coverage import Coverage
from gitops_analysis.analysis.dependencies import failing_roots
from gitops_analysis.core.findings import chain_text
from gitops_analysis.core.words import plural

WIDTH = 120
PER_RULE = 5
GAPS_SHOWN = 10
_RANK = {"error": 0, "warning": 1, "info": 2}
_COLOURS = {"error": "\033[1;31m", "warning": "\033[33m", "info": "\033[36m", "dim": "\033[2m",
            "bold": "\033[1m"}
_RESET = "\033[0m"


@dataclass(frozen=True)
class Style:
    width: int = WIDTH
    color: bool = False
    verbose: bool = False
    show_all: bool = False


def clip(text: str, width: int) -> str:
    """``text`` on one line of at most ``width`` columns (``…`` marks a cut)."""
    text = text.replace("\r", " ").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def fold(text: str, width: int = WIDTH, *, hang: int = 4) -> list[str]:
    """``text`` on lines of at most ``width`` columns, never cut: the first line keeps its
    layout (its leading spaces, the spaces that align its columns), the others are indented
    ``hang`` columns more than it; a word longer than a line is split."""
    text = text.replace("\r", " ").replace("\n", " ")
    if len(text) <= width:
        return [text]
    lead = len(text) - len(text.lstrip(" "))
    return textwrap.wrap(text, width, subsequent_indent=" " * min(lead + hang, width // 2),
                         break_long_words=True, break_on_hyphens=False)


def folded(lines: list[str], width: int = WIDTH) -> list[str]:
    """Every line of ``lines`` folded to ``width`` columns (:func:`fold`)."""
    return [part for line in lines for part in fold(line, width)]


class _Out:
    def __init__(self, style: Style) -> None:
        self.s = style
        self.lines: list[str] = []

    def paint(self, text: str, colour: str) -> str:
        return f"{_COLOURS[colour]}{text}{_RESET}" if self.s.color and text else text

    def line(self, text: str = "", *, indent: int = 0, colour: str = "", lead: str = "") -> None:
        """One line, folded onto indented continuation lines past the width (never cut);
        ``lead`` (a severity) may be painted apart from the rest, and what follows it on the
        next lines is aligned under the text after it."""
        if not (lead or text):
            self.lines.append("")
            return
        parts = fold(lead + text, self.s.width - indent, hang=len(lead) or 4)
        for i, body in enumerate(parts):
            if lead and self.s.color:
                if i == 0:
                    body = self.paint(body[: len(lead)], colour) + body[len(lead):]
            elif colour:
                body = self.paint(body, colour)
            self.lines.append(" " * indent + body)

    def wrapped(self, text: str, *, indent: int) -> None:
        for part in textwrap.wrap(" ".join(text.split()), self.s.width - indent,
                                  break_long_words=True, break_on_hyphens=False):
            self.lines.append(" " * indent + self.paint(part, "dim"))


def _finding_line(out: _Out, r, indent: int) -> None:
    sev = str(r.severity)
    lead = f"{sev:<7} " + ("(unproven) " if r.confidence == "unproven" else "")
    out.line(" ".join(r.message.split()), indent=indent, colour=sev, lead=lead)
    if out.s.verbose:
        if r.could_come_from:
            out.wrapped("could come from (not analysed): " + ", ".join(r.could_come_from),
                        indent=indent + 8)
        if r.chain:
            out.wrapped("chain: " + chain_text(r.chain), indent=indent + 8)
        if r.detail:
            out.wrapped(r.detail, indent=indent + 8)
        if r.file:
            out.wrapped(f"at {r.file}:{r.line}", indent=indent + 8)


def _coverage_lines(out: _Out, ds, cov: Coverage) -> None:
    out.line(cov.line(ds.name), colour="bold")
    gaps = cov.gaps()
    shown = gaps if out.s.show_all else gaps.head(GAPS_SHOWN)
    for g in shown.itertuples(index=False):
        label = "partly analysed" if g.state == "partial" else "not analysed"
        out.line(f"{label}: {g.app} ({g.reason}): {g.detail}", indent=2)
    if len(gaps) > len(shown):
        out.line(f"... {len(gaps) - len(shown)} more not fully analysed (--show-all)", indent=2)
    for g in cov.other:
        if g["reason"] != "unreachable":
            out.line(f"{g['kind']} {g['name']} {g['reason']}: {g['detail']}", indent=2)
    unreachable = [g for g in cov.other if g["reason"] == "unreachable"]
    for g in unreachable if out.s.show_all else []:
        out.line(f"unreachable: {g['kind']} {g['name']}: {g['detail']}", indent=2)
    if unreachable and not out.s.show_all:
        out.line(f"{plural(len(unreachable), 'Application or ApplicationSet file')} that no "
                 "root reaches, not rendered (--show-all lists them)", indent=2)


def findings_text(ds, findings: pd.DataFrame, cov: Coverage, style: Style | None = None) -> str:
    out = _Out(style or Style())
    _coverage_lines(out, ds, cov)
    out.line()
    nothing = cov.nothing_analysed()
    if findings.empty:
        if nothing:  # never "no findings" when nothing was looked at
            _nothing_lines(out, nothing)
        else:
            out.line(f"no findings in what was analysed "
                     f"({plural(ds.accounting.resources, 'resource')} of "
                     f"{plural(int((cov.frame['state'] != 'not-analysed').sum()), 'app')})")
        return "\n".join(out.lines) + "\n"
    roots = failing_roots(findings)
    consequence = findings["chain"].map(len) > 0
    cause = findings["app"].isin(list(roots)) & ~consequence & (findings["severity"] == "error")
    # consequences of a root cause in another app: folded under that root
    root_of = findings["chain"].map(lambda c: c[-1].app if c else "")
    folded = consequence & root_of.isin(list(roots)) & (findings["app"] != root_of)
    if roots:
        out.line("Root causes: these apps fail on their own; fix them first", colour="bold")
        for app in sorted(roots):
            mine = findings[cause & (findings["app"] == app)]
            for (rule, slug), g in mine.groupby(["rule", "slug"], sort=True):
                out.line(f"{app}  {rule} {slug} ({len(g)})", indent=2)
                for r in (g if out.s.show_all else g.head(PER_RULE)).itertuples(index=False):
                    _finding_line(out, r, 4)
                if not out.s.show_all and len(g) > PER_RULE:
                    out.line(f"... {len(g) - PER_RULE} more (--show-all)", indent=4)
            blocked = findings[folded & (root_of == app)]
            if not blocked.empty:
                apps = sorted(set(blocked["app"]))
                out.line(f"blocks {plural(len(apps), 'app')} ({plural(len(blocked), 'finding')}):"
                         f" {', '.join(apps)}", indent=4, colour="dim")
        out.line()
    rest = findings[~cause] if out.s.show_all else findings[~cause & ~folded]
    if not rest.empty:
        out.line("Findings by app" + (" (consequences above are folded; --show-all lists them)"
                                      if not out.s.show_all and roots else ""), colour="bold")
        ranked = rest.assign(rank=rest["severity"].astype(str).map(_RANK))
        order = ranked.groupby("app", sort=True)["rank"].agg(["min", "size"]) \
            .sort_values(["min", "size"], ascending=[True, False], kind="stable")
        for app in order.index:
            f = ranked[ranked["app"] == app]
            counts = ", ".join(plural(int((f["severity"] == s).sum()), s)
                               for s in _RANK if (f["severity"] == s).any())
            out.line(f"{app or '(all apps)'}  [{counts}]")
            for (_rank, rule, slug), g in f.groupby(["rank", "rule", "slug"], sort=True):
                out.line(f"{rule} {slug} ({len(g)})", indent=2)
                for r in (g if out.s.show_all else g.head(PER_RULE)).itertuples(index=False):
                    _finding_line(out, r, 4)
                if not out.s.show_all and len(g) > PER_RULE:
                    out.line(f"... {len(g) - PER_RULE} more (--show-all)", indent=4)
        out.line()
    out.line(summary_line(findings))
    if nothing:  # the findings are render failures Argo CD shows too: nothing else was seen
        _nothing_lines(out, nothing)
    return "\n".join(out.lines) + "\n"


def _nothing_lines(out: _Out, nothing: list[str]) -> None:
    out.line(nothing[0], colour="bold")
    for hint in nothing[1:]:
        out.line(hint, indent=2)


def summary_line(findings: pd.DataFrame) -> str:
    sev = {s: int((findings["severity"] == s).sum()) for s in _RANK}
    failing = sorted(set(findings.loc[findings["severity"] == "error", "app"]) - {""})
    apps = findings.loc[findings["app"] != "", "app"].nunique()
    unproven = int((findings["confidence"] == "unproven").sum())
    # findings about the whole dataset (the apps' waves) belong to no app
    where = f"in {plural(apps, 'app')}" if apps or findings.empty else "about all apps"
    text = (f"{plural(sev['error'], 'error')}, {plural(sev['warning'], 'warning')} "
            f"({unproven} unproven) {where}; apps that will fail: "
            f"{', '.join(failing) if failing else 'none'}")
    return text  # long: fold it (every app that will fail is named)
