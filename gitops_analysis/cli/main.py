"""The command line: ``gitops-analysis inventory|check|fix|report|render|import-live|reconcile|
rules|docs|diff``.

Exit codes, for every command: 0 done and nothing to report at the chosen threshold; 1 done,
with findings at ``--fail-on`` (check), new ones (diff), or a notebook that failed (report);
2 usage or input error (nothing useful done).

Each subcommand lives in a module of its own with ``add_commands(subparsers, parser_class)``;
only the module of the command being run is imported, so that every command starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from gitops_analysis.cli.common import COMMAND_HELP, EXIT_OK, Parser
from gitops_analysis.core.errors import GitopsAnalysisError

# module -> the commands it adds (listed in --help from COMMAND_HELP without importing it)
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "cli.inventory": ("inventory",),
    "cli.check": ("check",),
    "cli.rules": ("rules", "docs"),
    "cli.fix": ("fix",),
    "cli.report": ("report",),
    "cli.render": ("render",),
    "cli.live": ("import-live", "reconcile"),
    "cli.diff": ("diff",),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; ``command`` (the one being run) lets the others stay unimported."""
    p = Parser(prog="gitops-analysis", description="Find what will break an Argo CD GitOps "
               "repository before Argo CD syncs it, and explain an incident after it did.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    for module, commands in COMMAND_MODULES.items():
        if command is None or command in commands:
            importlib.import_module(f"gitops_analysis.{module}").add_commands(sub, Parser)
        else:  # listed in --help, loaded only when run
            for name in commands:
                sub.add_parser(name, help=COMMAND_HELP[name])
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    args = build_parser(command).parse_args(argv)
    try:
        return int(args.func(args))
    except GitopsAnalysisError as exc:
        sys.stderr.write(f"gitops-analysis {args.command}: {exc}\n")
        return exc.exit_code
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
