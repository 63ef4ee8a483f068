"""``import-live`` and ``reconcile``: an Argo CD export into a dataset, and predictions against it.

The work is in :mod:`gitops_analysis.live.import_live`, :mod:`gitops_analysis.load.live_export`
and :mod:`gitops_analysis.live.reconcile`, imported only when one of these commands runs (so that
other commands start fast).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gitops_analysis.cli.common import (
    COMMAND_HELP,
    add_cluster_options,
    add_dataset,
    load,
    rule_options,
)
from gitops_analysis.core.errors import InputError, UsageError


def add_commands(subparsers, parser_class=None) -> None:
    """Add ``import-live`` and ``reconcile`` to the CLI (called by ``cli.main.build_parser``)."""
    imp = subparsers.add_parser("import-live", help=COMMAND_HELP["import-live"])
    imp.add_argument("file", help="kubectl get applications.argoproj.io -A -o json|yaml, "
                                  "argocd app list -o json or argocd app get NAME -o json")
    imp.add_argument("--out", required=True, metavar="DATASET",
                     help="dataset folder to write apps/<app>.yaml and live/<file> into")
    imp.add_argument("--force", action="store_true",
                     help="overwrite files that differ, and replace another export in live/")
    imp.set_defaults(func=cmd_import_live)

    rec = subparsers.add_parser("reconcile", help=COMMAND_HELP["reconcile"])
    add_dataset(rec)
    rec.add_argument("--live", metavar="FILE",
                     help="the Argo CD export (default: the one kept in DATASET/live/)")
    rec.add_argument("--format", choices=["text", "json"], default="text")
    add_cluster_options(rec)
    rec.set_defaults(func=cmd_reconcile)


def cmd_import_live(args: argparse.Namespace) -> int:
    from gitops_analysis.live.import_live import import_live

    live, written = import_live(args.file, args.out, force=args.force)
    for w in live.warnings:
        sys.stderr.write(f"gitops-analysis import-live: {w}\n")
    la = live.live_apps
    sys.stdout.write(
        f"wrote {len(written) - 1} Application(s) to {Path(args.out) / 'apps'} and kept the "
        f"export as {written[-1]}\n"
        f"  {int(la['has_status'].sum())} with status, {int((~la['has_status']).sum())} without; "
        f"{len(live.conditions)} condition(s), {len(live.operations)} operation(s), "
        f"{len(live.sync_results)} sync result(s), {len(live.live_resources)} resource(s)\n"
        f"  next: render the apps into {Path(args.out) / 'rendered'} (gitops-analysis render), "
        "then gitops-analysis reconcile " + str(args.out) + "\n")
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    from gitops_analysis.live.reconcile import reconcile
    from gitops_analysis.load.live_export import load_live, load_live_dir
    from gitops_analysis.rules import run_rules
    from gitops_analysis.views.reconcile import reconcile_json, reconcile_text

    ds = load(args)
    live = load_live(args.live) if args.live else load_live_dir(args.dataset)
    if live is None:
        raise UsageError("no export given and none kept in live/", file=str(args.dataset),
                         todo="pass --live FILE, or run gitops-analysis import-live first")
    shared = set(live.app_names()) & set(ds.apps["app"])
    if not shared and len(ds.apps):
        raise InputError(f"none of the export's {len(live.live_apps)} Application(s) is in the "
                         f"dataset {ds.name}", file=live.path,
                         todo="export the Applications of the cluster that runs these apps")
    for w in live.warnings:
        sys.stderr.write(f"gitops-analysis reconcile: {w}\n")
    from gitops_analysis.analysis.coverage import coverage

    cov = coverage(ds)
    findings = run_rules(ds, cov=cov, **rule_options(args))
    result = reconcile(ds, findings, live)
    if args.format == "json":
        sys.stdout.write(reconcile_json(result, cov))
    else:
        sys.stdout.write(reconcile_text(result, cov))
    return result.exit_code
