"""``check``: predict Argo CD's conditions and the cascade; answers from the cache when it can."""

from __future__ import annotations

import argparse
import sys

from gitops_analysis.cli.common import (
    COMMAND_HELP,
    add_cluster_options,
    add_dataset,
    exit_for,
    health_check,
    load,
)


def add_commands(subparsers, parser_class=None) -> None:
    chk = subparsers.add_parser("check", help=COMMAND_HELP["check"])
    add_dataset(chk)
    chk.add_argument("--format", choices=["text", "json", "sarif"], default="text")
    chk.add_argument("--fail-on", choices=["error", "warning", "never"], default="error",
                     help="exit 1 when a finding reaches this severity (default: error)")
    add_cluster_options(chk)
    chk.add_argument("--no-cache", action="store_true",
                     help="do not read or write the cache (~/.cache/gitops-analysis, or "
                          "$GITOPS_ANALYSIS_CACHE)")
    chk.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    from gitops_analysis.load import cache

    entry = None
    if not args.no_cache:
        digest = cache.dataset_digest(args.dataset)
        if digest is not None:
            entry = cache.key("check", digest, args.format, cache.file_digest(args.cluster_api),
                              cache.file_digest(args.argocd_cm))
            hit = cache.get("check", entry)
            if hit is not None:
                data, meta = hit
                sys.stdout.buffer.write(data)
                sys.stdout.flush()
                return exit_for(meta["severities"], args.fail_on)
    ds = load(args)  # first: the rules (and pandas) are imported while workers parse
    from gitops_analysis.rules import all_rules, run_rules
    from gitops_analysis.views import formats

    findings = run_rules(ds, health_check_configured=health_check(args))
    if args.format == "json":
        text = formats.findings_json(ds, findings)
    elif args.format == "sarif":
        text = formats.findings_sarif(ds, findings, all_rules())
    else:
        text = formats.findings_text(ds, findings)
    severities = {str(k): int(v) for k, v in findings["severity"].value_counts().items()}
    if entry is not None:
        cache.put("check", entry, text.encode("utf-8"), {"severities": severities})
    sys.stdout.write(text)
    return exit_for(severities, args.fail_on)
