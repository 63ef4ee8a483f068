"""Plots: each function takes an ``ax`` and returns it; the library never picks a backend (a
notebook keeps its inline one) and never shows a figure. The wave graph is drawn from a
:class:`~gitops_analysis.views.wave_layout.WaveLayout` in inches (``wave_layout``)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch, Patch, Polygon, Rectangle

from gitops_analysis.views.wave_layout import (
    ARROW_HALF,
    ARROW_LEN,
    EDGE_PT,
    GROUP_PT,
    HEAD_PT,
    HIGHLIGHT,
    LEGEND_PT,
    NO_STEP_COLOUR,
    NODE_PT,
    ORDER_COLOURS,
    STATUS_COLOURS,
    STEP_COLOUR,
    TITLE_PT,
    WaveLayout,
    short_names,
    wave_layout,
)

DIFFER = "#882255"  # outline of overlap cells whose renders differ
_CMAP = LinearSegmentedColormap.from_list("overlap", ["#ffffff", "#fde0c5", "#d55e00"])


def plot_overlap_matrix(matrix: pd.DataFrame, ax: Axes, *, waves: dict[str, int] | None = None,
                        differing: pd.DataFrame | None = None,
                        title: str = "Resources deployed by both apps") -> Axes:
    """The lower triangle of the (symmetric) apps x apps matrix: the cell of row ``b`` and
    column ``a`` is the number of resource keys both deploy. The diagonal and the upper half are
    not drawn. Cells outlined in purple hold keys whose renders differ (``differing``, same shape:
    counts): those apps overwrite each other on every sync."""
    names, values = list(matrix.index), matrix.to_numpy(dtype=float)
    n = len(names)
    if n < 2:
        ax.set_axis_off()
        return ax
    tri = np.full((n - 1, n - 1), np.nan)
    for i in range(1, n):
        tri[i - 1, :i] = values[i, :i]
    vmax = max(1.0, float(np.nanmax(tri)))
    ax.imshow(np.ma.masked_invalid(tri), cmap=_CMAP.with_extremes(bad="white"), vmin=0,
              vmax=vmax, interpolation="nearest", aspect="equal")
    shown = short_names(names)
    label = (lambda a: f"{shown[a]}  (w{waves[a]})") if waves else (lambda a: shown[a])
    fontsize = 9 if n <= 20 else (7 if n <= 40 else 6)
    ax.set_xticks(range(n - 1), labels=[label(a) for a in names[:-1]], rotation=60, ha="right",
                  rotation_mode="anchor", fontsize=fontsize)
    ax.set_yticks(range(n - 1), labels=[label(a) for a in names[1:]], fontsize=fontsize)
    ax.spines[["top", "right"]].set_visible(False)
    diff = differing.reindex(index=names, columns=names).fillna(0).to_numpy() \
        if differing is not None else np.zeros_like(values)
    for i in range(1, n):
        for j in range(i):
            ax.add_patch(Rectangle((j - 0.5, i - 1.5), 1, 1, fill=False, ec="#e6e6e6", lw=0.5))
            v = values[i, j]
            if v > 0:
                ax.text(j, i - 1, f"{int(v)}", ha="center", va="center", fontsize=fontsize,
                        color="white" if v > 0.6 * vmax else "black",
                        fontweight="bold" if diff[i, j] else "normal")
            if diff[i, j] > 0:
                ax.add_patch(Rectangle((j - 0.45, i - 1.45), 0.9, 0.9, fill=False, ec=DIFFER,
                                       lw=2.2, zorder=3, gid="differ"))
    handles = [Patch(fc=_CMAP(0.7), ec="#e6e6e6", label="number: resources both apps deploy")]
    if diff.any():
        handles.append(Patch(fill=False, ec=DIFFER, lw=2.2,
                             label="renders differ: the apps overwrite each other"))
    # above the triangle, under the title: the cells stay uncovered
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.01), fontsize=fontsize,
              frameon=False, borderaxespad=0.0)
    ax.set_title(title, fontsize=11, pad=(1.6 * len(handles) + 0.8) * fontsize)
    return ax



def plot_wave_graph(graph: nx.DiGraph, ax: Axes, *, highlight: str | None = None,
                    blast: list[str] | None = None, edge_labels: bool | None = None,
                    title: str = "Apps by sync wave, and what they need from each other",
                    layout: WaveLayout | None = None) -> Axes:
    """Apps in columns by wave; edges provider -> consumer labelled by what is needed.

    Late and race edges are drawn in warning colours; failing and blocked apps are filled;
    ``highlight`` and its ``blast`` radius get a blue outline. Data units are inches: give it an
    axes filling a figure of the layout's ``width`` x ``height`` inches.
    """
    lay = layout or wave_layout(graph, highlight=highlight, blast=blast,
                                edge_labels=edge_labels, title=title)
    ax.set(xlim=(0, lay.width), ylim=(lay.height, 0), aspect="equal")  # y downwards
    ax.set_axis_off()
    for r in lay.routes:
        colour = ORDER_COLOURS[r.order]
        xs, ys = zip(*r.points)
        ax.add_line(Line2D(xs, ys, color=colour, lw=1.8 if r.order != "ok" else 1.1,
                           solid_joinstyle="miter", zorder=1))
        (x0, _), (x1, y1) = r.points[-2], r.points[-1]
        d = 1.0 if x1 > x0 else -1.0
        ax.add_patch(Polygon([(x1, y1), (x1 - d * ARROW_LEN, y1 + ARROW_HALF),
                              (x1 - d * ARROW_LEN, y1 - ARROW_HALF)], closed=True, fc=colour,
                             ec="none", zorder=2, gid="arrowhead"))
        if r.leader:
            lx, ly = zip(*r.leader)
            ax.add_line(Line2D(lx, ly, color=colour, lw=0.8, ls=":", zorder=1))
        if r.label_at:
            ax.text(*r.label_at, r.label, fontsize=EDGE_PT, color="#1a1a1a", ha="center",
                    va="center", zorder=3, parse_math=False, linespacing=1.2,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": colour,
                          "lw": 0.6})
    for g in lay.groups:  # RollingSync steps: a dashed frame under the edges, labelled
        colour = STEP_COLOUR if g.step else NO_STEP_COLOUR
        ax.add_patch(Rectangle((g.x0, g.y0), g.x1 - g.x0, g.y1 - g.y0, fill=False, ec=colour,
                               lw=1.1, ls=(0, (4, 2)), zorder=0, gid=f"step:{g.label}"))
        ax.text(*g.label_at, g.label, ha="left", va="center", fontsize=GROUP_PT, color=colour,
                zorder=5, parse_math=False)
    for b in lay.boxes.values():
        lw = 3.0 if b.name == lay.highlight else (2.0 if b.name in lay.outlined else 0.8)
        ax.add_patch(FancyBboxPatch((b.x0, b.y0), b.x1 - b.x0, b.y1 - b.y0,
                                    boxstyle="round,pad=0,rounding_size=0.04", lw=lw,
                                    fc=STATUS_COLOURS[b.status], zorder=4, gid=f"box:{b.name}",
                                    ec=HIGHLIGHT if b.name in lay.outlined else "#404040"))
        ax.text((b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2, b.text, ha="center", va="center",
                fontsize=NODE_PT, zorder=5, parse_math=False, linespacing=1.2)
    for x, y, text in lay.headers + [lay.title]:
        ax.text(x, y, text, ha="center", va="center", parse_math=False,
                **({"fontsize": TITLE_PT} if text == lay.title[2] else
                   {"fontsize": HEAD_PT, "fontweight": "bold"}))
    for kind, colour, text, (x, y) in lay.legend:
        if kind == "edge":
            ax.add_line(Line2D([x, x + 0.3], [y, y], color=colour, lw=1.8))
        elif kind == "step":
            ax.add_patch(Rectangle((x, y - 0.07), 0.3, 0.14, fill=False, ec=colour, lw=1.1,
                                   ls=(0, (4, 2))))
        else:
            ax.add_patch(Rectangle((x, y - 0.07), 0.3, 0.14,
                                   fc=colour if kind == "node" else "white",
                                   ec="#404040" if kind == "node" else colour,
                                   lw=0.8 if kind == "node" else 2.0))
        ax.text(x + 0.38, y, text, ha="left", va="center", fontsize=LEGEND_PT,
                parse_math=False)
    return ax

