"""``inventory``: apps, resource counts by kind, and the accounting."""

from __future__ import annotations

import argparse
import json
import sys

from gitops_analysis.cli.common import (
    COMMAND_HELP,
    EXIT_OK,
    add_argocd_namespace,
    add_dataset,
    load,
)


def add_commands(subparsers, parser_class=None) -> None:
    inv = subparsers.add_parser("inventory", help=COMMAND_HELP["inventory"])
    add_dataset(inv)
    inv.add_argument("--format", choices=["text", "json"], default="text")
    add_argocd_namespace(inv, recorded=True)
    inv.set_defaults(func=cmd_inventory)


def cmd_inventory(args: argparse.Namespace) -> int:
    ds = load(args)
    from gitops_analysis.views import formats

    if args.format == "json":
        sys.stdout.write(json.dumps(formats.inventory_dict(ds), indent=2) + "\n")
    else:
        sys.stdout.write(formats.inventory_text(ds))
    return EXIT_OK
