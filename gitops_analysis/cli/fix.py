"""``fix``: an owner for every shared resource, narrowed kustomizations, waves, and the proof."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gitops_analysis.cli.common import (
    COMMAND_HELP,
    EXIT_FINDINGS,
    EXIT_OK,
    add_cluster_options,
    add_dataset,
    load,
    rule_options,
)


def add_commands(subparsers, parser_class=None) -> None:
    fx = subparsers.add_parser("fix", help=COMMAND_HELP["fix"])
    add_dataset(fx)
    fx.add_argument("--repo", help="the source repository: write kustomizations and render them")
    fx.add_argument("--out", required=True, help="output folder for fix.md and the files")
    add_cluster_options(fx)
    fx.set_defaults(func=cmd_fix)


def cmd_fix(args: argparse.Namespace) -> int:
    from gitops_analysis.fix.document import write_fix
    from gitops_analysis.fix.proof import make_fix

    ds = load(args)
    plan, proof = make_fix(ds, repo=args.repo, **rule_options(args))
    write_fix(args.out, ds, plan, proof)
    shared = ("shared-resource", "shared-crd")
    before = sum(v for k, v in proof.before.items() if k.split(":")[0] in shared)
    after = sum(v for k, v in proof.after.items() if k.split(":")[0] in shared)
    errors_before = sum(v for k, v in proof.before.items() if k.endswith(":error"))
    errors_after = sum(v for k, v in proof.after.items() if k.endswith(":error"))
    sys.stdout.write(f"shared-resource findings {before} -> {after}, errors {errors_before} -> "
                     f"{errors_after}; {len(plan.ownership)} shared keys given an owner, "
                     f"{len(plan.wave_changes)} wave changes\n")
    for app, r in sorted(proof.rendered.items()):
        sys.stdout.write(f"render of the new {app} kustomization: "
                         f"{'ok' if r['ok'] else 'FAILED'}: {r['message']}\n")
    for r in proof.remaining.itertuples(index=False):
        sys.stdout.write(f"remaining: {r.slug} {r.app}: {r.message}\n")
    sys.stdout.write(f"wrote {Path(args.out) / 'fix.md'}\n")
    return EXIT_OK if proof.ok else EXIT_FINDINGS
