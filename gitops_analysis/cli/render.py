"""The ``render`` subcommand; the work is in :mod:`gitops_analysis.render.run`, imported only
when the command runs (so that other commands start fast)."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO, cast

from gitops_analysis.cli.common import COMMAND_HELP, add_argocd_namespace, argocd_namespace_of
from gitops_analysis.core.errors import GitopsAnalysisError
from gitops_analysis.render.kustomize import KUSTOMIZE_CHOICES


def _argocd_namespace(args: argparse.Namespace) -> str | None:
    """``--argocd-namespace``, else the configuration's (the .gitops-analysis.toml found from
    REPO upwards, else from the working directory); None when neither gives one."""
    from gitops_analysis.load.config import config_for

    if args.argocd_namespace:
        return str(args.argocd_namespace)
    return config_for(args.repo, None).control_plane_namespace or argocd_namespace_of(args)


class _Folding:
    """A stream whose whole lines are folded to check's width (views.text.fold: continuation
    lines indented, nothing cut); what is not a whole line (the progress bar's ``\r``
    updates) passes as it is."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        from gitops_analysis.views.text import fold

        if "\r" in text or not text.endswith("\n"):
            return self._stream.write(text)
        lines = [part for line in text[:-1].split("\n") for part in fold(line)]
        return self._stream.write("\n".join(lines) + "\n")

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno: the stream's
        return getattr(self._stream, name)


def cmd_render(args: argparse.Namespace) -> int:
    from gitops_analysis.render.run import render_repository

    out, err = _Folding(sys.stdout), _Folding(sys.stderr)
    try:
        report = render_repository(
            args.repo, args.out, apps_paths=args.apps, repo_map=args.repo_map,
            allow_remote=args.allow_remote, jobs=args.jobs, use_cache=not args.no_cache,
            timeout=args.timeout, kustomize=args.kustomize, helm=args.helm,
            chart_cache=args.chart_cache, progress=cast(TextIO, err),
            argocd_namespace=_argocd_namespace(args), clusters=args.clusters)
    except GitopsAnalysisError as exc:  # main's line, folded as every other line of render
        err.write(f"gitops-analysis render: {exc}\n")
        return exc.exit_code
    for line in report.lines():
        out.write(line + "\n")
    return report.exit_code


def add_commands(subparsers: Any,
                 parser_class: type[argparse.ArgumentParser] | None = None) -> None:
    """Add ``render`` to the CLI (called by ``cli.main.build_parser``)."""
    p = subparsers.add_parser(
        "render", help=COMMAND_HELP["render"],
        description="Render the Argo CD Applications of REPO with the real kustomize/helm into "
                    "DATASET: apps/, rendered/ and render-status.json. ApplicationSets are "
                    "expanded into the Applications Argo CD would generate. Without --apps, "
                    "render starts from the roots (Applications and ApplicationSets that yield "
                    "others and that no other app reaches) and follows what their output "
                    "holds; files no root reaches are listed as unreachable. Exit 0: every app "
                    "rendered; 1: some app not rendered (external, remote, unsupported, failed, "
                    "fetch-failed, escaped) or some ApplicationSet not expanded; 2: usage or "
                    "input error.")
    p.add_argument("repo", metavar="REPO", help="the repository (a checkout) the apps point at")
    p.add_argument("--apps", metavar="PATH", nargs="+", action="extend", default=None,
                   help="Application and ApplicationSet files or folders (default: the roots "
                        "of REPO and what they reach)")
    p.add_argument("--out", metavar="DATASET", required=True, help="the dataset folder to write")
    p.add_argument("--repo-map", metavar="URL=DIR", action="append", default=[],
                   help="a repository URL the apps (or the Git generators of ApplicationSets) "
                        "name, and the local folder that holds it")
    p.add_argument("--clusters", metavar="FILE", default=None,
                   help="Argo CD cluster Secrets (kubectl get secrets -n argocd -o yaml) for "
                        "the clusters generator of ApplicationSets and their destinations")
    p.add_argument("--allow-remote", action="store_true",
                   help="fetch remote bases, charts and values files (default: status remote; "
                        "charts already in --chart-cache render without it)")
    p.add_argument("--jobs", type=int, metavar="N", default=None,
                   help="renders in parallel (default: the number of cores)")
    p.add_argument("--no-cache", action="store_true",
                   help="render every app again (cache: $GITOPS_ANALYSIS_CACHE/render, else "
                        "~/.cache/gitops-analysis/render, or under $XDG_CACHE_HOME)")
    p.add_argument("--timeout", type=float, metavar="SECONDS", default=120,
                   help="time limit of one app's render (default: 120)")
    p.add_argument("--kustomize", choices=KUSTOMIZE_CHOICES, default="auto",
                   help="kustomize renderer: a binary on PATH, else pykustomize (default: auto)")
    # render.helm's HELM_CHOICES, written out: importing render.helm would slow every command
    p.add_argument("--helm", choices=("auto", "binary", "helm-python-sdk", "none"),
                   default="auto",
                   help="Helm renderer: a binary on PATH, else helm-python-sdk (default: auto)")
    p.add_argument("--chart-cache", metavar="DIR", default=None,
                   help="keep the charts pulled from Helm repositories and OCI registries in DIR "
                        "and read it first: a chart found there renders with no network")
    add_argocd_namespace(p)
    p.set_defaults(func=cmd_render)
