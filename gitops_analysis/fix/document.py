"""The fix as files: ``fix.md`` explaining every change, the kustomizations and patches."""

from __future__ import annotations

from pathlib import Path

from gitops_analysis.fix.model import FixPlan, Proof
from gitops_analysis.fix.patches import HEALTH_SNIPPET, wave_patch


def _counts_table(before: dict, after: dict) -> list[str]:
    """Findings by rule and severity, before and after. Counted in findings: one per app and
    resource, so a resource that two apps deploy is two shared-resource findings."""
    keys = sorted(set(before) | set(after))
    lines = ["Counted in findings (one per app and resource: a resource two apps deploy is two "
             "findings):", "", "| rule | severity | findings before | findings after |",
             "|---|---|---|---|"]
    for k in keys:
        rule, _, severity = k.rpartition(":")
        lines.append(f"| {rule} | {severity} | {before.get(k, 0)} | {after.get(k, 0)} |")
    return lines


def _stem(ds, app: str) -> str:
    """The file name part of an app: Argo CD's instance name."""
    return str(ds.app(app)["instance"])


def fix_markdown(ds, plan: FixPlan, proof: Proof, *, heading: str = "#") -> str:
    h2 = heading + "#"
    lines = [f"{heading} Fix for {ds.name}", ""]
    counts = ds.apps.set_index("app")["resources"]
    changed = sorted(set(plan.drops["app"]) | set(plan.ownership["owner"]) |
                     set(plan.namespace_fixes["app"]) | set(plan.wave_changes["app"]))
    if not changed and not plan.health_snippet:
        return "\n".join(lines + ["Nothing to change: no shared resource, missing namespace or "
                                  "wave inversion."]) + "\n"
    lost = plan.drops.groupby("app").size()
    # only the apps whose counts change: an owner that takes resources over already deploys them
    resized = [a for a in changed if int(lost.get(a, 0))]
    if resized:
        lines += [f"{h2} Resource counts of the apps that change", "",
                  "| app | before | after |", "|---|---|---|"]
    for app in resized:
        lines.append(f"| `{app}` | {int(counts[app])} | {int(counts[app] - lost.get(app, 0))} |")
    if not plan.ownership.empty:
        lines += ["", f"{h2} Ownership of the {len(plan.ownership)} shared resources", "",
                  "Rule: the app whose source path is the closest origin of a resource keeps "
                  "it; an app that only aggregates it loses it. Ties (and renders without "
                  "origin data) go to the narrower app.", ""]
        by = plan.ownership.groupby(["owner", plan.ownership["losers"].map(", ".join)]).agg(
            keys=("name", "size"), example=("name", "first"), reason=("reason", "first"))
        lines += ["| owner | takes from | resources | example | reason (example) |",
                  "|---|---|---|---|---|"]
        for (owner, losers), r in by.sort_values("keys", ascending=False, kind="stable").iterrows():
            lines.append(f"| `{owner}` | {losers} | {r['keys']} | {r['example']} | {r['reason']} |")
        lines += ["", "Every key, its owner and the reason: `ownership.csv`."]
    for app in sorted(set(plan.drops["app"])):
        k = plan.kustomizations.get(app) or {
            "status": "listed", "message": "no source repository given (--repo): the resources "
                                           "to drop are listed"}
        lines += ["", f"{h2} `{app}`: {k['message']}", ""]
        if k["status"] == "written":
            lines += [f"New file `{k['path']}` (in `kustomization/{_stem(ds, app)}/` here):",
                      "",
                      "```yaml", k["text"].rstrip(), "```", "",
                      f"Application change (`patches/{_stem(ds, app)}-source.yaml`):", "",
                      "```yaml", k["patch"].rstrip(), "```"]
            for c in k["conflicts"]:
                lines.append(f"- conflict: {c}")
        else:
            drops = plan.drops[plan.drops["app"] == app]
            lines += [f"Resources to remove from `{app}` ({len(drops)}; all in "
                      f"`drops-{_stem(ds, app)}.csv`):", ""]
            for r in drops.head(10).itertuples(index=False):
                lines.append(f"- {r.group + '/' if r.group else ''}{r.kind} "
                             f"{r.namespace + '/' if r.namespace else ''}{r.name}")
            if len(drops) > 10:
                lines.append(f"- ... and {len(drops) - 10} more")
    if not plan.namespace_fixes.empty:
        lines += ["", f"{h2} Namespaces", ""]
        for f in plan.namespace_fixes.itertuples(index=False):
            lines.append(f"- `{f.name}` ({f.kind}, `{f.file}:{f.line}`) in `{f.app}`: give it "
                         f"namespace `{f.namespace}` ({f.reason}).")
    if not plan.wave_changes.empty or plan.skip_dry_run:
        lines += ["", f"{h2} Waves", ""]
        for w in plan.wave_changes.itertuples(index=False):
            lines.append(f"- `{w.app}`: wave {w.old_wave} -> {w.new_wave} ({w.reason}); "
                         f"`patches/{_stem(ds, w.app)}-wave.yaml`.")
        for a in plan.skip_dry_run:
            lines.append(f"- `{a}`: add `SkipDryRunOnMissingResource=true` to its syncOptions "
                         "(its dependencies form a cycle that no wave order satisfies).")
    if plan.health_snippet:
        lines += ["", f"{h2} argocd-cm", "",
                  "Waves between Applications only hold with the Application health check "
                  "(`argocd-cm.yaml` here):", "", "```yaml", HEALTH_SNIPPET.rstrip(), "```"]
    lines += ["", f"{h2} Proof", "",
              "The fix applied to the frames in memory and every rule run again:", ""]
    lines += _counts_table(proof.before, proof.after)
    for app, r in sorted(proof.rendered.items()):
        lines.append("")
        lines.append(f"Real render of the new `{app}` kustomization: "
                     f"{'ok' if r['ok'] else 'FAILED'}: {r['message']}.")
    if proof.remaining.empty:
        lines += ["", "No shared resource, missing namespace, late dependency or blocked app "
                  "remains." if proof.ok else ""]
    else:
        lines += ["", "Remaining after the fix:", ""]
        for r in proof.remaining.itertuples(index=False):
            lines.append(f"- {r.slug} ({r.app}): {r.message}")
    return "\n".join(lines).rstrip() + "\n"


