"""What every subcommand shares: exit codes, the parser class, loading a dataset."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from gitops_analysis.load.config import Config
    from gitops_analysis.load.dataset import Dataset

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
EXIT_NOTHING = 3  # check: the dataset was rendered, but no app of it could be analysed

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
    "diff": "what a change breaks: findings new, fixed and unchanged between two revisions",
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
                        help="the argocd-cm ConfigMap (YAML): the Application health check, "
                             "the tracking method, resource exclusions and inclusions "
                             "(default: Argo CD 3.x's stock argocd-cm)")
    parser.add_argument("--projects", metavar="FILE",
                        help="AppProjects kept outside the repository: multi-document YAML, or "
                             "'kubectl get appprojects -n argocd -o yaml' output")
    parser.add_argument("--cluster-namespaces", metavar="FILE",
                        help="'kubectl get namespaces -o json' (or -o name) output: namespaces "
                             "the cluster already has")
    add_argocd_namespace(parser, recorded=True)


def add_argocd_namespace(parser: argparse.ArgumentParser, *, recorded: bool = False) -> None:
    """``recorded``: a command that reads a dataset, whose render-status.json may record the
    namespace render was given."""
    # None when not given, so that a configuration file's value can apply and an explicit
    # --argocd-namespace argocd still wins over it
    parser.add_argument("--argocd-namespace", metavar="NS", default=None,
                        help="Argo CD's control-plane namespace: Applications without a "
                             "namespace live there (default: the configuration's, else " +
                             ("the one render was given, else " if recorded else "") + "argocd)")


def add_config_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE",
                        help="a .gitops-analysis.toml (or pyproject.toml with "
                             "[tool.gitops-analysis]); default: the one found from the "
                             "repository (diff) or the working directory (check) upwards")
    parser.add_argument("--select", metavar="RULES", action="append", default=None,
                        help="report only these rules (ids or slugs, comma-separated); wins "
                             "over the configuration")
    parser.add_argument("--ignore", metavar="RULES", action="append", default=None,
                        help="do not report these rules (ids or slugs, comma-separated); wins "
                             "over the configuration")


def config_of(args: argparse.Namespace, start: str | None) -> Config:
    """The configuration: ``--config``, else the file found from ``start`` upwards; the
    command line's ``--select`` and ``--ignore`` win over it."""
    from gitops_analysis.load.config import config_for

    cfg = config_for(start, args.config)
    return cfg.with_flags(select=args.select, ignore=args.ignore)


def argocd_namespace_of(args: argparse.Namespace, config: Config | None = None) -> str | None:
    """Argo CD's control-plane namespace where it is given: ``--argocd-namespace``, else the
    configuration's (``config``, else the file found from the working directory upwards).
    None: the dataset's (``render-status.json``, as render was given it), else ``argocd``."""
    if getattr(args, "argocd_namespace", None):
        return str(args.argocd_namespace)
    if config is None:
        from gitops_analysis.load.config import config_for

        config = config_for(os.getcwd(), getattr(args, "config", None))
    return config.control_plane_namespace


def load(args: argparse.Namespace, config: Config | None = None) -> Dataset:
    from gitops_analysis.load.dataset import load_dataset

    return load_dataset(args.dataset, cluster_api=getattr(args, "cluster_api", None),
                        argocd_namespace=argocd_namespace_of(args, config),
                        cluster_namespaces=getattr(args, "cluster_namespaces", None))


def health_check(args: argparse.Namespace) -> bool:
    """Whether the argocd-cm given carries the Application health check."""
    if not getattr(args, "argocd_cm", None):
        return False
    from gitops_analysis.load.argocdcm import health_check_configured

    return health_check_configured(args.argocd_cm)


def rule_options(args: argparse.Namespace) -> dict:
    """What ``run_rules`` reads besides the dataset: argocd-cm (``--argocd-cm``) and the
    AppProjects that live outside the repository (``--projects``)."""
    options: dict = {"health_check_configured": False}
    if getattr(args, "argocd_cm", None):
        from gitops_analysis.load.argocdcm import read_settings

        settings = read_settings(args.argocd_cm)
        options.update(settings=settings,
                       health_check_configured=settings.health_check_configured)
    if getattr(args, "projects", None):
        from gitops_analysis.load.projects import read_projects_file

        options["projects"] = read_projects_file(args.projects)
    return options


def exit_for(severities: dict, fail_on: str) -> int:
    if fail_on == "never":
        return EXIT_OK
    levels = ["error"] if fail_on == "error" else ["error", "warning"]
    return EXIT_FINDINGS if any(severities.get(s, 0) for s in levels) else EXIT_OK
