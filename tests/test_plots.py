"""The figures as a reader sees them, checked from the layout's own coordinates (inches).

The wave graph is checked at 10, 30 and 100 apps (the synthetic fleet of bench/fleet.py: a
platform app per ten apps provides CRDs and a namespace to the other nine, every second block's
platform app sits in a later wave), on the demo, and on a small graph written by hand with
every kind of edge (same wave, later wave, neighbours on one row, a hub).
"""

from __future__ import annotations

import subprocess
import sys
from itertools import combinations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from conftest import DEMO, ROOT

from gitops_analysis import load_dataset, run_rules
from gitops_analysis.analysis.graph import blast_radius, wave_graph
from gitops_analysis.views import plots
from gitops_analysis.views import wave_layout as wl
from gitops_analysis.views.html import DPI, IMAGE_WIDTH_PX, FigureOutput, png_size

sys.path.insert(0, str(ROOT / "bench"))
from fleet import generate

EPS = 1e-9


def _graph_of(folder) -> nx.DiGraph:
    ds = load_dataset(folder)
    return wave_graph(ds, run_rules(ds))


@pytest.fixture(scope="module")
def fleets(tmp_path_factory):
    out = {}
    for n in (10, 30, 100):
        folder = tmp_path_factory.mktemp(f"fleet{n}")
        generate(folder, n, 8, shared=1, late_every=2)
        out[n] = _graph_of(folder)
    return out


def hand_graph() -> nx.DiGraph:
    """hub (wave 0) provides to four apps in waves 1..3; a -> b in one wave (race); late (wave
    3) provides to early (wave 1, late); n1 <-> n2 neighbours on one row both ways."""
    g = nx.DiGraph()
    for name, wave, status in (("hub", 0, "failing"), ("a", 1, "blocked"), ("b", 1, "blocked"),
                               ("c", 2, "blocked"), ("d", 3, "blocked"), ("late", 3, "ok"),
                               ("early", 1, "ok"), ("n1", 0, "ok"), ("n2", 1, "ok")):
        g.add_node(name, wave=wave, status=status)
    for u, v, order, reasons in (
            ("hub", "a", "ok", ("crd:example.com/Widget", "namespace:team")),
            ("hub", "b", "ok", ("crd:example.com/Widget",)),
            ("hub", "c", "ok", ("crd:example.com/Gadget", "crd:example.com/Widget",
                                "crd:example.com/Sprocket")),
            ("hub", "d", "ok", ("namespace:team",)),
            ("a", "b", "race", ("crd:example.com/Thing",)),
            ("late", "early", "late", ("crd:example.com/Late",)),
            ("n1", "n2", "ok", ("namespace:n",)), ("n2", "n1", "late", ("namespace:m",))):
        g.add_edge(u, v, order=order, reasons=reasons)
    return g


def segments(route: wl.Route) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    pts = route.points
    segs = list(zip(pts, pts[1:]))
    if route.leader:
        segs += list(zip(route.leader, route.leader[1:]))
    return [s for s in segs if abs(s[0][0] - s[1][0]) + abs(s[0][1] - s[1][1]) > EPS]


def collinear_overlap(s, t) -> float:
    """Length two axis-parallel segments share (0 when they only cross or touch)."""
    (a0, a1), (b0, b1) = s, t
    for along, across in ((0, 1), (1, 0)):
        if abs(a0[across] - a1[across]) < EPS and abs(b0[across] - b1[across]) < EPS \
                and abs(a0[across] - b0[across]) < EPS:
            lo = max(min(a0[along], a1[along]), min(b0[along], b1[along]))
            hi = min(max(a0[along], a1[along]), max(b0[along], b1[along]))
            return max(0.0, hi - lo)
    return 0.0


def inside(seg, rect, margin=EPS) -> bool:
    """Does an axis-parallel segment pass through the open rectangle (x0, y0, x1, y1)?"""
    (x0, y0), (x1, y1) = seg
    rx0, ry0, rx1, ry1 = rect
    lo_x, hi_x, lo_y, hi_y = min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)
    return lo_x < rx1 - margin and hi_x > rx0 + margin and lo_y < ry1 - margin \
        and hi_y > ry0 + margin


