"""Views of the frames and findings as text, JSON and SARIF. Nothing here recomputes."""

from __future__ import annotations

import json

import pandas as pd

from gitops_analysis.analysis.coverage import Coverage, coverage
from gitops_analysis.core.findings import chain_records, chain_text
from gitops_analysis.core.words import plural
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


KINDS_MIN = 20  # the top-kinds column gets at least this much; the app column gives way


def _inventory_rows(inv: dict) -> list[tuple[str, str, str, str, str, str]]:
    rows = []
    for a in inv["apps"]:
        top = sorted(a["kinds"].items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        # an app that was not analysed shows why, never a count of what it would deploy
        shown = a["analysis"] if a["analysis"] == "analysed" else a["analysis_reason"]
        analysed = a["analysis"] != "not-analysed"
        rows.append((a["app"], str(a["wave"]), a["destination_namespace"] or "(empty)", shown,
                     str(a["resources"]) if analysed else "-",
                     ", ".join(f"{k} {n}" for k, n in top) if analysed else ""))
    return rows


def _table(rows: list[tuple[str, str, str, str, str, str]], width: int) -> list[str]:
    """The apps table, columns as wide as their data: an app name too long for its column
    (when the table would not fit ``width``) goes on a line of its own and its row on the next;
    the top kinds, a summary, are cut with ``…`` at the width (the JSON has them all)."""
    head = ("app", "wave", "namespace", "analysis", "resources", "top kinds")
    wave, ns, state, count = (max(len(h), *(len(r[i]) for r in rows))
                              for i, h in ((1, head[1]), (2, head[2]), (3, head[3]),
                                           (4, head[4])))
    rest = wave + ns + state + count + 7  # the spaces between the columns
    app = min(max(len(head[0]), *(len(r[0]) for r in rows)), max(width - rest - KINDS_MIN, 12))

    def line(r: tuple[str, ...], name: str) -> str:
        return text.clip(f"{name:<{app}} {r[1]:>{wave}}  {r[2]:<{ns}} {r[3]:<{state}} "
                         f"{r[4]:>{count}}  {r[5]}".rstrip(), width)

    out = [line(head, head[0])]
    for r in rows:
        if len(r[0]) > app:
            out += text.fold(r[0], width)
            out.append(line(r, ""))
        else:
            out.append(line(r, r[0]))
    return out


def inventory_text(ds, cov: Coverage | None = None) -> str:
    cov = cov or coverage(ds)
    inv = inventory_dict(ds, cov)
    lines = [*text.fold(cov.line(ds.name)), "", *_table(_inventory_rows(inv), text.WIDTH)]
    acc = inv["accounting"]
    lines.append("")
    lines += text.fold(f"{plural(acc['applications'], 'app')}, "
                       f"{plural(acc['files'], 'rendered file')}, "
                       f"{plural(acc['documents'], 'document')} = "
                       f"{plural(acc['resources'], 'resource')} + "
                       f"{plural(acc['load_errors'], 'load error')}; "
                       f"{plural(acc['apps_without_render'], 'app')} without a render")
    for e in inv["load_errors"]:
        lines += text.fold(f"load error: {e['reason']}")
    for w in inv["warnings"]:
        lines += text.fold(f"warning: {w['reason']}")
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
