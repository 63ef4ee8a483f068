"""Predicted versus observed: the rules' findings joined with what Argo CD reports.

``reconcile(dataset, findings, live) -> ReconcileResult`` joins the findings of
:func:`gitops_analysis.run_rules` with the conditions, failed sync results and failed operations
of an Argo CD export (:func:`gitops_analysis.load.live_export.load_live`) by app, condition
type and resource
key. Every observation is *explained* by the predictions it matches, or is *observed only*;
every prediction is *matched* (it explains at least one observation) or *predicted only*, with
the reason it does not show. Observations are every condition (any type, known to Argo CD or
not), every failed sync result (status ``SyncFailed``, or a hook whose phase is ``Failed`` or
``Error``) and every failed operation (phase ``Failed`` or ``Error``); what synced fine is not
an observation.

How an observation is matched (``match`` of a matched row):

- ``exact``: a condition (SharedResourceWarning, RepeatedResourceWarning, InvalidSpecError, or
  any other type) on the same app, of the predicted type, with the predicted message character
  for character; a failed sync result of the same resource key with the predicted message.
- ``same-cause``: a failed sync result of another resource of the same group and kind whose
  message is the predicted one with that resource's namespace/name (the prediction names one
  example resource per missing CRD), or whose message is the reason of a predicted
  ``one or more objects failed to apply, reason: ...``; a failed operation, or a SyncError
  condition (``Failed last sync attempt to [...]: <operation message>``), whose message holds a
  predicted message, or that belongs to an operation whose failed sync results are explained.
- ``other-side``: a SharedResourceWarning whose only prediction is the mirror one (predicted on
  the other app of the pair).

Why a prediction is predicted only (``reason``):

- ``other-side``: the SharedResourceWarning shows on the other app of the pair. Argo CD warns on
  the app that does *not* own the live object (controller/state.go compares the live object's
  tracking with the app), so one side of each pair is silent.
- ``not-live``: the object is not in the cluster (``health: Missing`` in ``status.resources``),
  so no app owns it and no warning can show yet.
- ``type-shown``: the app shows conditions of the predicted type, none with this message. This
  is *not* counted as a match: Argo CD adds one condition per live object
  (``state.go``: one ``SharedResourceWarning`` per object owned by another app, one
  ``InvalidSpecError`` per object without namespace, one ``RepeatedResourceWarning`` per key), so
  a message that is absent is a conflict Argo CD does not see, not one hidden behind another.
- ``masked``: the sync stopped at an earlier step than the predicted failure (an
  ``InvalidSpecError`` refuses the sync; a missing CRD fails task validation, ``one or more
  synchronization tasks are not valid``, before anything is applied, so a missing namespace
  never gets to fail).
- ``no-operation``, ``no-status``, ``app-not-in-export``, ``other-app-not-in-export`` (a
  SharedResourceWarning whose other app, where it would show, is not in the export): the export
  has nothing to compare with.
- ``silent``: the finding predicts no Argo CD condition (Argo CD says nothing by design).
- ``not-observed``: none of the above: Argo CD does not report it.

- ``refuted``: the export shows the opposite: the object the prediction says cannot be applied
  is live and Healthy (or Synced, for kinds without a health check), the namespace it says is
  missing holds live objects, or the app it says Argo CD refuses is Synced and Healthy.

``OrphanedResourceWarning`` and ``ExcludedResourceWarning`` are *informational*: Argo CD raises
them about objects it leaves alone. The exit code (:attr:`ReconcileResult.exit_code`) is 0 when
every failing observation is explained (informational ones may stay unexplained) and 1
otherwise. Predictions that do not show never change it. Each observation carries the revision
it is about (the operation's sync result, else the app's ``status.sync``), so a failure is tied
to a commit; the summary lists the apps whose sync is still in flight.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from gitops_analysis.core.messages import apply_failed, shared_resource
from gitops_analysis.live.evidence import INFORMATIONAL, LiveEvidence, evidence, failed_attempt

EXACT, SAME_CAUSE, OTHER_SIDE = "exact", "same-cause", "other-side"
SRW = "SharedResourceWarning"
APPLY_PREFIX = apply_failed("")  # "one or more objects failed to apply, reason: "
CRD_PREFIX = "The Kubernetes API could not find "

REASONS = {
    "other-side": "Argo CD shows this shared resource on the other app of the pair: only the app "
                  "that does not own the live object warns",
    "not-live": "the object is not in the cluster (health Missing), so no app owns it yet and "
                "Argo CD cannot warn",
    "type-shown": "Argo CD shows this condition type on the app, but not with this message (it "
                  "adds one condition per live object, so this one is not seen)",
    "masked": "the sync stopped at an earlier step, so this failure could not show",
    "no-operation": "the export shows no sync operation for the app",
    "no-status": "the app has no status in the export",
    "app-not-in-export": "the app is not in the export",
    "other-app-not-in-export": "Argo CD would show this shared resource on the other app of the "
                               "pair, which is not in the export",
    "silent": "the finding predicts no Argo CD condition: Argo CD says nothing by design",
    "refuted": "the export shows the opposite: what it says cannot be applied is live and "
               "Healthy",
    "not-observed": "Argo CD does not report it",
}
REASON_ORDER = list(REASONS)

MATCHED_COLUMNS = ["app", "argocd_condition", "match", "rule", "slug", "severity", "group",
                   "version", "kind", "namespace", "name", "predicted_message",
                   "observed_message", "observed_count", "observed", "revision"]
PREDICTED_ONLY_COLUMNS = ["app", "argocd_condition", "reason", "rule", "slug", "severity",
                          "group", "version", "kind", "namespace", "name", "predicted_message",
                          "observed_message", "note"]
OBSERVED_ONLY_COLUMNS = ["app", "source", "type", "known", "informational", "group",
                         "version", "kind", "namespace", "name", "observed_message",
                         "predicted_message", "note", "revision"]

_RETRY = re.compile(r"( \(retried \d+ times\)\.|\. Retrying attempt #\d+ at .*)$", re.S)


def _strip_retry(message: str) -> str:
    return _RETRY.sub("", message)


@dataclass
class ReconcileResult:
    """The join. Rows are sorted deterministically; ``summary`` counts everything."""

    summary: dict
    matched: pd.DataFrame
    predicted_only: pd.DataFrame
    observed_only: pd.DataFrame
    observations: pd.DataFrame = field(repr=False)

    @property
    def exit_code(self) -> int:
        """1 when an observation that fails something is unexplained."""
        oo = self.observed_only
        return 1 if len(oo) and not oo["informational"].all() else 0

    def to_dict(self) -> dict:
        return {"summary": self.summary,
                "matched": _records(self.matched),
                "predicted_only": _records(self.predicted_only),
                "observed_only": _records(self.observed_only)}


def _plain(value):
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()  # numpy scalars
    return value


def _records(df: pd.DataFrame) -> list[dict]:
    return [_plain(row) for row in df.to_dict(orient="records")]


# ------------------------------------------------------------------------------ the join


def _predictions(findings: pd.DataFrame) -> list[dict]:
    preds = []
    for i, row in enumerate(findings.to_dict(orient="records")):
        p = {k: ("" if row.get(k) is None or (isinstance(row.get(k), float) and
                                               pd.isna(row.get(k))) else row.get(k))
             for k in ("rule", "slug", "severity", "argocd_condition", "app", "group", "version",
                       "kind", "namespace", "name", "message")}
        p = {k: str(v) for k, v in p.items()}
        p["related_apps"] = tuple(row.get("related_apps") or ())
        p["index"] = i
        p["links"] = []
        msg = p["message"]
        p["causes"] = [c for c in (msg, msg[len(APPLY_PREFIX):] if msg.startswith(APPLY_PREFIX)
                                   else "") if c]
        preds.append(p)
    return preds


def _observations(live) -> list[dict]:
    synced = dict(zip(live.live_apps["app"], live.live_apps["revision"]))
    op_rev = {o["app"]: o["sync_revision"] or o["revision"]
              for o in live.operations.to_dict(orient="records")}
    obs = []
    for c in live.conditions.to_dict(orient="records"):
        obs.append({"source": "condition", "app": c["app"], "type": c["type"],
                    "known": bool(c["known"]), "group": "", "version": "", "kind": "",
                    "namespace": "", "name": "", "message": c["message"],
                    "revision": synced.get(c["app"], "")})
    for r in live.sync_results.to_dict(orient="records"):
        if r["status"] == "SyncFailed" or r["hook_phase"] in ("Failed", "Error"):
            obs.append({"source": "sync_result", "app": r["app"],
                        "type": r["status"] or r["hook_phase"], "known": True,
                        "group": r["group"], "version": r["version"], "kind": r["kind"],
                        "namespace": r["namespace"], "name": r["name"], "message": r["message"],
                        "revision": op_rev.get(r["app"], "")})
    for o in live.operations.to_dict(orient="records"):
        if o["phase"] in ("Failed", "Error"):
            obs.append({"source": "operation", "app": o["app"], "type": o["phase"],
                        "known": True, "group": "", "version": "", "kind": "", "namespace": "",
                        "name": "", "message": o["message"],
                        "revision": o["sync_revision"] or o["revision"]})
    for i, o in enumerate(obs):
        o["id"] = i
        o["links"] = []
        o["informational"] = o["source"] == "condition" and o["type"] in INFORMATIONAL
    return obs


def _link(o: dict, p: dict, match: str) -> None:
    if all(q["index"] != p["index"] for q, _ in o["links"]):
        o["links"].append((p, match))
        p["links"].append((o, match))


def _result_matches(p: dict, r: dict) -> str | None:
    if p["group"] != r["group"] or p["kind"] != r["kind"]:
        return _reason_matches(p, r)
    same_key = p["name"] == r["name"] and p["namespace"] in (r["namespace"], "")
    if same_key and p["message"] == r["message"]:
        return EXACT
    old = f"{p['namespace']}/{p['name']}"
    if old in p["message"] and \
            p["message"].replace(old, f"{r['namespace']}/{r['name']}", 1) == r["message"]:
        return SAME_CAUSE
    return _reason_matches(p, r)


def _reason_matches(p: dict, r: dict) -> str | None:
    return SAME_CAUSE if len(p["causes"]) > 1 and r["message"] == p["causes"][1] else None


def _join(preds: list[dict], obs: list[dict], instance: dict[str, str]) -> None:
    by_app: dict[str, list[dict]] = {}
    for p in preds:
        by_app.setdefault(p["app"], []).append(p)
    mirrors: dict[tuple[str, str], list[dict]] = {}
    for p in preds:
        if p["argocd_condition"] == SRW and p["related_apps"]:
            other = p["related_apps"][0]
            # the warning the other app shows: it, qualified, and this app's instance name
            msg = shared_resource(p["kind"], p["name"], other,
                                  instance.get(p["app"], p["app"]))
            p["mirror"] = (other, msg)
            mirrors.setdefault((other, msg), []).append(p)

    conditions = [o for o in obs if o["source"] == "condition"]
    results = [o for o in obs if o["source"] == "sync_result"]
    operations = [o for o in obs if o["source"] == "operation"]

    for o in conditions:
        if o["type"] == "SyncError":
            continue
        for p in by_app.get(o["app"], []):
            if p["argocd_condition"] == o["type"] and p["message"] == o["message"]:
                _link(o, p, EXACT)
        if not o["links"] and o["type"] == SRW:
            for p in mirrors.get((o["app"], o["message"]), []):
                _link(o, p, OTHER_SIDE)

    for o in results:
        for p in by_app.get(o["app"], []):
            if p["argocd_condition"] == "SyncError":
                match = _result_matches(p, o)
                if match:
                    _link(o, p, match)

    def contained(o: dict) -> None:
        text = _strip_retry(o["message"])
        for p in by_app.get(o["app"], []):
            if p["argocd_condition"] and any(c in text for c in p["causes"]):
                _link(o, p, EXACT if text == p["message"] else SAME_CAUSE)

    op_of: dict[str, dict] = {}
    for o in operations:
        op_of[o["app"]] = o
        contained(o)
        if not o["links"]:
            for r in results:
                if r["app"] == o["app"]:
                    for p, _ in r["links"]:
                        _link(o, p, SAME_CAUSE)

    for o in conditions:
        if o["type"] != "SyncError":
            continue
        contained(o)
        op = op_of.get(o["app"])
        if not o["links"] and op and op["links"] and _strip_retry(op["message"]) in o["message"]:
            for p, _ in op["links"]:
                _link(o, p, SAME_CAUSE)


def _op_stage(message: str) -> int:
    m = _strip_retry(message)
    if m.startswith(("InvalidSpecError:", "ComparisonError:", "Shared resource found")):
        return 0  # refused before the sync starts
    if m.startswith("one or more synchronization tasks are not valid"):
        return 1  # task validation (permissions, kinds the API does not serve)
    if "(dry run)" in m:
        return 2
    return 3


def _pred_stage(p: dict) -> int:
    return 1 if p["message"].startswith(CRD_PREFIX) else 3


def _refuted(p: dict, ctx: dict) -> str:
    """Why the export contradicts a prediction that something cannot be applied, or ''."""
    ev: LiveEvidence = ctx["evidence"]
    app, ctype = p["app"], p["argocd_condition"]
    if ctype not in ("SyncError", "InvalidSpecError", "UnknownError",
                     "ExcludedResourceWarning"):
        return ""
    if p["kind"] == "Application" and p["group"] == "argoproj.io" and \
            ctype in ("InvalidSpecError", "UnknownError") and \
            app == ctx["app_of_name"].get((p["namespace"], p["name"])):
        state = ctx["app_state"].get(app)
        shown = ctx["condition_messages"].get((app, ctype))
        if state == ("Synced", "Healthy") and not shown:
            return f"{app} is Synced and Healthy, with no {ctype}"
        return ""
    if p["kind"] == "Namespace" and not p["group"]:
        return ev.namespace_exists(p["name"])
    if p["kind"]:
        return ev.exists(app, p["group"], p["kind"], p["namespace"], p["name"])
    return ""


def _reason(p: dict, ctx: dict) -> tuple[str, str, str]:
    """(reason, observed message to show beside the prediction, note)."""
    app, ctype = p["app"], p["argocd_condition"]
    if not ctype:
        return "silent", "", ""
    if app not in ctx["live_apps"]:
        return "app-not-in-export", "", ""
    if not ctx["has_status"][app]:
        return "no-status", "", ""
    refuted = _refuted(p, ctx)
    if refuted:
        return "refuted", "", refuted
    if ctype == "SyncError":
        op = ctx["operations"].get(app)
        if op is None:
            return "no-operation", "", ""
        if failed_attempt(op) and _op_stage(op["message"]) < _pred_stage(p):
            how = "retrying" if op.get("retrying") else op["phase"]
            return "masked", op["message"], f"the sync of {app} stopped earlier ({how})"
        return "not-observed", op["message"], f"last operation: {op['phase'] or 'no phase'}"
    if ctype == SRW and "mirror" in p:
        other, msg = p["mirror"]
        if msg in ctx["condition_messages"].get((other, SRW), set()):
            return "other-side", msg, f"shown on {other}"
        key = (p["group"], p["kind"], p["namespace"], p["name"])
        gone = [ctx["evidence"].missing(a, *key) for a in (app, other)]
        if any(gone):
            return "not-live", "", next(g for g in gone if g)
        if other not in ctx["live_apps"]:
            return "other-app-not-in-export", "", f"{other} is not in the export"
    shown = ctx["condition_messages"].get((app, ctype), set())
    if shown:
        return "type-shown", sorted(shown)[0], f"{len(shown)} {ctype} condition(s) on {app}"
    return "not-observed", "", ""


def reconcile(dataset, findings: pd.DataFrame, live) -> ReconcileResult:
    """Join ``findings`` (``run_rules(dataset)``) with the export ``live`` (``load_live``)."""
    instance = dict(zip(dataset.apps["app"], dataset.apps["instance"]))
    preds = _predictions(findings)
    obs = _observations(live)
    _join(preds, obs, instance)

    la = live.live_apps
    ctx: dict[str, Any] = {
        "live_apps": set(la["app"]),
        "has_status": dict(zip(la["app"], la["has_status"])),
        "operations": {o["app"]: o for o in live.operations.to_dict(orient="records")},
        "condition_messages": {},
        "evidence": evidence(live),
        "app_state": {a: (s, h) for a, s, h in zip(la["app"], la["sync_status"],
                                                     la["health_status"])},
        "app_of_name": {(ns, n): a for a, ns, n in zip(dataset.apps["app"],
                                                        dataset.apps["app_namespace"],
                                                        dataset.apps["name"])},
    }
    for c in live.conditions.to_dict(orient="records"):
        ctx["condition_messages"].setdefault((c["app"], c["type"]), set()).add(c["message"])

    matched, predicted_only = [], []
    for p in preds:
        base = {k: p[k] for k in ("app", "argocd_condition", "rule", "slug", "severity", "group",
                                  "version", "kind", "namespace", "name")}
        if p["links"]:
            kinds = {m for _, m in p["links"]}
            match = EXACT if EXACT in kinds else (OTHER_SIDE if kinds == {OTHER_SIDE}
                                                  else SAME_CAUSE)
            first = next((o for o, m in p["links"] if m == EXACT), p["links"][0][0])
            matched.append({**base, "match": match, "predicted_message": p["message"],
                            "observed_message": first["message"],
                            "observed_count": len(p["links"]),
                            "observed": [_obs_ref(o, m) for o, m in p["links"]],
                            "revision": first["revision"]})
        else:
            reason, observed, note = _reason(p, ctx)
            predicted_only.append({**base, "reason": reason, "predicted_message": p["message"],
                                   "observed_message": observed, "note": note})

    predicted_types = {p["argocd_condition"] for p in preds if p["argocd_condition"]}
    observed_only = []
    for o in obs:
        if o["links"]:
            continue
        if o["source"] == "condition":
            note = (f"no rule predicts {o['type']}" if o["type"] not in predicted_types
                    else f"no prediction of {o['type']} with this message")
            if not o["known"]:
                note = f"condition type {o['type']!r} is not one Argo CD defines"
            elif o["informational"]:
                note += " (informational: it fails nothing)"
        elif o["source"] == "sync_result":
            note = "no prediction for this resource and message"
        else:
            note = "no prediction explains this operation message"
        observed_only.append({k: o[k] for k in ("app", "source", "type", "known",
                                                "informational", "group", "version", "kind",
                                                "namespace", "name", "revision")}
                             | {"observed_message": o["message"], "predicted_message": "",
                                "note": note})

    matched_df = pd.DataFrame(matched, columns=MATCHED_COLUMNS).sort_values(
        ["app", "argocd_condition", "kind", "namespace", "name", "predicted_message"],
        kind="stable").reset_index(drop=True)
    po_df = pd.DataFrame(predicted_only, columns=PREDICTED_ONLY_COLUMNS)
    po_df["_r"] = po_df["reason"].map(REASON_ORDER.index)
    po_df = po_df.sort_values(["app", "argocd_condition", "_r", "kind", "namespace", "name",
                               "predicted_message"], kind="stable") \
        .drop(columns="_r").reset_index(drop=True)
    oo_df = pd.DataFrame(observed_only, columns=OBSERVED_ONLY_COLUMNS).sort_values(
        ["app", "source", "type", "kind", "namespace", "name", "observed_message"],
        kind="stable").reset_index(drop=True)
    obs_cols = ["app", "source", "type", "known", "informational", "group", "version", "kind",
                "namespace", "name", "message", "revision"]
    obs_df = pd.DataFrame([{k: o[k] for k in obs_cols}
                           | {"explained": bool(o["links"]),
                              "matched_by": tuple(sorted({p["rule"] for p, _ in o["links"]}))}
                           for o in obs], columns=obs_cols + ["explained", "matched_by"])

    dataset_apps = set(dataset.apps["app"])
    by_source = {s: sum(o["source"] == s for o in obs)
                 for s in ("condition", "sync_result", "operation")}
    summary = {
        "dataset": dataset.name,
        "export": live.path,
        "apps": {"dataset": len(dataset_apps), "export": len(ctx["live_apps"]),
                 "without_status": int((~live.live_apps["has_status"]).sum()),
                 "only_in_dataset": sorted(dataset_apps - ctx["live_apps"]),
                 "only_in_export": sorted(ctx["live_apps"] - dataset_apps)},
        "predictions": len(preds),
        "matched": len(matched_df),
        "matched_by_match": {m: int((matched_df["match"] == m).sum())
                             for m in (EXACT, SAME_CAUSE, OTHER_SIDE)},
        "predicted_only": len(po_df),
        "predicted_only_by_reason": {r: int((po_df["reason"] == r).sum())
                                     for r in REASON_ORDER if (po_df["reason"] == r).any()},
        "observed": len(obs),
        "observed_by_source": by_source,
        "observed_explained": sum(bool(o["links"]) for o in obs),
        "observed_only": len(oo_df),
        "observed_only_informational": int(oo_df["informational"].sum()),
        "refuted": int((po_df["reason"] == "refuted").sum()),
        "in_flight": sorted(set(la.loc[la["operation_in_flight"], "app"]) |
                            {o["app"] for o in ctx["operations"].values()
                             if o["phase"] in ("Running", "Terminating")}),
        "exit_code": 1 if len(oo_df) and not oo_df["informational"].all() else 0,
    }
    return ReconcileResult(summary=summary, matched=matched_df, predicted_only=po_df,
                           observed_only=oo_df, observations=obs_df)


def _obs_ref(o: dict, match: str) -> dict:
    return {"source": o["source"], "type": o["type"], "group": o["group"], "kind": o["kind"],
            "namespace": o["namespace"], "name": o["name"], "message": o["message"],
            "match": match}


# ------------------------------------------------------------------------------ output
