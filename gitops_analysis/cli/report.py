"""``report``: the notebooks run by papermill, their HTML, the write-up, the fix, the findings."""

from __future__ import annotations

import argparse

from gitops_analysis.cli.common import (
    COMMAND_HELP,
    add_cluster_options,
    add_dataset,
    argocd_namespace_of,
)


def add_commands(subparsers, parser_class=None) -> None:
    rep = subparsers.add_parser("report", help=COMMAND_HELP["report"])
    add_dataset(rep)
    rep.add_argument("--out", default="reports", help="output folder (default: reports)")
    rep.add_argument("--app", help="the app the incident write-up is about (default: the worst)")
    rep.add_argument("--date", metavar="YYYY-MM-DD",
                     help="the date in the write-up's header when the dataset holds no Argo CD "
                          "export to take it from (never the clock: same input, same bytes)")
    add_cluster_options(rep)
    rep.add_argument("--repo", help="the source repository: the fix's kustomizations are "
                                    "written and rendered for real")
    rep.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from gitops_analysis.views.report import write_report

    return write_report(args.dataset, args.out, app=args.app, argocd_cm=args.argocd_cm,
                        cluster_api=args.cluster_api, repo=args.repo, projects=args.projects,
                        argocd_namespace=argocd_namespace_of(args),
                        cluster_namespaces=args.cluster_namespaces, date=args.date)
