"""What the notebooks call: one function per cell, so the notebooks stay a few lines each.

Every function takes the context made by :func:`prepare`, returns a frame, a string or an
axes, and writes a file only when the notebook was given an ``output_dir``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pandas as pd

from gitops_analysis.analysis import overlap
from gitops_analysis.analysis.graph import blast_radius, wave_graph
from gitops_analysis.core.errors import UsageError
from gitops_analysis.core.findings import chain_text
from gitops_analysis.load.argocdcm import health_check_configured
from gitops_analysis.load.dataset import Dataset, load_dataset
from gitops_analysis.rules import run_rules
from gitops_analysis.views import formats, plots
from gitops_analysis.views.writeup import choose_root, has_incident, incident_markdown


@dataclass
class NotebookContext:
    label: str  # the dataset as the user named it: used in commands, never resolved
    ds: Dataset
    findings: pd.DataFrame
    graph: nx.DiGraph
    app: str | None
    output_dir: Path | None
    repo: str = ""


def validate_parameters(dataset: str, *, app: str = "", output_dir: str = "",
                        cluster_api: str = "", argocd_cm: str = "", repo: str = "") -> None:
    """Check every parameter before any work; nothing here is ever run by a shell."""
    for name, value in (("dataset", dataset), ("app", app), ("output_dir", output_dir),
                        ("cluster_api", cluster_api), ("argocd_cm", argocd_cm),
                        ("repo", repo)):
        if not isinstance(value, str):
            raise UsageError(f"parameter {name} is a {type(value).__name__}, not a string",
                             todo="pass a string (\"\" for none)")
    if not Path(dataset).is_dir():
        raise UsageError("dataset folder not found", file=dataset,
                         todo="pass a dataset folder that holds apps/ and rendered/")
    for name, value in (("cluster_api", cluster_api), ("argocd_cm", argocd_cm)):
        if value and not Path(value).is_file():
            raise UsageError(f"{name} file not found", file=value, todo="pass an existing file")
    if repo and not Path(repo).is_dir():
        raise UsageError("repo folder not found", file=repo,
                         todo="pass the source repository folder, or \"\"")


def prepare(dataset: str, *, app: str = "", output_dir: str = "", cluster_api: str = "",
            argocd_cm: str = "", repo: str = "") -> NotebookContext:
    validate_parameters(dataset, app=app, output_dir=output_dir, cluster_api=cluster_api,
                        argocd_cm=argocd_cm, repo=repo)
    ds = load_dataset(dataset, cluster_api=cluster_api or None)
    if app and app not in set(ds.apps["name"]):
        raise UsageError(f"no app named {app!r} in the dataset", file=dataset,
                         todo="pick one of: " + ", ".join(ds.apps["name"]))
    configured = health_check_configured(argocd_cm) if argocd_cm else False
    findings = run_rules(ds, health_check_configured=configured)
    graph = wave_graph(ds, findings)
    chosen = app or choose_root(findings, graph)
    out = Path(output_dir) if output_dir else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    return NotebookContext(dataset, ds, findings, graph, chosen, out, repo)


# -- 01 inventory ----------------------------------------------------------------------------

def accounting_text(ctx: NotebookContext) -> str:
    acc = ctx.ds.accounting
    return (f"{acc.applications} apps, {acc.files} rendered files\n"
            f"{acc.documents} documents = {acc.resources} resources + {acc.load_errors} load "
            f"errors\n{acc.apps_without_render} apps without a render, "
            f"{len(ctx.ds.warnings)} warnings")


def apps_table(ctx: NotebookContext) -> pd.DataFrame:
    cols = ["name", "wave", "destination_namespace", "source_type", "render_status",
            "resources"]
    return ctx.ds.apps[cols].sort_values(["wave", "name"]).reset_index(drop=True)


def kinds_table(ctx: NotebookContext, top: int = 25) -> pd.DataFrame:
    res = ctx.ds.resources
    kind = res["group"].where(res["group"] == "", res["group"] + "/") + res["kind"].astype(str)
    table = pd.crosstab(kind.rename("kind"), res["app"])
    table = table.loc[table.sum(axis=1).sort_values(ascending=False, kind="stable").index]
    return table.head(top)


def problems_table(ctx: NotebookContext) -> pd.DataFrame:
    errs = ctx.ds.load_errors.assign(type="load error")[["type", "reason"]]
    warns = ctx.ds.warnings.assign(type="warning")[["type", "reason"]]
    return pd.concat([errs, warns], ignore_index=True)


# -- 02 overlap ------------------------------------------------------------------------------

def _keys(ctx):
    if not hasattr(ctx, "_keys"):
        ctx._keys = overlap.shared_keys(ctx.ds)
        ctx._pairs = overlap.overlap_pairs(ctx.ds, ctx._keys)
    return ctx._keys, ctx._pairs


def overlap_summary(ctx: NotebookContext) -> str:
    keys, pairs = _keys(ctx)
    per_key = keys.drop_duplicates(overlap.KEY)
    return (f"{len(per_key)} resource keys in two or more apps "
            f"({int((~per_key['is_crd']).sum())} resources, {int(per_key['is_crd'].sum())} CRDs), "
            f"{int((~per_key['identical']).sum())} with differing manifests, "
            f"{len(pairs)} app pairs")


def plot_overlap(ctx: NotebookContext):
    import matplotlib.pyplot as plt

    _, pairs = _keys(ctx)
    only_shared = len(ctx.ds.apps) > 40
    matrix = overlap.overlap_matrix(ctx.ds, pairs, only_shared=only_shared)
    fig, ax = plt.subplots(figsize=plots.figure_size_for(len(matrix)))
    waves = dict(zip(ctx.ds.apps["name"], ctx.ds.apps["wave"]))
    title = "Resources deployed by both apps" + (" (apps that share something)"
                                                 if only_shared else "")
    plots.plot_overlap_matrix(matrix, ax, waves=waves, title=title)
    fig.tight_layout()
    _save(ctx, fig, "overlap-matrix.png")
    return ax


def overlap_pairs_table(ctx: NotebookContext) -> pd.DataFrame:
    _, pairs = _keys(ctx)
    return pairs.sort_values(["shared", "app_a", "app_b"], ascending=[False, True, True]) \
        .reset_index(drop=True)


def overlap_kinds_table(ctx: NotebookContext) -> pd.DataFrame:
    keys, _ = _keys(ctx)
    return overlap.shared_by_kind(keys)


def differing_table(ctx: NotebookContext) -> pd.DataFrame:
    keys, _ = _keys(ctx)
    return overlap.differing_keys(keys)


# -- 03 wave graph ---------------------------------------------------------------------------

def cascade_summary(ctx: NotebookContext) -> str:
    g = ctx.graph
    status = pd.Series([d["status"] for _, d in g.nodes(data=True)], dtype=object)
    order = pd.Series([d["order"] for _, _, d in g.edges(data=True)], dtype=object)
    lines = [f"{g.number_of_nodes()} apps: {int((status == 'failing').sum())} failing, "
             f"{int((status == 'blocked').sum())} blocked, {int((status == 'ok').sum())} ok",
             f"{g.number_of_edges()} dependencies: {int((order == 'ok').sum())} ok, "
             f"{int((order == 'race').sum())} race, {int((order == 'late').sum())} late"]
    if ctx.app:
        radius = blast_radius(g, ctx.app)
        lines.append(f"blast radius of {ctx.app}: {len(radius)} apps")
    return "\n".join(lines)


def plot_wave_graph(ctx: NotebookContext):
    import matplotlib.pyplot as plt

    g = ctx.graph
    fig, ax = plt.subplots(figsize=plots.wave_graph_figsize(g))
    radius = blast_radius(g, ctx.app) if ctx.app else []
    plots.plot_wave_graph(g, ax, highlight=ctx.app, blast=radius)
    fig.tight_layout()
    _save(ctx, fig, "wave-graph.png")
    return ax


def edges_table(ctx: NotebookContext) -> pd.DataFrame:
    rows = [{"provider": u, "provider_wave": d["provider_wave"], "consumer": v,
             "consumer_wave": d["consumer_wave"], "order": d["order"],
             "reasons": ", ".join(d["reasons"])}
            for u, v, d in sorted(ctx.graph.edges(data=True))]
    return pd.DataFrame(rows, columns=["provider", "provider_wave", "consumer", "consumer_wave",
                                       "order", "reasons"])


def blocking_table(ctx: NotebookContext) -> pd.DataFrame:
    f = ctx.findings
    f = f[f["severity"] == "error"]
    f = f.assign(blocked_by=f["chain"].map(chain_text))
    return f[["app", "slug", "argocd_condition", "kind", "name", "message", "blocked_by"]] \
        .reset_index(drop=True)


# -- 04 incident -----------------------------------------------------------------------------

def fix_text(ctx: NotebookContext) -> str:
    """The generated fix and its proof (a real render of new kustomizations with a repo)."""
    from gitops_analysis.fix.document import fix_markdown
    from gitops_analysis.fix.proof import make_fix

    plan, proof = make_fix(ctx.ds, findings=ctx.findings, repo=ctx.repo or None)
    title = "### The generated fix and its proof"
    if ctx.output_dir is not None:
        from gitops_analysis.fix.document import write_fix

        write_fix(ctx.output_dir / "fix", ctx.ds, plan, proof)
        title += "\n\nEvery file named here is in `fix/` beside this write-up."
    return fix_markdown(ctx.ds, plan, proof, heading="###").replace(
        f"### Fix for {ctx.ds.name}", title, 1)


def incident_text(ctx: NotebookContext) -> str:
    png = "wave-graph.png" if ctx.output_dir is not None else None
    fix = fix_text(ctx) if has_incident(ctx.findings) else None
    return incident_markdown(ctx.ds, ctx.findings, ctx.graph, app=ctx.app or None,
                             dataset_label=ctx.label, wave_graph_png=png, fix_section=fix)


def incident_headline(ctx: NotebookContext) -> str:
    if not has_incident(ctx.findings):
        return f"no incident in {ctx.ds.name}"
    return (f"root: {ctx.app}\n" + formats.summary_line(ctx.findings))


def show_incident(ctx: NotebookContext):
    from IPython.display import Markdown

    text = incident_text(ctx)
    if ctx.output_dir is not None:
        if has_incident(ctx.findings):
            plot_wave_graph(ctx)
        (ctx.output_dir / "incident.md").write_text(text, encoding="utf-8")
    return Markdown(text)


def _save(ctx: NotebookContext, fig, name: str) -> None:
    if ctx.output_dir is not None:
        fig.savefig(ctx.output_dir / name, dpi=110, metadata={"Software": None})
