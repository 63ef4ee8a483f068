"""What every subcommand shares: exit codes, the parser class, loading a dataset."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from gitops_analysis.load.dataset import Dataset

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2

COMMAND_HELP = {
    "inventory": "apps, resource counts by kind, and the accounting",
    "check": "predict Argo CD's conditions and the cascade",
    "rules": "list the rules",
    "docs": "write docs/rules.md and docs/frames.md",
    "fix": "choose an owner for every shared resource, write the narrowed kustomizations and "
           "wave changes, and prove them",
    "report": "write the reports of a dataset into a folder",
    "render": "render every Application of a repository into a dataset",
    "import-live": "turn an Argo CD export into a dataset's apps/ and keep it in live/",
    "reconcile": "predicted findings versus what Argo CD reports (an export)",
}


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse exits 2 too; keep our one-line form
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: {message}: see --help\n")


def add_dataset(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", help="dataset folder (apps/ and rendered/)")


def add_cluster_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cluster-api", metavar="FILE",
                        help="'kubectl api-resources -o wide' output: kinds the cluster already "
                             "has")
    parser.add_argument("--argocd-cm", metavar="FILE",
                        help="the argocd-cm ConfigMap (YAML): is the Application health check "
                             "set?")


def load(args: argparse.Namespace) -> Dataset:
    from gitops_analysis.load.dataset import load_dataset

    return load_dataset(args.dataset, cluster_api=getattr(args, "cluster_api", None))


def health_check(args: argparse.Namespace) -> bool:
    """Whether the argocd-cm given carries the Application health check."""
    if not getattr(args, "argocd_cm", None):
        return False
    from gitops_analysis.load.argocdcm import health_check_configured

    return health_check_configured(args.argocd_cm)


def exit_for(severities: dict, fail_on: str) -> int:
    if fail_on == "never":
        return EXIT_OK
    levels = ["error"] if fail_on == "error" else ["error", "warning"]
    return EXIT_FINDINGS if any(severities.get(s, 0) for s in levels) else EXIT_OK
