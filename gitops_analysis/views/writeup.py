"""The incident write-up: Markdown with the sections an engineer writes by hand for such an
incident (header with date and status, executive summary, what was not analysed, root cause,
problem analysis, cascade, solution, validation, deployment, expected results, monitoring,
troubleshooting, files to change).

A model computed once (:mod:`writeup_model`) and a template (:mod:`writeup_sections`,
:mod:`writeup_steps`). Same input, same bytes: the date comes from the data (the Argo CD export
kept with the dataset) or from the caller, never from the clock.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from gitops_analysis.views import writeup_after as after
from gitops_analysis.views import writeup_sections as sections
from gitops_analysis.views import writeup_steps as steps
from gitops_analysis.views.writeup_model import Model, build_model, choose_root, has_incident
from gitops_analysis.views.writeup_sections import either, inline, n_of

__all__ = ["choose_root", "has_incident", "incident_markdown", "writeup_model"]


def writeup_model(ds, findings: pd.DataFrame, graph, *, app: str | None = None,
                  dataset_label: str = "DATASET", fix: tuple[Any, Any] | None = None,
                  repo: str | None = None, date: str | None = None) -> Model | None:
    """The write-up's model (None when there is no incident to write up). It reads a few of the
    dataset's files, so ``report`` computes it once, before the notebooks, which only format it."""
    if not has_incident(findings) and app is None:
        return None
    root = app or choose_root(findings, graph)
    if root is None:
        return None
    return build_model(ds, findings, graph, root, label=dataset_label, fix=fix, repo=repo,
                       date=date)


def incident_markdown(ds, findings: pd.DataFrame, graph, *, app: str | None = None,
                      dataset_label: str = "DATASET", wave_graph_png: str | None = None,
                      fix_section: str | None = None, fix: tuple[Any, Any] | None = None,
                      repo: str | None = None, fix_dir: str | None = None,
                      date: str | None = None, model: Model | None = None) -> str:
    """The whole write-up as Markdown.

    ``dataset_label`` and ``repo`` are how the commands name the dataset and the source
    repository (as the user gave them). ``fix`` is the (plan, proof) of
    :func:`~gitops_analysis.fix.proof.make_fix`, computed here when not given; ``fix_dir`` the
    folder beside the write-up that holds its files; ``fix_section`` (the fix as Markdown) is
    added as an appendix. ``date`` (YYYY-MM-DD) dates a write-up whose dataset holds no export.
    ``model``: the one :func:`writeup_model` made (for ``app``), used instead of a new one.
    """
    m = model if model is not None and model.root == (app or model.root) else \
        writeup_model(ds, findings, graph, app=app, dataset_label=dataset_label, fix=fix,
                      repo=repo, date=date)
    if m is None:
        return _no_incident(ds, findings, dataset_label)
    m = replace(m, setup=replace(m.setup, fix_dir=fix_dir or ""))
    reconciled = None
    if getattr(ds, "live", None) is not None:  # an Argo CD export beside the dataset
        from gitops_analysis.live.reconcile import reconcile

        reconciled = reconcile(ds, findings, ds.live)
    parts = [sections.header(m, reconciled.summary if reconciled is not None else None),
             sections.summary(m), sections.coverage(m), sections.root_cause(m),
             sections.problems(m), sections.cascade(m, wave_graph_png), steps.solution(m),
             steps.validation(m), steps.deployment(m), after.expected(m), after.monitoring(m),
             after.troubleshooting(m), after.files(m), after.keeping(m)]
    if reconciled is not None:
        from gitops_analysis.views.reconcile import reconcile_markdown

        parts.append(reconcile_markdown(reconciled).rstrip().splitlines())
    if fix_section:
        parts.append(["## Appendix: the generated fix", "", fix_section.rstrip()])
    text = "\n\n".join("\n".join(p) for p in parts if p)
    return text.rstrip() + "\n"


def _no_incident(ds, findings: pd.DataFrame, label: str) -> str:
    from gitops_analysis.analysis.coverage import coverage
    from gitops_analysis.rules import all_rules

    cov = coverage(ds).as_dict()
    gaps = cov["partial"] + cov["not_analysed"]
    seen = "all analysed" if not gaps else f"{cov['analysed']} fully analysed"
    lines = [f"# No incident in {ds.name}", "",
             f"No app of `{label}` is predicted to fail to sync, and no resource is deployed by "
             f"two apps ({n_of(cov['apps'], 'app')}, {seen}; "
             f"{n_of(int(ds.accounting.resources), 'resource')} read)."]
    if gaps:
        lines += ["", "Not analysed, so nothing is claimed about them:", ""]
        lines += [f"- `{g['app']}`: {g['reason']}" + (f" ({g['detail']})" if g["detail"] else "")
                  for g in gaps]
    rules = {r.slug: r for r in all_rules()}
    possible = findings[findings["confidence"] == "unproven"]
    if not possible.empty:
        lines += ["", "Possible problems, unproven because what they miss may come from an app "
                  "that was not analysed:", ""]
        for r in possible.head(20).itertuples(index=False):
            who = either(list(r.could_come_from[:3])) or "an app not analysed"
            app = f"`{r.app}`" if r.app else "all apps"
            lines.append(f"- {app}, unless {who} supplies it: {inline(r.message)}")
        if len(possible) > 20:
            lines.append(f"- and {len(possible) - 20} more (`gitops-analysis check` lists them "
                         "all)")
    warnings = findings[(findings["severity"] == "warning") &
                        (findings["confidence"] != "unproven")]
    if not warnings.empty:
        lines += ["", "Warnings:", ""]
        for slug, f in warnings.groupby("slug", sort=True):
            rule = rules.get(str(slug))
            what = rule.summary if rule else str(slug)
            lines.append(f"- {what} ({len(f)}), for example: {inline(f['message'].iloc[0])}")
    return "\n".join(lines) + "\n"
