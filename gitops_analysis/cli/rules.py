"""``rules`` (the registry) and ``docs`` (docs/rules.md and docs/frames.md, generated)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gitops_analysis.cli.common import COMMAND_HELP, EXIT_OK


def add_commands(subparsers, parser_class=None) -> None:
    subparsers.add_parser("rules", help=COMMAND_HELP["rules"]).set_defaults(func=cmd_rules)
    docs = subparsers.add_parser("docs", help=COMMAND_HELP["docs"])
    docs.add_argument("--out", default="docs")
    docs.set_defaults(func=cmd_docs)


def cmd_rules(args: argparse.Namespace) -> int:
    from gitops_analysis.rules import all_rules

    for r in all_rules():
        sys.stdout.write(f"{r.id}  {r.slug:<26} {r.severity:<8} "
                         f"{r.argocd_condition or '-':<22} {r.summary}\n")
    return EXIT_OK


def cmd_docs(args: argparse.Namespace) -> int:
    from gitops_analysis.core.schema import frames_markdown
    from gitops_analysis.rules import rules_markdown

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "rules.md").write_text(rules_markdown(), encoding="utf-8")
    (out / "frames.md").write_text(frames_markdown(), encoding="utf-8")
    sys.stdout.write(f"wrote {out / 'rules.md'} and {out / 'frames.md'}\n")
    return EXIT_OK
