"""What the notebooks call: one function per cell, so the notebooks stay a few lines each.

Every function takes the context made by :func:`prepare` and returns a string, a
:class:`~gitops_analysis.views.html.Table` (``.frame`` is the data) or a
:class:`~gitops_analysis.views.html.FigureOutput` (``.ax``, ``.figure``); it writes a file only
when the notebook was given an ``output_dir``.

One analysis per report: ``report`` runs :func:`prepare` once, completes it (overlap, fix) and
writes it with :func:`save_analysis`; each notebook gets its path as the ``analysis`` parameter
and loads it. A notebook run alone (JupyterLab, nbval) computes it from ``dataset``.
"""

from __future__ import annotations

import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from gitops_analysis.analysis import overlap
from gitops_analysis.analysis.graph import blast_radius, wave_graph
from gitops_analysis.core.errors import UsageError
from gitops_analysis.core.findings import chain_text
from gitops_analysis.core.words import plural
from gitops_analysis.load.argocdcm import read_settings
from gitops_analysis.load.dataset import Dataset, load_dataset
from gitops_analysis.load.projects import read_projects_file
from gitops_analysis.rules import run_rules
from gitops_analysis.views import plots, wave_layout
from gitops_analysis.views.html import FigureOutput, Table
from gitops_analysis.views.text import fold, summary_line
from gitops_analysis.views.writeup import (
    choose_root,
    has_incident,
    incident_markdown,
    writeup_model,
)

ANALYSIS_FILE = "analysis.pickle"
_FORMAT = "gitops-analysis notebook context 1"


@dataclass
class NotebookContext:
    label: str  # the dataset as the user named it: used in commands, never resolved
    ds: Dataset
    findings: pd.DataFrame
    graph: nx.DiGraph
    app: str | None
    output_dir: Path | None
    repo: str = ""
    overlap: tuple[pd.DataFrame, pd.DataFrame] | None = None  # shared keys, pairs
    fix: tuple[Any, Any] | None = None  # plan, proof
    writeup: Any = None  # the incident write-up's model (views.writeup_model), made by report


def validate_parameters(dataset: str, *, app: str = "", output_dir: str = "",
                        cluster_api: str = "", argocd_cm: str = "", repo: str = "",
                        analysis: str = "") -> None:
    """Check every parameter before any work; nothing here is ever run by a shell."""
    for name, value in (("dataset", dataset), ("app", app), ("output_dir", output_dir),
                        ("cluster_api", cluster_api), ("argocd_cm", argocd_cm),
                        ("repo", repo), ("analysis", analysis)):
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
            argocd_cm: str = "", repo: str = "", analysis: str = "",
            projects: str = "", argocd_namespace: str = "",
            cluster_namespaces: str = "") -> NotebookContext:
    """The analysis of ``dataset``; loaded from ``analysis`` (a file :func:`save_analysis`
    wrote) when that file exists, computed otherwise."""
    if isinstance(analysis, str) and analysis and Path(analysis).is_file():
        if not isinstance(output_dir, str):
            raise UsageError("parameter output_dir is not a string", todo="pass a string")
        ctx = load_analysis(analysis)
        if app and app in ctx.graph:
            ctx.app = app
        ctx.output_dir = _folder(output_dir)
        return ctx
    validate_parameters(dataset, app=app, output_dir=output_dir, cluster_api=cluster_api,
                        argocd_cm=argocd_cm, repo=repo, analysis=analysis)
    if not isinstance(projects, str) or (projects and not Path(projects).is_file()):
        raise UsageError("projects file not found", file=str(projects),
                         todo="pass an existing file of AppProjects, or \"\"")
    if not isinstance(cluster_namespaces, str) or \
            (cluster_namespaces and not Path(cluster_namespaces).is_file()):
        raise UsageError("cluster namespaces file not found", file=str(cluster_namespaces),
                         todo="pass 'kubectl get namespaces -o json' output, or \"\"")
    ds = load_dataset(dataset, cluster_api=cluster_api or None,
                      # "": the one render recorded, else argocd
                      argocd_namespace=str(argocd_namespace) if argocd_namespace else None,
                      cluster_namespaces=cluster_namespaces or None)
    if app and app not in set(ds.apps["app"]):
        raise UsageError(f"no app named {app!r} in the dataset", file=dataset,
                         todo="pick one of: " + ", ".join(ds.apps["app"]))
    settings = read_settings(argocd_cm) if argocd_cm else None
    findings = run_rules(ds, health_check_configured=bool(settings and
                                                          settings.health_check_configured),
                         settings=settings,
                         projects=read_projects_file(projects) if projects else ())
    graph = wave_graph(ds, findings)
    chosen = app or choose_root(findings, graph)
    return NotebookContext(dataset, ds, findings, graph, chosen, _folder(output_dir), repo)


