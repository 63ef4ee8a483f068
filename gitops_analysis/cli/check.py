"""``check``: predict Argo CD's conditions and the cascade; answers from the cache when it can."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gitops_analysis.cli.common import (
    COMMAND_HELP,
    EXIT_FINDINGS,
    EXIT_NOTHING,
    EXIT_OK,
    add_cluster_options,
    add_config_options,
    add_dataset,
    config_of,
    exit_for,
    load,
    rule_options,
)
from gitops_analysis.core.errors import NotADatasetError

if TYPE_CHECKING:
    from gitops_analysis.load.config import Config


def add_commands(subparsers, parser_class=None) -> None:
    chk = subparsers.add_parser("check", help=COMMAND_HELP["check"])
    add_dataset(chk)
    chk.add_argument("--format", choices=["text", "json", "sarif"], default="text")
    chk.add_argument("--fail-on", choices=["error", "warning", "never"], default="error",
                     help="exit 1 when a finding reaches this severity (default: error)")
    chk.add_argument("--require-complete", action="store_true",
                     help="exit 1 when any app is not fully analysed")
    chk.add_argument("--verbose", "-v", action="store_true",
                     help="text: every finding's details (chain, where, what could supply it)")
    chk.add_argument("--show-all", action="store_true",
                     help="text: every finding, no per-rule cap, consequences unfolded")
    add_cluster_options(chk)
    add_config_options(chk)
    base = chk.add_mutually_exclusive_group()
    base.add_argument("--baseline", metavar="FILE",
                      help="report only findings not in this baseline, and its entries no "
                           "longer seen")
    base.add_argument("--write-baseline", metavar="FILE",
                      help="record the findings reported (by rule, app and resource) as the "
                           "baseline, and exit 0")
    chk.add_argument("--no-cache", action="store_true",
                     help="do not read or write the cache (~/.cache/gitops-analysis, or "
                          "$GITOPS_ANALYSIS_CACHE)")
    chk.set_defaults(func=cmd_check)


def _use_color(args: argparse.Namespace) -> bool:
    return args.format == "text" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _exit(meta: dict, args: argparse.Namespace) -> int:
    code = exit_for(meta["severities"], args.fail_on)
    if args.require_complete and not meta["complete"]:
        return EXIT_FINDINGS
    nothing = meta.get("nothing") or []
    if nothing and args.format != "text":  # the text says it; a JSON or SARIF file does not
        sys.stderr.write(f"gitops-analysis check: {args.dataset}: {nothing[0]}: "
                         + "; ".join(nothing[1:]) + "\n")
    if nothing and code == EXIT_OK:  # a check that looked at nothing never passes
        return EXIT_NOTHING
    return code


def _never_rendered(root: Path) -> bool:
    """No render-status.json and no rendered/: render never ran on this dataset."""
    return not (root / "render-status.json").exists() and not (root / "rendered").is_dir()


def _settings(args: argparse.Namespace, config: Config) -> None:
    """The configuration's cluster profile and control-plane namespace where no flag is given."""
    args.cluster_api = args.cluster_api or config.cluster_api
    if args.cluster_namespaces is None:
        args.cluster_namespaces = config.cluster_namespaces
    if args.argocd_namespace is None:  # still None: the dataset's (render-status.json)
        args.argocd_namespace = config.control_plane_namespace


def _cache_entry(args: argparse.Namespace, color: bool, config: Config) -> str | None:
    """The cache key of this answer: every input it depends on (the dataset's files, what the
    folder is called — the output names it —, options and the files they name)."""
    from gitops_analysis.load import cache

    root = Path(args.dataset)
    if not (root / "apps").is_dir():
        return None  # not a dataset: the loader says why, every time
    digest = cache.dataset_digest(root)
    if digest is None:
        return None
    namespaces = args.cluster_namespaces
    return cache.key("check", digest, root.resolve().name, args.format,
                     cache.file_digest(args.cluster_api), cache.file_digest(args.argocd_cm),
                     cache.file_digest(args.projects),
                     cache.file_digest(namespaces) if isinstance(namespaces, str) else
                     repr(namespaces), repr(args.argocd_namespace), config.digest(),
                     cache.file_digest(args.baseline),
                     f"verbose={args.verbose}", f"all={args.show_all}", f"color={color}")


def cmd_check(args: argparse.Namespace) -> int:
    from gitops_analysis.load import cache

    color = _use_color(args)
    config = config_of(args, os.getcwd())
    _settings(args, config)
    entry = None if args.no_cache or args.write_baseline else \
        _cache_entry(args, color, config)
    if entry is not None:
        hit = cache.get("check", entry)
        if hit is not None:
            data, meta = hit
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
            return _exit(meta, args)
    ds = load(args, config)  # first: the rules (and pandas) are imported while workers parse
    if ds.apps.empty:
        raise NotADatasetError("no Application in apps/", file=str(Path(args.dataset) / "apps"),
                               todo="put the Application manifests there, or run render")
    from gitops_analysis.analysis.coverage import coverage

    cov = coverage(ds)
    if (cov.frame["state"] == "not-analysed").all() and _never_rendered(Path(args.dataset)):
        raise NotADatasetError(
            f"nothing was analysed: none of the {len(ds.apps)} apps has a render",
            file=str(Path(args.dataset) / "rendered"),
            todo="render the repository first (gitops-analysis render REPO --out DATASET)")
    from gitops_analysis.rules import all_rules, run_rules
    from gitops_analysis.rules.policy import apply_policy, policy_from
    from gitops_analysis.views import diff as extras
    from gitops_analysis.views import formats, sarif, text

    policy = policy_from(config)
    findings, silenced = apply_policy(run_rules(ds, cov=cov, **rule_options(args)), ds, policy)
    match = None
    if args.write_baseline:
        from gitops_analysis.diff.baseline import write_baseline

        n = write_baseline(args.write_baseline, findings)
        sys.stderr.write(f"check: baseline {args.write_baseline}: {n} finding"
                         f"{'s' if n != 1 else ''} recorded\n")
    elif args.baseline:
        from gitops_analysis.diff.baseline import apply_baseline, read_baseline

        match = apply_baseline(findings, read_baseline(args.baseline), args.baseline)
        findings = match.new
    if args.format == "json":
        out = extras.check_json(formats.findings_json(ds, findings, cov), silenced, match)
    elif args.format == "sarif":
        out = extras.check_sarif(sarif.findings_sarif(ds, findings, all_rules(), cov),
                                 silenced, match)
    else:
        out = extras.check_text(text.findings_text(ds, findings, cov, text.Style(
            color=color, verbose=args.verbose, show_all=args.show_all)), silenced, match)
    meta = {"severities": {str(k): int(v) for k, v in findings["severity"].value_counts().items()},
            "complete": cov.complete, "nothing": cov.nothing_analysed()}
    if args.write_baseline:
        sys.stdout.write(out)
        return EXIT_OK
    if entry is not None:
        cache.put("check", entry, out.encode("utf-8"), meta)
    sys.stdout.write(out)
    return _exit(meta, args)