def hub(graph: nx.DiGraph) -> str:
    """The app that provides to the most others (the demo: common-services, to all 9)."""
    return max(graph, key=lambda n: (graph.out_degree(n), n))


def layouts(fleets):
    demo = _graph_of(DEMO / "broken")
    yield "fleet-10", wl.wave_layout(fleets[10])
    yield "fleet-30", wl.wave_layout(fleets[30])
    yield "fleet-100", wl.wave_layout(fleets[100])
    yield "demo", wl.wave_layout(demo, highlight=hub(demo), blast=blast_radius(demo, hub(demo)))
    yield "hand", wl.wave_layout(hand_graph(), highlight="hub", blast=["a", "b"])


def test_the_fleets_have_what_the_checks_need(fleets):
    # 10 apps: one platform app and 9 consumers; 30 and 100: blocks whose platform app is late
    assert (fleets[10].number_of_nodes(), fleets[10].number_of_edges()) == (10, 9)
    assert fleets[100].number_of_edges() == 90
    for n in (30, 100):
        orders = {d["order"] for _, _, d in fleets[n].edges(data=True)}
        assert orders == {"ok", "late"}


def test_no_two_edges_share_a_lane_segment(fleets):
    for name, lay in layouts(fleets):
        segs = [(i, s) for i, r in enumerate(lay.routes) for s in segments(r)]
        shared = [(lay.routes[i].provider, lay.routes[i].consumer,
                   lay.routes[j].provider, lay.routes[j].consumer)
                  for (i, s), (j, t) in combinations(segs, 2)
                  if i != j and collinear_overlap(s, t) > EPS]
        assert shared == [], name


def test_a_hub_fans_out_on_lanes_of_its_own(fleets):
    # the issue: common-services -> jupyter / kserve / web-apps / spark read as one chain
    demo = _graph_of(DEMO / "broken")
    assert demo.out_degree(hub(demo)) == 9 and hub(demo).endswith("common-services")
    lay = wl.wave_layout(demo)
    fan = [r for r in lay.routes if r.provider == hub(demo) and len(r.points) > 2]
    lanes = [r.points[2][1] for r in fan]  # start, out-track, lane, in-track, end
    assert len(fan) == 8 and len(set(lanes)) == len(fan)  # profiles: a straight neighbour


def test_edges_are_orthogonal_and_never_cross_a_box(fleets):
    for name, lay in layouts(fleets):
        rects = {n: (b.x0, b.y0, b.x1, b.y1) for n, b in lay.boxes.items()}
        for r in lay.routes:
            for seg in segments(r):
                (x0, y0), (x1, y1) = seg
                assert abs(x0 - x1) < EPS or abs(y0 - y1) < EPS, (name, r.provider, r.consumer)
                crossed = [n for n, rect in rects.items() if inside(seg, rect)]
                assert crossed == [], (name, r.provider, r.consumer)


def test_arrowheads_touch_their_boxes(fleets):
    for name, lay in layouts(fleets):
        for r in lay.routes:
            for (x, y), box in ((r.points[-1], lay.boxes[r.consumer]),
                                (r.points[0], lay.boxes[r.provider])):
                assert min(abs(x - box.x0), abs(x - box.x1)) < EPS, (name, r.consumer)
                assert box.y0 < y < box.y1, (name, r.consumer)
            # the last stretch is horizontal and longer than the arrowhead
            (xa, ya), (xb, yb) = r.points[-2:]
            assert abs(ya - yb) < EPS and abs(xa - xb) > wl.ARROW_LEN


