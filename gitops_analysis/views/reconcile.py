"""Reconcile results as a reader sees them: text for a terminal, JSON, and the write-up's
Markdown section."""

from __future__ import annotations

import json

from gitops_analysis.analysis.coverage import Coverage
from gitops_analysis.core.words import plural
from gitops_analysis.live.reconcile import REASON_ORDER, REASONS, ReconcileResult
from gitops_analysis.views.text import folded


def reconcile_json(result: ReconcileResult, cov: Coverage | None = None) -> str:
    doc = result.to_dict()
    if cov is not None:  # what the predictions could not see
        doc["coverage"] = cov.as_dict()
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _res(row) -> str:
    if not row["kind"]:
        return "-"
    gk = f"{row['group']}/{row['kind']}" if row["group"] else row["kind"]
    ns = f"{row['namespace']}/" if row["namespace"] else ""
    return f"{gk} {ns}{row['name']}"


def reconcile_text(result: ReconcileResult, cov: Coverage | None = None) -> str:
    s = result.summary
    a = s["apps"]
    out = [f"reconcile: dataset {s['dataset']} against {s['export']}",
           f"  apps: {a['dataset']} in the dataset, {a['export']} in the export "
           f"({a['without_status']} without status)"]
    if a["only_in_dataset"]:
        out.append(f"  only in the dataset: {', '.join(a['only_in_dataset'])}")
    if a["only_in_export"]:
        out.append(f"  only in the export: {', '.join(a['only_in_export'])}")
    bs = s["observed_by_source"]
    out.append(f"  observed: {s['observed']} ({plural(bs['condition'], 'condition')}, "
               f"{plural(bs['sync_result'], 'failed sync result')}, "
               f"{plural(bs['operation'], 'failed operation')}): "
               f"{s['observed_explained']} explained, {s['observed_only']} "
               "observed only")
    mm = s["matched_by_match"]
    out.append(f"  predicted: {plural(s['predictions'], 'finding')}: {s['matched']} matched "
               f"({mm['exact']} exact, {mm['same-cause']} same cause, {mm['other-side']} other "
               f"side), {s['predicted_only']} predicted only ({s['refuted']} refuted by the "
               "export)")
    if s["in_flight"]:
        out.append(f"  sync in flight: {', '.join(s['in_flight'])}")
    out.append("")
    informational = s["observed_only_informational"]
    out.append(f"OBSERVED ONLY ({len(result.observed_only)}, {informational} informational): "
               "Argo CD reports it, no prediction explains it")
    for r in result.observed_only.to_dict(orient="records"):
        what = r["type"] if r["source"] == "condition" else \
            f"{r['source'].replace('_', ' ')} {r['type']}"
        out.append(f"  {r['app']}  {what}  {_res(r)}  ({r['note']})")
        out.append(f"    observed:  {r['observed_message']}")
        if r["revision"]:
            out.append(f"    revision:  {r['revision']}")
        out.append("    predicted: -")
    out.append("")
    out.append(f"MATCHED ({len(result.matched)})")
    for r in result.matched.to_dict(orient="records"):
        more = f", {r['observed_count']} observed" if r["observed_count"] > 1 else ""
        out.append(f"  {r['app']}  {r['argocd_condition']}  {r['match']}{more}  {_res(r)}")
        out.append(f"    predicted: {r['predicted_message']}")
        out.append(f"    observed:  {r['observed_message']}")
    out.append("")
    out.append(f"PREDICTED ONLY ({len(result.predicted_only)})")
    po = result.predicted_only
    for reason in REASON_ORDER:
        rows = po[po["reason"] == reason].to_dict(orient="records")
        if not rows:
            continue
        out.append(f"  {reason} ({len(rows)}): {REASONS[reason]}")
        for r in rows:
            cond = r["argocd_condition"] or "-"
            note = f"  ({r['note']})" if r["note"] else ""
            out.append(f"    {r['app'] or '-'}  {cond}  {_res(r)}{note}")
            out.append(f"      predicted: {r['predicted_message']}")
            if r["observed_message"]:
                out.append(f"      observed:  {r['observed_message']}")
    if cov is not None:  # what the predictions could not see
        out += ["", cov.line(f"predictions made on {s['dataset']}")]
    return "\n".join(folded(out)) + "\n"  # 120 columns: long lines go on indented, never cut


def _md(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ") \
        .replace("`", "'")


def _what(row: dict) -> str:
    if row.get("source") in ("sync_result", "operation"):
        return "SyncError"
    return row.get("argocd_condition") or row.get("type") or "(none)"


def reconcile_markdown(result: ReconcileResult) -> str:
    """A section ``## Predicted versus observed`` for the incident write-up."""
    s = result.summary
    mm = s["matched_by_match"]
    lines = ["## Predicted versus observed", "",
             f"The findings for `{s['dataset']}` against what Argo CD reports in "
             f"`{s['export']}`: {plural(s['observed'], 'observation')} (conditions, failed sync "
             f"results, failed operations), {s['observed_explained']} explained by a prediction "
             "and "
             f"**{s['observed_only']} observed only**; {plural(s['predictions'], 'prediction')}, "
             f"{s['matched']} matched ({mm['exact']} exact, {mm['same-cause']} same cause, "
             f"{mm['other-side']} other side) and {s['predicted_only']} predicted only.", ""]
    groups: dict[tuple[str, str], dict] = {}

    def group(app: str, what: str) -> dict:
        return groups.setdefault((app, what), {"matched": 0, "predicted": 0, "observed": 0,
                                               "pm": "", "om": ""})

    for r in result.matched.to_dict(orient="records"):
        g = group(r["app"], _what(r))
        g["matched"] += 1
        g["pm"] = g["pm"] or r["predicted_message"]
        g["om"] = g["om"] or r["observed_message"]
    for r in result.predicted_only.to_dict(orient="records"):
        if r["reason"] == "silent":
            continue
        g = group(r["app"], _what(r))
        g["predicted"] += 1
        g["pm"] = g["pm"] or r["predicted_message"]
    for r in result.observed_only.to_dict(orient="records"):
        g = group(r["app"], _what(r))
        g["observed"] += 1
        g["om"] = g["om"] or r["observed_message"]
    lines += ["| app | Argo CD condition | matched | predicted only | observed only | "
              "predicted (example) | observed (example) |",
              "|---|---|---:|---:|---:|---|---|"]
    for (app, what), g in sorted(groups.items()):
        lines.append(f"| {_md(app) or '-'} | {_md(what)} | {g['matched']} | {g['predicted']} | "
                     f"{g['observed']} | {_md(g['pm']) or '-'} | {_md(g['om']) or '-'} |")
    lines.append("")
    if len(result.observed_only):
        lines += ["### Reported by Argo CD, predicted by no rule", "",
                  "| app | what | resource | observed message |", "|---|---|---|---|"]
        for r in result.observed_only.to_dict(orient="records"):
            what = r["type"] if r["source"] == "condition" else \
                f"{r['source'].replace('_', ' ')} {r['type']}"
            lines.append(f"| {_md(r['app'])} | {_md(what)} | {_md(_res(r))} | "
                         f"{_md(r['observed_message'])} |")
        lines.append("")
    by_reason = s["predicted_only_by_reason"]
    if by_reason:
        lines += ["### Predicted, not reported", "", "| reason | predictions | what it means |",
                  "|---|---:|---|"]
        for reason, n in by_reason.items():
            lines.append(f"| {reason} | {n} | {_md(REASONS[reason])} |")
        lines.append("")
    return "\n".join(lines)
