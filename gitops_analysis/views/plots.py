"""Plots: each function takes an ``ax`` and returns it; the library never shows a figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)  # headless by default; a notebook's inline backend still wins

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.patches import FancyArrowPatch, Patch
from matplotlib.path import Path

from gitops_analysis.analysis.graph import wave_layers

# Colour-blind-safe choices (Okabe-Ito), readable in grey too.
STATUS_COLOURS = {"ok": "#d9ead3", "failing": "#d55e00", "blocked": "#e69f00"}
ORDER_COLOURS = {"ok": "#7f7f7f", "race": "#e69f00", "late": "#d55e00"}
HIGHLIGHT = "#0072b2"
_CMAP = LinearSegmentedColormap.from_list("overlap", ["#ffffff", "#fde0c5", "#d55e00"])


def figure_size_for(n_apps: int) -> tuple[float, float]:
    """A square-ish size that keeps labels readable from 5 to 150 apps."""
    per_app = 0.32 if n_apps <= 20 else (0.22 if n_apps <= 40 else 0.16)
    side = min(max(6.0, per_app * n_apps + 3.0), 40.0)
    return side, side * 0.9


def plot_overlap_matrix(matrix: pd.DataFrame, ax, *, waves: dict[str, int] | None = None,
                        title: str = "Resources deployed by both apps") -> plt.Axes:
    """Annotated heatmap of shared-key counts, rows and columns ordered as the matrix is."""
    n = len(matrix)
    values = matrix.to_numpy(dtype=float)
    shown = np.where(values > 0, values, np.nan)
    vmax = max(1.0, float(np.nanmax(shown)) if np.isfinite(shown).any() else 1.0)
    ax.imshow(np.nan_to_num(shown, nan=0.0), cmap=_CMAP, vmin=0, vmax=vmax,
              interpolation="nearest", aspect="equal")
    labels = [f"{a}  (w{waves[a]})" if waves else a for a in matrix.index]
    # about one text line per cell: figure_size_for gives 0.16 in (11.5 pt) a cell at 100 apps
    fontsize = 9 if n <= 20 else (7 if n <= 40 else 6)
    ax.set_xticks(range(n), labels=labels, rotation=60, ha="right", rotation_mode="anchor",
                  fontsize=fontsize)
    ax.set_yticks(range(n), labels=labels, fontsize=fontsize)
    ax.set_xticks(np.arange(-0.5, n, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, n, 1), minor=True)
    ax.grid(which="minor", color="#e6e6e6", linewidth=0.5)
    ax.tick_params(which="minor", length=0)
    annotate_size = fontsize if n <= 40 else 5
    for i in range(n):
        for j in range(n):
            v = values[i, j]
            if v > 0:
                ax.text(j, i, f"{int(v)}", ha="center", va="center", fontsize=annotate_size,
                        color="white" if v > 0.6 * vmax else "black")
            elif i == j:
                ax.text(j, i, "·", ha="center", va="center", fontsize=annotate_size,
                        color="#b0b0b0")
    ax.set_title(title, fontsize=11)
    return ax


COLUMN_GAP = 2.0
ROW_GAP = 1.0


def _positions(graph: nx.DiGraph) -> dict[str, tuple[float, float]]:
    """Columns by wave, rows on one grid shared by every column (top-aligned), so the gaps
    between rows form free horizontal lanes that long edges can travel along."""
    pos = {}
    for col, (_, names) in enumerate(wave_layers(graph).items()):
        for row, name in enumerate(names):
            pos[name] = (col * COLUMN_GAP, -row * ROW_GAP)
    return pos


def _half_width(label: str, font: float, ax) -> float:
    """Half the width of a node box in data units (estimated from the label's longest line)."""
    fig_w = ax.figure.get_size_inches()[0] * ax.get_position().width
    x0, x1 = ax.get_xlim()
    units_per_inch = (x1 - x0) / max(fig_w, 1e-6)
    chars = max(len(line) for line in label.splitlines())
    return (0.62 * font / 72.0 * chars + 0.12) * units_per_inch / 2.0


def _route(p1, p2, w1, w2):
    """Vertices of an edge: straight to the next column, along a lane further away."""
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2:
        return [(x1 + w1, y1), (x1 + w1 + 0.35, (y1 + y2) / 2), (x2 + w2, y2)], None
    d = 1 if x2 > x1 else -1
    start, end = (x1 + d * w1, y1), (x2 - d * w2, y2)
    if abs(x2 - x1) <= COLUMN_GAP and y1 == y2:
        return [start, end], ((start[0] + end[0]) / 2, y1 + 0.28)
    lane = y2 + ROW_GAP / 2
    bend = 0.25
    verts = [start, (start[0] + d * bend, lane), (end[0] - d * bend, lane), end]
    return verts, (end[0] - d * (bend + 0.55), lane)


def _edge_label(reasons: tuple[str, ...]) -> str:
    crds = [r.split("/", 1)[1] for r in reasons if r.startswith("crd:")]
    nss = [r.split(":", 1)[1] for r in reasons if r.startswith("namespace:")]
    parts = []
    if crds:
        parts.append(", ".join(crds[:2]) + (f" +{len(crds) - 2}" if len(crds) > 2 else ""))
    if nss:
        parts.append("ns " + ", ".join(nss[:2]) + (f" +{len(nss) - 2}" if len(nss) > 2 else ""))
    return "\n".join(parts)


def plot_wave_graph(graph: nx.DiGraph, ax, *, highlight: str | None = None,
                    blast: list[str] | None = None, edge_labels: bool | None = None,
                    title: str = "Apps by sync wave, and what they need from each other"
                    ) -> plt.Axes:
    """Apps in columns by wave; edges provider -> consumer labelled by reason.

    Late and race edges are drawn in warning colours; failing and blocked apps are filled;
    ``highlight`` and its ``blast`` radius get a blue outline.
    """
    pos = _positions(graph)
    n = graph.number_of_nodes()
    layers = wave_layers(graph)
    tall = max((len(v) for v in layers.values()), default=1)
    font = 9 if tall <= 12 else max(4, int(9 - (tall - 12) / 6))
    if edge_labels is None:
        edge_labels = graph.number_of_edges() <= 30
    blast_set = set(blast or [])
    waves = list(layers)
    ax.set_xlim(-1.0, COLUMN_GAP * (len(waves) - 1) + 1.0)
    ax.set_ylim(-(tall - 1) * ROW_GAP - 0.6, 0.8)
    texts = {node: (node if n > 40 else f"{node}\n{d['status']}")
             for node, d in graph.nodes(data=True)}
    half = {node: _half_width(t, font, ax) for node, t in texts.items()}
    for (u, v, data) in sorted(graph.edges(data=True)):
        colour = ORDER_COLOURS[data["order"]]
        verts, label_at = _route(pos[u], pos[v], half[u], half[v])
        codes = [Path.MOVETO] + [Path.LINETO] * (len(verts) - 1)
        if len(verts) == 3:  # same wave: a curve
            codes = [Path.MOVETO, Path.CURVE3, Path.CURVE3]
        arrow = FancyArrowPatch(path=Path(verts, codes), arrowstyle="-|>", mutation_scale=11,
                                color=colour, linewidth=1.8 if data["order"] != "ok" else 0.9,
                                alpha=0.85, zorder=1)
        ax.add_patch(arrow)
        if edge_labels:
            lx, ly = label_at if label_at else (verts[1][0] + 0.3, verts[1][1])
            ax.text(lx, ly, _edge_label(data["reasons"]), fontsize=max(4, font - 2),
                    color=colour, ha="center", va="center", zorder=3,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                          "alpha": 0.85})
    for node, data in graph.nodes(data=True):
        x, y = pos[node]
        edge = HIGHLIGHT if node == highlight or node in blast_set else "#404040"
        width = 2.5 if node == highlight else (1.8 if node in blast_set else 0.8)
        ax.text(x, y, texts[node], ha="center", va="center", fontsize=font, zorder=4,
                bbox={"boxstyle": "round,pad=0.35", "fc": STATUS_COLOURS[data["status"]],
                      "ec": edge, "lw": width})
    ax.set_xticks([COLUMN_GAP * i for i in range(len(waves))], labels=[f"wave {w}" for w in waves],
                  fontsize=font + 1)
    ax.xaxis.set_ticks_position("top")
    ax.set_yticks([])
    for side in ("left", "right", "bottom", "top"):
        ax.spines[side].set_visible(False)
    handles = [Patch(fc=c, ec="#404040", label=f"app {s}") for s, c in STATUS_COLOURS.items()]
    handles += [Patch(fc=c, label=f"edge {o}") for o, c in ORDER_COLOURS.items()]
    if highlight:
        handles.append(Patch(fc="white", ec=HIGHLIGHT, lw=2, label=f"{highlight} + blast radius"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.02),
              ncol=min(len(handles), 4), fontsize=max(6, font - 1), frameon=False)
    ax.set_title(title, fontsize=11, pad=24)
    return ax


def wave_graph_figsize(graph: nx.DiGraph) -> tuple[float, float]:
    layers = wave_layers(graph)
    tall = max((len(v) for v in layers.values()), default=1)
    return max(9.0, 3.2 * len(layers)), max(4.5, 0.75 * tall + 2.2)