def test_the_drawn_arrowheads_are_the_layout_s(tmp_path):
    from matplotlib.figure import Figure

    g = hand_graph()
    lay = wl.wave_layout(g, highlight="hub", blast=["a", "b"])
    fig = Figure(figsize=(lay.width, lay.height))
    ax = fig.add_axes((0, 0, 1, 1))
    assert plots.plot_wave_graph(g, ax, layout=lay) is ax
    tips = sorted(tuple(np.round(p.get_xy()[0], 9)) for p in ax.patches
                  if p.get_gid() == "arrowhead")
    assert tips == sorted(tuple(np.round(r.points[-1], 9)) for r in lay.routes)
    # one inch of data is one inch of figure: the sizes of the layout are the sizes drawn
    x0, _ = ax.transData.transform((0, 0))
    x1, _ = ax.transData.transform((1, 0))
    assert abs((x1 - x0) - fig.dpi) < 1e-6


def test_labels_are_readable_where_the_html_shows_the_figure(fleets):
    # the HTML shows an image at most IMAGE_WIDTH_PX wide; a point is 1/72 inch of the figure
    for name, lay in layouts(fleets):
        px_per_inch = min(DPI, IMAGE_WIDTH_PX / lay.width)
        smallest = min(points for _, points in lay.texts()) / 72 * px_per_inch
        assert smallest >= 9.0, (name, round(lay.width, 2), round(smallest, 1))


def test_labels_overlap_nothing(fleets):
    for name, lay in layouts(fleets):
        rects = []
        for r in lay.routes:
            if r.label_at:
                w, h = wl.text_size(r.label, wl.EDGE_PT)
                x, y = r.label_at
                rects.append((r, (x - w / 2, y - h / 2, x + w / 2, y + h / 2)))
        assert rects or name == "fleet-100", name  # 90 edges: no labels, the table has them
        boxes = [(b.x0, b.y0, b.x1, b.y1) for b in lay.boxes.values()]
        for (_, a), (_, b) in combinations(rects, 2):
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), name
        for r, rect in rects:
            assert not any(rect[0] < b[2] and b[0] < rect[2] and rect[1] < b[3] and
                           b[1] < rect[3] for b in boxes), (name, r.provider, r.consumer)
            others = [s for o in lay.routes if o is not r for s in segments(o)]
            assert not any(inside(s, rect) for s in others), (name, r.provider, r.consumer)
            # and the label sits on its own edge
            assert any(inside(s, rect) or collinear_overlap(s, ((rect[0], r.label_at[1]),
                                                               (rect[2], r.label_at[1]))) > 0
                       for s in segments(r)), (name, r.provider, r.consumer)


def test_legend_lists_only_what_is_drawn():
    lay = wl.wave_layout(hand_graph(), highlight="hub", blast=["a", "b"])
    # statuses: failing, blocked, ok; orders: ok, race, late; hub + its two apps outlined
    assert [(k, t) for k, _, t, _ in lay.legend] == [
        ("node", "app ok"), ("node", "app failing"), ("node", "app blocked"),
        ("edge", "needs, provider in an earlier wave"), ("edge", "needs, same wave (race)"),
        ("edge", "needs, provider in a later wave"),
        ("outline", "hub and the 2 apps that fail with it")]
    g = nx.DiGraph()
    g.add_node("x", wave=0, status="ok")
    g.add_node("y", wave=1, status="ok")
    g.add_edge("x", "y", order="ok", reasons=("namespace:n",))
    assert [t for _, _, t, _ in wl.wave_layout(g).legend] == [
        "app ok", "needs, provider in an earlier wave"]


def test_blast_outline_only_on_the_blast_radius():
    from matplotlib.colors import to_hex
    from matplotlib.figure import Figure

    g = hand_graph()
    fig = Figure()
    ax = plots.plot_wave_graph(g, fig.add_axes((0, 0, 1, 1)), highlight="hub", blast=["a", "b"])
    edge = {p.get_gid()[4:]: to_hex(p.get_edgecolor()) for p in ax.patches
            if (p.get_gid() or "").startswith("box:")}
    assert len(edge) == 9
    assert {n for n, c in edge.items() if c == wl.HIGHLIGHT} == {"hub", "a", "b"}


