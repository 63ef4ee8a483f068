"""The command line: ``gitops-analysis inventory|check|fix|report|render|import-live|reconcile|
rules|docs``.

Exit codes, for every command: 0 done and nothing to report at the chosen threshold; 1 done,
with findings at ``--fail-on`` (check) or a notebook that failed (report); 2 usage or input
error (nothing useful done).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gitops_analysis.core.errors import GitopsAnalysisError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 too; keep our one-line form
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: {message}: see --help\n")


def _load(args):
    from gitops_analysis.load.dataset import load_dataset

    return load_dataset(args.dataset, cluster_api=getattr(args, "cluster_api", None))


def cmd_inventory(args) -> int:
    from gitops_analysis.views import formats

    ds = _load(args)
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(formats.inventory_dict(ds), indent=2) + "\n")
    else:
        sys.stdout.write(formats.inventory_text(ds))
    return EXIT_OK


def _findings(args):
    ds = _load(args)  # first: the rules (and pandas) are imported while workers parse
    from gitops_analysis.load.argocdcm import health_check_configured
    from gitops_analysis.rules import run_rules

    configured = health_check_configured(args.argocd_cm) if args.argocd_cm else False
    return ds, run_rules(ds, health_check_configured=configured)


def _exit_for(severities: dict, fail_on: str) -> int:
    if fail_on == "never":
        return EXIT_OK
    levels = ["error"] if fail_on == "error" else ["error", "warning"]
    return EXIT_FINDINGS if any(severities.get(s, 0) for s in levels) else EXIT_OK


def cmd_check(args) -> int:
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
                return _exit_for(meta["severities"], args.fail_on)
    ds, findings = _findings(args)
    from gitops_analysis.rules import all_rules
    from gitops_analysis.views import formats

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
    return _exit_for(severities, args.fail_on)


def cmd_rules(args) -> int:
    from gitops_analysis.rules import all_rules

    for r in all_rules():
        sys.stdout.write(f"{r.id}  {r.slug:<26} {r.severity:<8} "
                         f"{r.argocd_condition or '-':<22} {r.summary}\n")
    return EXIT_OK


def cmd_docs(args) -> int:
    from gitops_analysis.core.schema import frames_markdown
    from gitops_analysis.rules import rules_markdown

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "rules.md").write_text(rules_markdown(), encoding="utf-8")
    (out / "frames.md").write_text(frames_markdown(), encoding="utf-8")
    sys.stdout.write(f"wrote {out / 'rules.md'} and {out / 'frames.md'}\n")
    return EXIT_OK


def cmd_fix(args) -> int:
    from gitops_analysis.fix.document import run_fix
    from gitops_analysis.load.argocdcm import health_check_configured

    configured = health_check_configured(args.argocd_cm) if args.argocd_cm else False
    _, plan, proof = run_fix(args.dataset, args.out, repo=args.repo,
                             cluster_api=args.cluster_api, health_check_configured=configured)
    before = sum(v for k, v in proof.before.items() if k.split(":")[0] in
                 ("shared-resource", "shared-crd"))
    after = sum(v for k, v in proof.after.items() if k.split(":")[0] in
                ("shared-resource", "shared-crd"))
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


def cmd_report(args) -> int:
    from gitops_analysis.views.report import write_report

    return write_report(args.dataset, args.out, app=args.app, argocd_cm=args.argocd_cm,
                        cluster_api=args.cluster_api, repo=args.repo)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; ``command`` (the one being run) lets the others stay unimported."""
    p = _Parser(prog="gitops-analysis", description="Find what will break an Argo CD GitOps "
                "repository before Argo CD syncs it, and explain an incident after it did.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    inv = sub.add_parser("inventory", help="apps, resource counts by kind, and the accounting")
    inv.add_argument("dataset", help="dataset folder (apps/ and rendered/)")
    inv.add_argument("--format", choices=["text", "json"], default="text")
    inv.set_defaults(func=cmd_inventory)

    chk = sub.add_parser("check", help="predict Argo CD's conditions and the cascade")
    chk.add_argument("dataset", help="dataset folder (apps/ and rendered/)")
    chk.add_argument("--format", choices=["text", "json", "sarif"], default="text")
    chk.add_argument("--fail-on", choices=["error", "warning", "never"], default="error",
                     help="exit 1 when a finding reaches this severity (default: error)")
    chk.add_argument("--cluster-api", metavar="FILE",
                     help="'kubectl api-resources -o wide' output: kinds the cluster already has")
    chk.add_argument("--argocd-cm", metavar="FILE",
                     help="the argocd-cm ConfigMap (YAML): is the Application health check set?")
    chk.add_argument("--no-cache", action="store_true",
                     help="do not read or write the cache (~/.cache/gitops-analysis, or "
                          "$GITOPS_ANALYSIS_CACHE)")
    chk.set_defaults(func=cmd_check)

    rules = sub.add_parser("rules", help="list the rules")
    rules.set_defaults(func=cmd_rules)

    docs = sub.add_parser("docs", help="write docs/rules.md and docs/frames.md")
    docs.add_argument("--out", default="docs")
    docs.set_defaults(func=cmd_docs)

    fx = sub.add_parser("fix", help="choose an owner for every shared resource, write the "
                                    "narrowed kustomizations and wave changes, and prove them")
    fx.add_argument("dataset", help="dataset folder (apps/ and rendered/)")
    fx.add_argument("--repo", help="the source repository: write kustomizations and render them")
    fx.add_argument("--out", required=True, help="output folder for fix.md and the files")
    fx.add_argument("--cluster-api", metavar="FILE")
    fx.add_argument("--argocd-cm", metavar="FILE")
    fx.set_defaults(func=cmd_fix)

    rep = sub.add_parser("report", help="write the reports of a dataset into a folder")
    rep.add_argument("dataset", help="dataset folder (apps/ and rendered/)")
    rep.add_argument("--out", default="reports", help="output folder (default: reports)")
    rep.add_argument("--app", help="the app the incident write-up is about (default: the worst)")
    rep.add_argument("--cluster-api", metavar="FILE")
    rep.add_argument("--argocd-cm", metavar="FILE")
    rep.add_argument("--repo", help="the source repository: the fix's kustomizations are "
                                    "written and rendered for real")
    rep.set_defaults(func=cmd_report)
    for module, commands in _COMMAND_MODULES.items():
        if command is None or command in commands:
            _add_module_commands(sub, module)
        else:  # listed in --help, loaded only when run
            for name, help_text in commands.items():
                sub.add_parser(name, help=help_text)
    return p


# Modules that add their own subcommands with ``add_commands(subparsers)``; they keep heavy
# imports inside their command functions so that every command still starts fast.
_COMMAND_MODULES = {
    "render.run": {"render": "render every Application of a repository into a dataset"},
    "cli.live": {"import-live": "turn an Argo CD export into a dataset's apps/ and keep it in "
                                "live/",
                 "reconcile": "predicted findings versus what Argo CD reports (an export)"},
}


def _add_module_commands(sub, module: str) -> None:
    import importlib

    try:
        mod = importlib.import_module(f"gitops_analysis.{module}")
    except ModuleNotFoundError as exc:
        if exc.name == f"gitops_analysis.{module}":
            return
        raise
    mod.add_commands(sub, _Parser)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    args = build_parser(command).parse_args(argv)
    try:
        return args.func(args)
    except GitopsAnalysisError as exc:
        sys.stderr.write(f"gitops-analysis {args.command}: {exc}\n")
        return exc.exit_code
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