def _folder(output_dir: str) -> Path | None:
    out = Path(output_dir) if output_dir else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    return out


def save_analysis(ctx: NotebookContext, path: Path, *, date: str | None = None) -> Path:
    """Complete the analysis (overlap, and the fix when there is an incident) and write it for
    the notebooks of one report. A pickle: load only a file this package wrote."""
    _keys(ctx)
    if has_incident(ctx.findings):
        _fix(ctx)
        # the write-up reads a few of the dataset's files: here, where the dataset is at hand
        ctx.writeup = writeup_model(ctx.ds, ctx.findings, ctx.graph, app=ctx.app or None,
                                    dataset_label=ctx.label, fix=ctx.fix,
                                    repo=ctx.repo or None, date=date)
    kept = NotebookContext(ctx.label, ctx.ds, ctx.findings, ctx.graph, ctx.app, None,
                           ctx.repo, ctx.overlap, ctx.fix, ctx.writeup)
    with open(path, "wb") as fh:
        pickle.dump({"format": _FORMAT, "context": kept}, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return path


class _Unpickler(pickle.Unpickler):
    """Only what an analysis holds: classes of this package, pandas, numpy and networkx (never a
    module, never another function than the few that rebuild frames and arrays)."""

    _PACKAGES = ("gitops_analysis", "pandas", "numpy", "networkx")
    _FUNCTIONS = {
        ("numpy._core.multiarray", "_reconstruct"), ("numpy._core.numeric", "_frombuffer"),
        ("numpy.core.multiarray", "_reconstruct"), ("numpy.core.numeric", "_frombuffer"),
        ("pandas._libs.arrays", "__pyx_unpickle_NDArrayBacked"), ("pandas", "NA"),
        ("pandas._libs.internals", "_unpickle_block"), ("pandas.core.indexes.base", "_new_Index"),
        ("copyreg", "_reconstructor")}
    _BUILTINS = {"dict", "list", "set", "frozenset", "tuple", "str", "int", "float", "bool",
                 "bytes", "bytearray", "complex", "slice", "range", "object"}

    def find_class(self, module: str, name: str) -> Any:
        import inspect

        ours = module.split(".")[0] in self._PACKAGES or module == "pathlib"
        if (module, name) in self._FUNCTIONS or (module == "builtins" and name in self._BUILTINS):
            return super().find_class(module, name)
        found = super().find_class(module, name) if ours else None
        if found is None or not inspect.isclass(found):
            raise pickle.UnpicklingError(f"{module}.{name} is not part of an analysis")
        return found


def load_analysis(path: str | Path) -> NotebookContext:
    with open(path, "rb") as fh:
        data = _Unpickler(fh).load()
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        raise UsageError("not an analysis written by this version of gitops-analysis",
                         file=str(path), todo="pass analysis=\"\" to compute it")
    return data["context"]


# -- 01 inventory ----------------------------------------------------------------------------

def accounting_text(ctx: NotebookContext) -> str:
    acc = ctx.ds.accounting
    return (f"{plural(acc.applications, 'app')}, {plural(acc.files, 'rendered file')}\n"
            f"{plural(acc.documents, 'document')} = {plural(acc.resources, 'resource')} + "
            f"{plural(acc.load_errors, 'load error')}\n"
            f"{plural(acc.apps_without_render, 'app')} without a render, "
            f"{plural(len(ctx.ds.warnings), 'warning')}")


def apps_table(ctx: NotebookContext) -> Table:
    cols = ["name", "wave", "destination_namespace", "source_type", "render_status",
            "resources"]
    return Table(ctx.ds.apps[cols].sort_values(["wave", "name"]), "The dataset has no app.")


def kinds_table(ctx: NotebookContext, top: int = 25) -> Table:
    """The ``top`` kinds by count, and how many of each every app deploys (most first): one
    row a kind, so it stays readable at 100 apps."""
    res = ctx.ds.resources
    kind = res["group"].where(res["group"] == "", res["group"] + "/") + res["kind"].astype(str)
    counts = pd.crosstab(kind.rename("kind"), res["app"])
    total = counts.sum(axis=1).sort_values(ascending=False, kind="stable").head(top)
    rows = []
    for k, n in total.items():
        by_app = sorted(((a, int(c)) for a, c in counts.loc[k].items() if c > 0),
                        key=lambda x: (-x[1], x[0]))
        rows.append({"kind": k, "resources": int(n), "apps": len(by_app),
                     "by app": ", ".join(f"{a} {c}" for a, c in by_app)})
    return Table(pd.DataFrame(rows, columns=["kind", "resources", "apps", "by app"]),
                 "No resource was read.")


def problems_table(ctx: NotebookContext) -> Table:
    errs = ctx.ds.load_errors.assign(type="load error")[["type", "reason"]]
    warns = ctx.ds.warnings.assign(type="warning")[["type", "reason"]]
    return Table(pd.concat([errs, warns], ignore_index=True),
                 "No load error and no warning: every document was read.")


# -- 02 overlap ------------------------------------------------------------------------------

def _keys(ctx: NotebookContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    if ctx.overlap is None:
        keys = overlap.shared_keys(ctx.ds)
        ctx.overlap = (keys, overlap.overlap_pairs(ctx.ds, keys))
    return ctx.overlap


def overlap_summary(ctx: NotebookContext) -> str:
    keys, pairs = _keys(ctx)
    per_key = keys.drop_duplicates(overlap.KEY)
    return (f"{len(per_key)} resource keys in two or more apps "
            f"({int((~per_key['is_crd']).sum())} resources, {int(per_key['is_crd'].sum())} CRDs), "
            f"{int((~per_key['identical']).sum())} with differing manifests, "
            f"{len(pairs)} app pairs")


def _figure(figsize: tuple[float, float], *, fill: bool = False):
    """A figure of its own (no pyplot: nothing global, nothing shown twice) and its axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig, (fig.add_axes((0.0, 0.0, 1.0, 1.0)) if fill else fig.add_subplot())


def figure_size_for(n_apps: int, longest_label: int = 24) -> tuple[float, float]:
    """The overlap matrix: cells of one line of text and room for the longest app label."""
    cell = 0.34 if n_apps <= 20 else (0.24 if n_apps <= 40 else 0.17)
    font = 9 if n_apps <= 20 else (7 if n_apps <= 40 else 6)
    label = longest_label * 0.6 * font / 72
    side = max(n_apps - 1, 1) * cell
    return min(side + label + 0.8, 60.0), min(side + 0.87 * label + 1.6, 60.0)


def plot_overlap(ctx: NotebookContext) -> FigureOutput:
    _, pairs = _keys(ctx)
    only_shared = len(ctx.ds.apps) > 40
    matrix = overlap.overlap_matrix(ctx.ds, pairs, only_shared=only_shared)
    differing = pd.DataFrame(0, index=matrix.index, columns=matrix.columns)
    for a, b, n in pairs[["app_a", "app_b", "differing"]].itertuples(index=False):
        if a in differing.index and b in differing.index:
            differing.at[a, b] = differing.at[b, a] = n
    waves = dict(zip(ctx.ds.apps["app"], ctx.ds.apps["wave"]))
    shown = wave_layout.short_names(matrix.index)
    longest = max((len(f"{shown[a]}  (w{waves[a]})") for a in matrix.index), default=10)
    fig, ax = _figure(figure_size_for(len(matrix), longest))
    title = ("No two apps deploy the same resource" if pairs.empty else
             "Resources deployed by both apps" + (" (apps that share something)"
                                                  if only_shared else ""))
    plots.plot_overlap_matrix(matrix, ax, waves=waves, differing=differing, title=title)
    fig.tight_layout()
    out = FigureOutput(fig, ax, "overlap matrix")
    _save(ctx, out, "overlap-matrix.png")
    return out


def overlap_pairs_table(ctx: NotebookContext) -> Table:
    _, pairs = _keys(ctx)
    return Table(pairs.sort_values(["shared", "app_a", "app_b"], ascending=[False, True, True]),
                 "No two apps deploy the same resource.")


def overlap_kinds_table(ctx: NotebookContext) -> Table:
    keys, _ = _keys(ctx)
    return Table(overlap.shared_by_kind(keys), "No resource is deployed by two apps.")


def differing_table(ctx: NotebookContext) -> Table:
    keys, _ = _keys(ctx)
    return Table(overlap.differing_keys(keys),
                 "No shared resource differs between the apps that deploy it.")


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


def _graph_figure(graph: nx.DiGraph, app: str | None, name: str, title: str) -> FigureOutput:
    radius = blast_radius(graph, app) if app else []
    layout = wave_layout.wave_layout(graph, highlight=app, blast=radius, title=title)
    fig, ax = _figure((layout.width, layout.height), fill=True)
    plots.plot_wave_graph(graph, ax, layout=layout)
    return FigureOutput(fig, ax, name, layout)


def plot_wave_graph(ctx: NotebookContext) -> FigureOutput:
    out = _graph_figure(ctx.graph, ctx.app, "wave graph",
                        "Apps by sync wave, and what they need from each other")
    _save(ctx, out, "wave-graph.png")
    return out


def cascade_figure(ctx: NotebookContext) -> FigureOutput | None:
    """The chosen app and the apps that fail with it: the part of the wave graph the write-up
    tells about."""
    if not ctx.app:
        return None
    keep = [ctx.app, *blast_radius(ctx.graph, ctx.app)]
    name = wave_layout.short_names(ctx.graph)[ctx.app]
    return _graph_figure(ctx.graph.subgraph(keep).copy(), ctx.app, "cascade",
                         f"If {name} fails: the apps that fail with it")


def edges_table(ctx: NotebookContext) -> Table:
    rows = [{"provider": u, "provider_wave": d["provider_wave"], "consumer": v,
             "consumer_wave": d["consumer_wave"], "order": d["order"],
             "reasons": ", ".join(d["reasons"])}
            for u, v, d in sorted(ctx.graph.edges(data=True))]
    return Table(pd.DataFrame(rows, columns=["provider", "provider_wave", "consumer",
                                             "consumer_wave", "order", "reasons"]),
                 "No app needs a CRD or a namespace from another app.")


def blocking_table(ctx: NotebookContext) -> Table:
    f = ctx.findings
    f = f[f["severity"] == "error"]
    f = f.assign(blocked_by=f["chain"].map(chain_text))
    return Table(f[["app", "slug", "argocd_condition", "kind", "name", "message",
                    "blocked_by"]], "No finding blocks an app: nothing fails to sync.")


# -- 04 incident -----------------------------------------------------------------------------

def _fix(ctx: NotebookContext) -> tuple[Any, Any]:
    if ctx.fix is None:
        from gitops_analysis.fix.proof import make_fix

        ctx.fix = make_fix(ctx.ds, findings=ctx.findings, repo=ctx.repo or None)
    return ctx.fix


def fix_text(ctx: NotebookContext) -> str:
    """The generated fix and its proof (a real render of new kustomizations with a repo)."""
    from gitops_analysis.fix.document import fix_markdown

    plan, proof = _fix(ctx)
    title = "### The generated fix and its proof"
    if ctx.output_dir is not None:
        from gitops_analysis.fix.document import write_fix

        write_fix(ctx.output_dir / "fix", ctx.ds, plan, proof)
        title += "\n\nEvery file named here is in `fix/` beside this write-up."
    return fix_markdown(ctx.ds, plan, proof, heading="###").replace(
        f"### Fix for {ctx.ds.name}", title, 1)


def incident_text(ctx: NotebookContext) -> str:
    png = "wave-graph.png" if ctx.output_dir is not None else None
    if has_incident(ctx.findings):
        fix_text(ctx)  # the fix, computed once, and its files in fix/ with an output_dir
    return incident_markdown(ctx.ds, ctx.findings, ctx.graph, app=ctx.app or None,
                             dataset_label=ctx.label, wave_graph_png=png, fix=ctx.fix,
                             repo=ctx.repo or None, model=ctx.writeup,
                             fix_dir="fix" if ctx.output_dir is not None else None)


def incident_headline(ctx: NotebookContext) -> str:
    if not has_incident(ctx.findings):
        return f"no incident in {ctx.ds.name}"
    return (f"root: {ctx.app}\n" + "\n".join(fold(summary_line(ctx.findings))))


# a mermaid block needs a script from the network, an image link a file beside the page: in
# the notebook both become the figure itself
_DIAGRAMS = re.compile(r"^```mermaid\n.*?^```[ \t]*$|^!\[[^\]\n]*\]\(wave-graph\.png\)[ \t]*$",
                       re.MULTILINE | re.DOTALL)


def incident_parts(ctx: NotebookContext, text: str) -> list[str | FigureOutput]:
    """The write-up as the notebook shows it: Markdown, with the cascade diagram (mermaid) and
    the wave graph link replaced by the figures."""
    parts: list[str | FigureOutput] = []
    shown = False
    at = 0
    for m in _DIAGRAMS.finditer(text):
        parts.append(text[at:m.start()])
        at = m.end()
        if shown:
            continue
        fig = cascade_figure(ctx) if m.group(0).startswith("```") else plot_wave_graph(ctx)
        if fig is not None:
            parts.append(fig)
            shown = True
    parts.append(text[at:])
    return [p for p in parts if not isinstance(p, str) or p.strip()]


def show_incident(ctx: NotebookContext) -> None:
    """Display the write-up (and write ``incident.md`` and the wave graph with an output_dir)."""
    from IPython.display import Markdown, display

    text = incident_text(ctx)
    if ctx.output_dir is not None:
        if has_incident(ctx.findings):
            plot_wave_graph(ctx)
        (ctx.output_dir / "incident.md").write_text(text, encoding="utf-8")
    for part in incident_parts(ctx, text):
        display(Markdown(part) if isinstance(part, str) else part)


def _save(ctx: NotebookContext, out: FigureOutput, name: str) -> None:
    if ctx.output_dir is not None:
        out.save(ctx.output_dir / name)
