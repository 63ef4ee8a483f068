"""``diff``: what a change does, against its base: findings new, fixed and unchanged.

The work is in :mod:`gitops_analysis.diff.run`, imported only when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gitops_analysis.cli.common import (
    COMMAND_HELP,
    add_argocd_namespace,
    add_config_options,
    config_of,
    rule_options,
)


def cmd_diff(args: argparse.Namespace) -> int:
    from gitops_analysis.diff.revisions import WORKTREE
    from gitops_analysis.diff.run import run_diff
    from gitops_analysis.views import diff as view

    config = config_of(args, args.repo)
    result = run_diff(
        args.repo, args.base, args.head or WORKTREE, apps_paths=args.apps,
        repo_map=args.repo_map, allow_remote=args.allow_remote, jobs=args.jobs,
        timeout=args.timeout, kustomize=args.kustomize, helm=args.helm,
        chart_cache=args.chart_cache, clusters=args.clusters, use_cache=not args.no_cache,
        config=config, cluster_api=args.cluster_api, datasets=args.datasets,
        cluster_namespaces=args.cluster_namespaces,
        argocd_namespace=args.argocd_namespace,
        **rule_options(args), progress=sys.stderr)
    if args.format == "json":
        out = view.diff_json(result)
    elif args.format == "markdown":
        out = view.diff_markdown(result)
    else:
        out = view.diff_text(result, verbose=args.verbose)
    sys.stdout.write(out)
    return result.exit_code(args.fail_on)


def add_commands(subparsers: Any,
                 parser_class: type[argparse.ArgumentParser] | None = None) -> None:
    """Add ``diff`` to the CLI (called by ``cli.main.build_parser``)."""
    from gitops_analysis.render.kustomize import KUSTOMIZE_CHOICES

    p = subparsers.add_parser(
        "diff", help=COMMAND_HELP["diff"],
        description="Render REPO at --base and at --head (a git revision; default: the files "
                    "on disk), run every rule on both and report the findings the change adds "
                    "(new), removes (fixed) and keeps (unchanged), matched by rule, app and "
                    "resource, and the apps and resources it adds, removes or changes. Exit 0: "
                    "no new finding at --fail-on; 1: a new one; 2: usage or input error.")
    p.add_argument("repo", metavar="REPO", help="the repository (a folder of a git checkout)")
    p.add_argument("--base", metavar="REV", required=True,
                   help="the revision the change goes into (a branch, tag or commit)")
    p.add_argument("--head", metavar="REV", default=None,
                   help="the revision of the change (default: WORKTREE, the files on disk)")
    p.add_argument("--apps", metavar="PATH", nargs="+", action="extend", default=None,
                   help="Application files or folders, relative to REPO, read at each revision "
                        "(default: every Application under REPO)")
    p.add_argument("--repo-map", metavar="URL=DIR", action="append", default=[],
                   help="a repository URL the apps name, and the local folder that holds it (a "
                        "folder of REPO's checkout is read at each revision)")
    p.add_argument("--allow-remote", action="store_true",
                   help="fetch remote bases, charts and values files (default: status remote)")
    p.add_argument("--format", choices=["text", "json", "markdown"], default="text")
    p.add_argument("--fail-on", choices=["error", "warning", "never"], default="error",
                   help="exit 1 when a new finding reaches this severity (default: error)")
    p.add_argument("--verbose", "-v", action="store_true",
                   help="text: list every finding, the unchanged ones too")
    p.add_argument("--jobs", type=int, metavar="N", default=None,
                   help="renders in parallel (default: the number of cores)")
    p.add_argument("--timeout", type=float, metavar="SECONDS", default=120,
                   help="time limit of one app's render (default: 120)")
    p.add_argument("--kustomize", choices=KUSTOMIZE_CHOICES, default="auto",
                   help="kustomize renderer: a binary on PATH, else pykustomize (default: auto)")
    p.add_argument("--helm", choices=("auto", "binary", "helm-python-sdk", "none"),
                   default="auto", help="Helm renderer, as render has it (default: auto)")
    p.add_argument("--chart-cache", metavar="DIR", default=None,
                   help="a folder that keeps pulled charts and is read first, as render has it")
    p.add_argument("--clusters", metavar="FILE", default=None,
                   help="Argo CD cluster Secrets, for the clusters generator of ApplicationSets")
    p.add_argument("--datasets", metavar="DIR",
                   help="keep the two datasets rendered, as DIR/base and DIR/head")
    p.add_argument("--no-cache", action="store_true",
                   help="render every app again (the render cache is shared with render)")
    p.add_argument("--cluster-api", metavar="FILE",
                   help="'kubectl api-resources -o wide' output: kinds the cluster already has")
    p.add_argument("--argocd-cm", metavar="FILE",
                   help="the argocd-cm ConfigMap (YAML): the Application health check, the "
                        "tracking method, resource exclusions and inclusions")
    p.add_argument("--projects", metavar="FILE",
                   help="AppProjects kept outside the repository (multi-document YAML)")
    p.add_argument("--cluster-namespaces", metavar="FILE",
                   help="'kubectl get namespaces -o json' (or -o name) output: namespaces the "
                        "cluster already has")
    add_argocd_namespace(p)
    add_config_options(p)
    p.set_defaults(func=cmd_diff)