def test_apps_are_shown_without_a_namespace_they_all_share():
    assert wl.short_names(["argocd/a", "argocd/b-c"]) == {"argocd/a": "a", "argocd/b-c": "b-c"}
    assert wl.short_names(["argocd/a", "team/a"]) == {"argocd/a": "argocd/a",
                                                         "team/a": "team/a"}
    assert wl.short_names(["a", "argocd/b"]) == {"a": "a", "argocd/b": "argocd/b"}
    g = nx.relabel_nodes(hand_graph(), lambda n: f"argocd/{n}")
    lay = wl.wave_layout(g, highlight="argocd/hub", blast=["argocd/a"])
    assert lay.boxes["argocd/hub"].text == "hub\nfailing"
    assert lay.legend[-1][2] == "hub and the 1 app that fails with it"


def test_sizes_stay_bounded_at_100_apps(fleets):
    lay = wl.wave_layout(fleets[100])
    # 7 waves of short names: every text stays >= 9 px, so the width is at most
    # 10 pt / 72 * 1200 px / 9 px = 18.5 in; 20 rows of boxes at least 0.4 in each
    assert lay.width <= 10 / 72 * IMAGE_WIDTH_PX / 9
    assert lay.height >= 20 * 0.4


def test_overlap_matrix_is_one_triangle_with_differing_pairs_marked():
    from matplotlib.figure import Figure

    apps = ["a", "b", "c", "d"]
    m = pd.DataFrame(0, index=apps, columns=apps)
    m.loc["a", "b"] = m.loc["b", "a"] = 2
    m.loc["b", "d"] = m.loc["d", "b"] = 5
    diff = pd.DataFrame(0, index=apps, columns=apps)
    diff.loc["a", "b"] = diff.loc["b", "a"] = 1
    fig = Figure()
    ax = plots.plot_overlap_matrix(m, fig.add_subplot(), differing=diff)
    shown = ax.images[0].get_array()
    # rows b, c, d; columns a, b, c: the cells below the diagonal only
    assert [[not masked for masked in row] for row in np.ma.getmaskarray(shown)] == [
        [True, False, False], [True, True, False], [True, True, True]]
    assert shown[0, 0] == 2 and shown[2, 1] == 5 and shown[1, 0] == 0
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "c", "d"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    # one outline, on (row b, column a); the numbers: only where something is shared
    marked = [p.get_xy() for p in ax.patches if p.get_gid() == "differ"]
    assert len(marked) == 1 and tuple(np.round(marked[0], 2)) == (-0.45, -0.45)
    assert sorted(t.get_text() for t in ax.texts) == ["2", "5"]
    assert [t.get_text() for t in ax.get_legend().get_texts()][1] == \
        "renders differ: the apps overwrite each other"


def test_figures_are_png_bytes_that_do_not_change():
    from matplotlib.figure import Figure

    def make() -> FigureOutput:
        g = hand_graph()
        lay = wl.wave_layout(g)
        fig = Figure(figsize=(lay.width, lay.height))
        ax = fig.add_axes((0, 0, 1, 1))
        plots.plot_wave_graph(g, ax, layout=lay)
        return FigureOutput(fig, ax, "wave graph", lay)

    one, two = make(), make()
    assert one.png() == two.png()
    width, _ = png_size(one.png())
    assert abs(width - one.layout.width * DPI) <= 1
    shown = one._repr_png_()
    if width > IMAGE_WIDTH_PX:
        assert shown[1] == {"width": IMAGE_WIDTH_PX}
    else:
        assert shown == one.png()


def test_the_library_keeps_the_backend_it_is_given():
    # a notebook's inline backend must survive importing the plots (it used to be set to Agg)
    code = ("import matplotlib; matplotlib.use('svg'); "
            "import gitops_analysis.views.plots, gitops_analysis.views.notebook; "
            "print(matplotlib.get_backend())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "svg"
