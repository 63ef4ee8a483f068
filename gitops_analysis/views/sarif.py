"""SARIF 2.1.0 for code scanning: every result has a location (the repository file that
produced the resource when known, else the rendered file, else the Application's file), a
stable ``partialFingerprints`` entry, and what was not analysed is a tool execution
notification."""

from __future__ import annotations

import hashlib
import json

import pandas as pd

from gitops_analysis.analysis.coverage import Coverage
from gitops_analysis.core.findings import chain_text, finding_identity
from gitops_analysis.core.version import __version__

LEVEL = {"error": "error", "warning": "warning", "info": "note"}
SRCROOT = "%SRCROOT%"  # the repository root, as code scanning resolves it
DATASET = "DATASET"
FINGERPRINT = "gitopsAnalysisFinding/v1"


def _location(rec: dict, app_files: dict[str, tuple[str, int]], fallback: tuple[str, int]
              ) -> dict:
    if rec["origin"]:
        return {"physicalLocation": {"artifactLocation": {"uri": rec["origin"],
                                                          "uriBaseId": SRCROOT}}}
    if rec["file"]:
        uri, line = rec["file"], int(rec["line"])
    else:
        uri, line = app_files.get(rec["app"], fallback)
    return {"physicalLocation": {"artifactLocation": {"uri": uri, "uriBaseId": DATASET},
                                 "region": {"startLine": max(line, 1)}}}


def findings_sarif(ds, findings: pd.DataFrame, rules, cov: Coverage) -> str:
    driver_rules = [{
        "id": r.id, "name": r.slug,
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": " ".join(r.what.split())},
        "help": {"text": " ".join(r.remediation.split()),
                 "markdown": f"**Why it matters.** {r.why.strip()}\n\n"
                             f"**Remediation.** {r.remediation.strip()}"},
        "defaultConfiguration": {"level": LEVEL[r.severity]},
        "properties": {"argocd_condition": r.argocd_condition},
    } for r in rules]
    index = {r.id: i for i, r in enumerate(rules)}
    app_files = {a: (f, int(n)) for a, f, n in zip(ds.apps["app"], ds.apps["file"],
                                                  ds.apps["line"])}
    fallback = min(app_files.values()) if app_files else ("apps", 1)
    results = []
    for rec in findings.to_dict("records"):
        text = rec["message"]
        if len(rec["chain"]):
            text += f" (chain: {chain_text(rec['chain'])})"
        if rec["confidence"] == "unproven":
            text += (" (unproven: could come from " + ", ".join(rec["could_come_from"]) +
                     ", not analysed)")
        results.append({
            "ruleId": rec["rule"], "ruleIndex": index[rec["rule"]],
            "level": LEVEL[str(rec["severity"])],
            "message": {"text": text},
            "locations": [_location(rec, app_files, fallback)],
            "partialFingerprints": {FINGERPRINT: hashlib.sha256(
                finding_identity(rec).encode("utf-8")).hexdigest()},
            "properties": {
                **{k: rec[k] for k in ("app", "group", "version", "kind", "namespace", "name",
                                       "argocd_condition", "detail", "confidence")},
                "related_apps": list(rec["related_apps"]),
                "could_come_from": list(rec["could_come_from"]),
            },
        })
    notes = [{"level": "warning",
              "descriptor": {"id": "coverage"},
              "message": {"text": f"{'partly analysed' if g.state == 'partial' else 'not analysed'}"
                                  f": {g.app} ({g.reason}): {g.detail}"}}
             for g in cov.gaps().itertuples(index=False)]
    notes += [{"level": "warning", "descriptor": {"id": "coverage"},
               "message": {"text": f"{g['kind']} {g['name']} {g['reason']}: {g['detail']}"}}
              for g in cov.other if g["reason"] != "unreachable"]
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "gitops-analysis", "version": __version__,
                                      "informationUri": "https://pypi.org/project/gitops-analysis/",
                                      "rules": driver_rules}},
                  "invocations": [{"executionSuccessful": True,
                                   "toolExecutionNotifications": notes}],
                  "originalUriBaseIds": {
                      SRCROOT: {"description": {"text": "the repository root"}},
                      DATASET: {"description": {"text": f"the dataset {ds.name}"}}},
                  "properties": {"coverage": cov.as_dict()},
                  "results": results}],
    }
    return json.dumps(doc, indent=2) + "\n"