def write_fix(out: str | Path, ds, plan: FixPlan, proof: Proof) -> list[Path]:
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = []

    def stem(app: str) -> str:  # file names: Argo CD's instance name of the app
        return str(ds.app(app)["instance"])

    def put(rel: str, text: str) -> None:
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)

    put("fix.md", fix_markdown(ds, plan, proof))
    if not plan.ownership.empty:
        own = plan.ownership.assign(losers=plan.ownership["losers"].map(" ".join))
        put("ownership.csv", own.to_csv(index=False))
    for app, k in sorted(plan.kustomizations.items()):
        if k["status"] == "written":
            put(f"kustomization/{stem(app)}/kustomization.yaml", k["text"])
            put(f"patches/{stem(app)}-source.yaml", k["patch"])
    for app in sorted(set(plan.drops["app"])):
        if plan.kustomizations.get(app, {}).get("status") != "written":
            put(f"drops-{stem(app)}.csv",
                plan.drops[plan.drops["app"] == app].to_csv(index=False))
    for w in plan.wave_changes.itertuples(index=False):
        put(f"patches/{stem(w.app)}-wave.yaml", wave_patch(ds, w.app, int(w.new_wave)))
    if plan.health_snippet:
        put("argocd-cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\n"
            "  namespace: argocd\ndata:\n" +
            "".join(f"  {line}\n" if line else "\n" for line in HEALTH_SNIPPET.splitlines()))
    return written
