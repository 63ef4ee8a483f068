"""Views of the frames and findings as text, JSON and SARIF. Nothing here recomputes."""

from __future__ import annotations

import json

import pandas as pd

from gitops_analysis.analysis.coverage import Coverage, coverage
from gitops_analysis.core.findings import chain_records, chain_text
from gitops_analysis.views import text

_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


def inventory_dict(ds, cov: Coverage | None = None) -> dict:
    cov = cov or coverage(ds)
    state = cov.frame.set_index("app")
    res = ds.resources
    kinds = res.assign(k=res["group"].where(res["group"] == "", res["group"] + "/") +
                       res["kind"].astype(str)).groupby(["app", "k"], observed=True).size()
    apps = []
    for row in ds.apps.itertuples(index=False):
        by_kind = {k: int(n) for (a, k), n in kinds.items() if a == row.app}
        apps.append({"app": row.app, "name": row.name, "namespace": row.app_namespace,
                     "wave": int(row.wave),
                     "destination_namespace": row.destination_namespace,
                     "render_status": str(row.render_status),
                     "analysis": str(state.at[row.app, "state"]),
                     "analysis_reason": str(state.at[row.app, "reason"]),
                     "resources": int(row.resources),
                     "kinds": dict(sorted(by_kind.items()))})
    acc = ds.accounting
    return {
        "accounting": {"files": acc.files, "documents": acc.documents,
                       "resources": acc.resources, "load_errors": acc.load_errors,
                       "apps_without_render": acc.apps_without_render,
                       "applications": acc.applications, "app_files": acc.app_files,
                       "app_documents": acc.app_documents, "app_load_errors": acc.app_load_errors,
                       "skipped_app_documents": acc.skipped_app_documents},
        "coverage": cov.as_dict(),
        "apps": apps,
        "load_errors": _records(ds.load_errors),
        "warnings": _records(ds.warnings),
    }


def _records(df: pd.DataFrame) -> list[dict]:
    out = []
    for rec in df.to_dict("records"):
        out.append({k: (v.item() if hasattr(v, "item") else
                        list(v) if isinstance(v, tuple) else v) for k, v in rec.items()})
    return out


def inventory_text(ds, cov: Coverage | None = None) -> str:
    cov = cov or coverage(ds)
    inv = inventory_dict(ds, cov)
    lines = [text.clip(cov.line(ds.name), text.WIDTH), "",
             f"{'app':<36} {'wave':>4}  {'namespace':<18} {'analysis':<12} {'resources':>9}  "
             "top kinds"]
    for a in inv["apps"]:
        top = sorted(a["kinds"].items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        ns = a["destination_namespace"] or "(empty)"
        # an app that was not analysed shows why, never a count of what it would deploy
        shown = a["analysis"] if a["analysis"] == "analysed" else a["analysis_reason"]
        count = str(a["resources"]) if a["analysis"] != "not-analysed" else "-"
        kinds = ", ".join(f"{k} {n}" for k, n in top) if a["analysis"] != "not-analysed" \
            else ""
        lines.append(text.clip(f"{a['app']:<36} {a['wave']:>4}  {ns:<18} {shown:<12} "
                               f"{count:>9}  {kinds}".rstrip(), text.WIDTH))
    acc = inv["accounting"]
    lines.append("")
    lines.append(f"{acc['applications']} apps, {acc['files']} rendered files, "
                 f"{acc['documents']} documents = {acc['resources']} resources + "
                 f"{acc['load_errors']} load errors; {acc['apps_without_render']} apps without a "
                 "render")
    for e in inv["load_errors"]:
        lines.append(text.clip(f"load error: {e['reason']}", text.WIDTH))
    for w in inv["warnings"]:
        lines.append(text.clip(f"warning: {w['reason']}", text.WIDTH))
    return "\n".join(lines) + "\n"


def summary_dict(findings: pd.DataFrame) -> dict:
    by_rule = findings.groupby(["slug", "severity"], observed=True).size()
    return {
        "findings": int(len(findings)),
        "by_severity": {s: int((findings["severity"] == s).sum()) for s in _SEVERITY_RANK},
        "by_rule": {f"{slug}:{sev}": int(n) for (slug, sev), n in sorted(by_rule.items())},
        "apps_failing": sorted(set(findings.loc[findings["severity"] == "error", "app"]) - {""}),
    }


# the JSON field order of a finding: where it is, what it says, why (the chain), where it comes from
JSON_FIELDS = ("rule", "slug", "severity", "argocd_condition", "app", "cluster", "group",
               "version", "kind", "namespace", "name", "message", "detail", "related_apps",
               "blocked_by", "chain", "confidence", "could_come_from", "file", "line", "origin")


def findings_records(findings: pd.DataFrame) -> list[dict]:
    recs = []
    for rec in findings.to_dict("records"):
        rec["related_apps"] = list(rec["related_apps"])
        rec["could_come_from"] = list(rec["could_come_from"])
        rec["blocked_by"] = chain_text(rec["chain"])
        rec["chain"] = chain_records(rec["chain"])
        rec["severity"] = str(rec["severity"])
        rec["line"] = int(rec["line"])
        recs.append({k: rec[k] for k in JSON_FIELDS})
    return recs


def findings_json(ds, findings: pd.DataFrame, cov: Coverage | None = None) -> str:
    doc = {"inputs": {"dataset": ds.name, **inventory_dict(ds)["accounting"]},
           "coverage": (cov or coverage(ds)).as_dict(),
           "summary": summary_dict(findings), "findings": findings_records(findings)}
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"
