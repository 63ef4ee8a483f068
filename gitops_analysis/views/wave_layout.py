"""The wave graph's layout, in inches from the top-left corner (y downwards): columns by wave,
a box per app, each edge on its own ports, tracks and lane, labels, RollingSync groups and the
legend. Everything is computed here so its geometry can be checked without drawing: own lanes,
arrowheads on boxes, no edge through a box, every text with its size in points."""

from __future__ import annotations

import textwrap
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import networkx as nx
from matplotlib.backends.backend_agg import RendererAgg  # text metrics only: no backend is set
from matplotlib.font_manager import FontProperties

from gitops_analysis.analysis.graph import wave_layers

# Colour-blind-safe choices (Okabe-Ito), readable in grey too.
STATUS_COLOURS = {"ok": "#d9ead3", "failing": "#d55e00", "blocked": "#e69f00",
                  "not-analysed": "#e0e0e0"}  # grey: nothing of it was read
ORDER_COLOURS = {"ok": "#5f5f5f", "race": "#e69f00", "late": "#d55e00"}
HIGHLIGHT = "#0072b2"
_ORDER_TEXT = {"ok": "needs, provider in an earlier wave", "race": "needs, same wave (race)",
               "late": "needs, provider in a later wave"}

NODE_PT, EDGE_PT, HEAD_PT, LEGEND_PT, TITLE_PT = 10.0, 9.0, 10.0, 9.0, 12.0
GROUP_PT = 9.0      # the label of a RollingSync step
GROUP_PAD = 0.06    # frame of a RollingSync step around its boxes (less than GAP_PAD)
STEP_COLOUR = "#404040"
NO_STEP_COLOUR = "#d55e00"  # generated but selected by no step: never synced by the appset
PAD = 0.07          # text to box edge (in)
PORT_SP = 0.05      # between two edge ends on one side of a box
TRACK_SP = 0.06     # between two vertical tracks in a gap
TRACK_MARGIN = 0.15  # two uses of one track stay this far apart
LANE_SP = 0.08      # a lane without a label
LABEL_GAP = 0.05    # around a label
GAP_PAD = 0.15      # box side to the first track: room for the arrowhead
ARROW_LEN, ARROW_HALF = 0.11, 0.045
MARGIN = 0.25
WRAP = 18           # characters a line in a box


@lru_cache(maxsize=4096)
def text_size(text: str, points: float) -> tuple[float, float]:
    """Width and height in inches of ``text`` (lines split on newlines) at ``points``."""
    renderer, prop, lines = RendererAgg(1, 1, 72), FontProperties(size=points), text.split("\n")
    width = max(renderer.get_text_width_height_descent(line, prop, ismath=False)[0]
                for line in lines)
    return width / 72.0, len(lines) * points * 1.2 / 72.0


def short_names(names) -> dict[str, str]:
    """App ids as shown: without their namespace when every app has the same one (argocd/x)."""
    spaces = {n.split("/", 1)[0] if "/" in n else None for n in names}
    one = len(spaces) == 1 and None not in spaces
    return {n: n.split("/", 1)[1] if one else n for n in names}


def _names(kind: str, items: list[str], budget: int = 24) -> str:
    """``items`` joined while they fit ``budget`` characters, then ``+n``; at least one."""
    shown = items[:1]
    for item in items[1:]:
        if len(", ".join(shown + [item])) + len(kind) > budget:
            break
        shown.append(item)
    more = len(items) - len(shown)
    return kind + ", ".join(shown) + (f" +{more}" if more else "")


def edge_label(reasons: tuple[str, ...]) -> str:
    """What the consumer needs from the provider, in two short lines: CRD kinds, namespaces."""
    crds = [r.split("/", 1)[1] for r in reasons if r.startswith("crd:")]
    nss = [r.split(":", 1)[1] for r in reasons if r.startswith("namespace:")]
    parts = [_names("", crds)] if crds else []
    return "\n".join(parts + ([_names("ns ", nss)] if nss else []))


@dataclass
class Box:
    name: str
    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    status: str


@dataclass
class Route:
    provider: str
    consumer: str
    order: str
    points: list[tuple[float, float]]      # from the provider's side to the consumer's side
    label: str = ""
    label_at: tuple[float, float] | None = None
    leader: list[tuple[float, float]] = field(default_factory=list)  # to a same-wave label


@dataclass
class Group:
    """The apps of one column that one RollingSync step of an ApplicationSet selects: the
    ApplicationSet controller syncs a step once every app of the step before is healthy
    (progressive syncs, ``applicationset/controllers/applicationset_controller.go``). ``step``
    0: no step selects them; the controller never syncs them (Argo CD's Progressive Syncs
    documentation: they must be synced by hand)."""
    appset: str
    step: int
    steps: int
    members: list[str]
    label: str = ""
    x0: float = 0.0
    y0: float = 0.0
    x1: float = 0.0
    y1: float = 0.0
    label_at: tuple[float, float] = (0.0, 0.0)


def rollout(graph: nx.DiGraph, node: str) -> tuple[str, int, int] | None:
    """(ApplicationSet, step, steps) of an app its ApplicationSet rolls out with RollingSync."""
    d = graph.nodes[node]
    steps = int(d.get("rollout_steps", 0) or 0)
    return (str(d.get("appset", "")), int(d.get("rollout_step", 0) or 0), steps) if steps \
        else None


def _groups(graph: nx.DiGraph, layers: dict[int, list[str]], row: dict[str, int]
            ) -> list[tuple[int, Group]]:
    """The RollingSync steps of each column (their apps are on adjacent rows), with labels."""
    found: list[tuple[int, Group]] = []
    sets = short_names(sorted({r[0] for n in graph if (r := rollout(graph, n))}))
    for c, names in enumerate(layers.values()):
        for n in sorted(names, key=row.__getitem__):
            r = rollout(graph, n)
            if r is None:
                continue
            last = found[-1][1] if found and found[-1][0] == c else None
            if last and (last.appset, last.step) == r[:2] and row[n] == row[last.members[-1]] + 1:
                last.members.append(n)
                continue
            appset, step, steps = r
            label = (f"{sets[appset]}: step {step} of {steps}" if step else
                     f"{sets[appset]}: in no step")
            found.append((c, Group(appset, step, steps, [n], label)))
    return found


@dataclass
class WaveLayout:
    """Everything the wave graph draws, in inches from the top-left corner (y downwards)."""
    width: float
    height: float
    boxes: dict[str, Box]
    routes: list[Route]
    headers: list[tuple[float, float, str]]
    legend: list[tuple[str, str, str, tuple[float, float]]]  # kind, colour, text, at
    title: tuple[float, float, str]
    highlight: str | None
    outlined: set[str]  # the highlight and its blast radius
    groups: list[Group] = field(default_factory=list)  # RollingSync steps

    def texts(self) -> list[tuple[str, float]]:
        """Every text drawn and its size in points."""
        out = [(b.text, NODE_PT) for b in self.boxes.values()]
        out += [(g.label, GROUP_PT) for g in self.groups]
        out += [(r.label, EDGE_PT) for r in self.routes if r.label_at]
        out += [(h[2], HEAD_PT) for h in self.headers] + [(e[2], LEGEND_PT) for e in self.legend]
        return out + [(self.title[2], TITLE_PT)]


def _rows(graph: nx.DiGraph, layers: dict[int, list[str]]) -> dict[str, int]:
    """Row of each app in its column: by the mean row of its providers to the left, then name.
    The apps of a RollingSync ApplicationSet stay together, by step (apps in no step last),
    where the first of them would be."""
    row: dict[str, int] = {}
    for names in layers.values():
        base = {}
        for n in names:
            ups = [row[p] for p in graph.predecessors(n) if p in row]
            base[n] = (sum(ups) / len(ups) if ups else float(len(graph)), n)
        first: dict[str, tuple[float, str]] = {}
        for n in names:
            if r := rollout(graph, n):
                first[r[0]] = min(first.get(r[0], base[n]), base[n])
        key: dict[str, tuple[tuple[float, str], str, int, str]] = {}
        for n in names:
            r = rollout(graph, n)
            key[n] = (base[n], "", 0, n) if r is None else \
                (first[r[0]], r[0], r[1] or r[2] + 1, n)
        row.update({n: i for i, n in enumerate(sorted(names, key=key.__getitem__))})
    return row


@dataclass
class _Edge:
    """One edge while it is laid out (depth grows downwards)."""
    i: int
    u: str
    v: str
    order: str
    out_gap: int          # gap g lies right of column g
    in_gap: int
    out_side: str         # side of the provider's box: L or R
    in_side: str          # side of the consumer's box
    kind: str = "lane"    # lane, straight (neighbours on one row), same (one wave)
    label: str = ""
    lsize: tuple[float, float] = (0.0, 0.0)
    channel: int = -1     # channel k lies above row k
    lane_y: float = 0.0
    port: dict[str, float] = field(default_factory=dict)  # p and c: depth of each end
    track: dict[str, int] = field(default_factory=dict)   # o and i: track in its gap group

    @property
    def span(self) -> tuple[int, int]:  # the gaps its lane crosses, from first to last
        return min(self.out_gap, self.in_gap), max(self.out_gap, self.in_gap)


def _edges(graph: nx.DiGraph, col: dict[str, int], row: dict[str, int], labels: bool
           ) -> list[_Edge]:
    edges: list[_Edge] = []
    centre: set[tuple[str, str]] = set()
    for i, (u, v, d) in enumerate(sorted(graph.edges(data=True), key=lambda e: e[:2])):
        cu, cv = col[u], col[v]
        e = (_Edge(i, u, v, d["order"], cu, cv - 1, "R", "L") if cv > cu else
             _Edge(i, u, v, d["order"], cu - 1, cv, "L", "R") if cv < cu else
             _Edge(i, u, v, d["order"], cu, cu, "R", "R", "same"))
        ends = {(u, e.out_side), (v, e.in_side)}
        if abs(cv - cu) == 1 and row[u] == row[v] and not ends & centre:
            e.kind = "straight"
            centre |= ends
        e.label = edge_label(d["reasons"]) if labels else ""
        e.lsize = text_size(e.label, EDGE_PT) if e.label else (0.0, 0.0)
        edges.append(e)
    return edges


def _lanes(edges: list[_Edge], row: dict[str, int], nrows: int) -> list[list[list[_Edge]]]:
    """A channel for every edge but the straight ones (between its two rows, as near the
    consumer and as little used as can be), then lanes: an edge shares a lane only with edges
    a column away from it."""
    load: dict[int, list[tuple[int, int]]] = {}
    for e in sorted(edges, key=lambda e: (e.span[0] - e.span[1], e.i)):
        if e.kind == "straight":
            continue
        rp, rc = row[e.u], row[e.v]
        cands = list(range(rc + 1, rp + 1)) if rp > rc else \
            (list(range(rc, rp, -1)) if rp < rc else [rc, rc + 1])
        lo, hi = e.span
        e.channel = min(cands, key=lambda k: (sum(1 for a, b in load.get(k, [])
                                                  if a <= hi and lo <= b), cands.index(k)))
        load.setdefault(e.channel, []).append(e.span)
    lanes: list[list[list[_Edge]]] = [[] for _ in range(nrows + 1)]
    for k, channel in enumerate(lanes):
        # consumers above the channel: short edges nearest them; below: long edges on top
        mine = sorted((e for e in edges if e.channel == k),
                      key=lambda e: ((1, e.span[0] - e.span[1]) if row[e.v] >= k else
                                     (0, e.span[1] - e.span[0]), e.i))
        for e in mine:
            if channel and all(f.span[1] + 1 < e.span[0] or e.span[1] + 1 < f.span[0]
                               for f in channel[-1]):
                channel[-1].append(e)
            else:
                channel.append([e])
    return lanes


def _ports(edges: list[_Edge], row_y: list[float], row: dict[str, int],
           size: dict[str, tuple[float, float]]) -> None:
    """Each end gets its own port on its side, sorted by where the edge goes next; a straight
    edge takes the middle."""
    sides: dict[tuple[str, str], list[tuple[_Edge, str]]] = {}
    for e in edges:
        sides.setdefault((e.u, e.out_side), []).append((e, "p"))
        sides.setdefault((e.v, e.in_side), []).append((e, "c"))
    for (n, _), ends in sides.items():
        centre, half = row_y[row[n]], size[n][1] / 2

        def target(end: tuple[_Edge, str]) -> float:
            e, which = end
            return e.lane_y if e.kind == "lane" else row_y[row[e.v if which == "p" else e.u]]
        rest = sorted((x for x in ends if x[0].kind != "straight"), key=target)
        if len(rest) < len(ends):
            for e, which in ends:
                if e.kind == "straight":
                    e.port[which] = centre
            ups = [x for x in rest if target(x) < centre]
            downs = [x for x in rest if target(x) >= centre][::-1]
            for group, sign in ((ups, -1), (downs, 1)):
                for j, (e, which) in enumerate(group):
                    e.port[which] = centre + sign * half * (len(group) - j) / (len(group) + 1)
        else:
            for j, (e, which) in enumerate(rest):
                e.port[which] = centre - half + 2 * half * (j + 1) / (len(rest) + 1)


def _tracks(edges: list[_Edge]) -> dict[tuple[int, str], int]:
    """Vertical tracks per gap and group (L: beside the left column, R: the right one); the
    edges of one box nest so they do not cross. Returns the number of tracks of each group."""
    uses: dict[tuple[int, str], list[tuple[_Edge, str, float, float]]] = {}
    for e in edges:
        if e.kind == "same":
            uses.setdefault((e.out_gap, "L"), []).append((e, "o", e.port["p"], e.port["c"]))
        elif e.kind == "lane":
            uses.setdefault((e.out_gap, "L" if e.out_side == "R" else "R"), []).append(
                (e, "o", e.port["p"], e.lane_y))
            uses.setdefault((e.in_gap, "R" if e.in_side == "L" else "L"), []).append(
                (e, "i", e.port["c"], e.lane_y))
    count = {}
    for key, group in uses.items():
        downs = sorted((x for x in group if x[3] >= x[2]), key=lambda x: (-x[2], x[0].i))
        ups = sorted((x for x in group if x[3] < x[2]), key=lambda x: (x[2], x[0].i))
        taken: list[list[tuple[float, float]]] = []
        for e, which, a, b in downs + ups:
            lo, hi = min(a, b), max(a, b)
            t = next((t for t, spans in enumerate(taken)
                      if all(hi + TRACK_MARGIN < s or z + TRACK_MARGIN < lo for s, z in spans)),
                     len(taken))
            if t == len(taken):
                taken.append([])
            taken[t].append((lo, hi))
            e.track[which] = t
        count[key] = len(taken)
    return count


def wave_layout(graph: nx.DiGraph, *, highlight: str | None = None,
                blast: list[str] | None = None, edge_labels: bool | None = None,
                title: str = "Apps by sync wave, and what they need from each other"
                ) -> WaveLayout:
    """Columns by wave. An edge leaves its provider's side at its own port, takes its own
    vertical track in the gap, its own lane between two rows and enters the consumer's side at
    its own port (neighbours on one row: a straight line). A label sits on its edge's lane, in
    the column before the consumer, or in the gap for neighbours."""
    layers = wave_layers(graph)
    col = {n: c for c, names in enumerate(layers.values()) for n in names}
    row = _rows(graph, layers)
    ncols, nrows = len(layers), max((len(v) for v in layers.values()), default=0)
    edges = _edges(graph, col, row, graph.number_of_edges() <= 30 if edge_labels is None
                   else edge_labels)
    lanes = _lanes(edges, row, nrows)
    # boxes: the name on short lines and the status; tall enough for their ports
    shown = short_names(graph)
    text = {n: "\n".join(textwrap.wrap(shown[n], WRAP, break_on_hyphens=True) +
                         [graph.nodes[n]["status"]]) for n in graph}
    ends = Counter([(e.u, e.out_side) for e in edges] + [(e.v, e.in_side) for e in edges])
    mid = {x for e in edges if e.kind == "straight" for x in ((e.u, e.out_side), (e.v, e.in_side))}
    size: dict[str, tuple[float, float]] = {}
    for n in graph:
        w, h = text_size(text[n], NODE_PT)
        need = [PORT_SP * (2 * ends[n, s] if (n, s) in mid else ends[n, s] + 1) for s in "LR"]
        size[n] = (w + 2 * PAD, max([h + 2 * PAD] + need))
    # rows and channels from the top
    band = [max([size[n][1] for n in graph if row[n] == r], default=0.4) for r in range(nrows)]
    groups = _groups(graph, layers, row)
    group_h = text_size("Ag", GROUP_PT)[1] + 0.06
    starts = {row[g.members[0]] for _, g in groups}  # rows under a step's label
    head_h, title_h = text_size("wave", HEAD_PT)[1], text_size(title, TITLE_PT)[1]
    top = MARGIN + title_h + 0.15 + head_h + 0.1
    depth, row_y = top, []
    for k in range(nrows + 1):
        depth += 0.08
        for lane in lanes[k]:
            h = max(e.lsize[1] + 2 * LABEL_GAP if e.label else LANE_SP for e in lane)
            for e in lane:
                e.lane_y = depth + h / 2
            depth += h
        depth += 0.08 if lanes[k] else 0.06
        if k < nrows:
            depth += group_h if k in starts else 0.0
            row_y.append(depth + band[k] / 2)
            depth += band[k]
    _ports(edges, row_y, row, size)
    ntracks = _tracks(edges)
    # columns as wide as their widest box or label; gaps as their tracks and labels
    col_w = [max(size[n][0] for n in names) for names in layers.values()]
    for c, g in groups:
        col_w[c] = max(col_w[c], text_size(g.label, GROUP_PT)[0] + 0.04)
    zone = [0.0] * ncols
    place: dict[int, tuple[str, int]] = {}
    for e in edges:
        if e.label and abs(col[e.v] - col[e.u]) >= 2:
            c = col[e.v] - 1 if col[e.v] > col[e.u] else col[e.v] + 1
            place[e.i] = ("col", c)
            col_w[c] = max(col_w[c], e.lsize[0] + 2 * LABEL_GAP)
        elif e.label:
            place[e.i] = ("gap", e.in_gap)
            zone[e.in_gap] = max(zone[e.in_gap], e.lsize[0] + 2 * LABEL_GAP)
    used = {g for g, _ in ntracks} | {e.out_gap for e in edges}
    nl = [ntracks.get((g, "L"), 0) for g in range(ncols)]
    nr = [ntracks.get((g, "R"), 0) for g in range(ncols)]
    gap_w = [max(2 * GAP_PAD + (nl[g] + nr[g]) * TRACK_SP + max(zone[g], 0.25), 0.45)
             if g < ncols - 1 or g in used else 0.0 for g in range(ncols)]
    col_x = [MARGIN + sum(col_w[:c]) + sum(gap_w[:c]) for c in range(ncols)]
    width = max(MARGIN + sum(col_w) + sum(gap_w) + MARGIN,
                text_size(title, TITLE_PT)[0] + 2 * MARGIN)

    def track_x(g: int, group: str, t: int) -> float:
        if group == "L":
            return col_x[g] + col_w[g] + GAP_PAD + t * TRACK_SP
        return col_x[g] + col_w[g] + gap_w[g] - GAP_PAD - t * TRACK_SP

    def zone_x(g: int) -> float:
        return (track_x(g, "L", nl[g]) + track_x(g, "R", nr[g])) / 2

    # boxes and routes
    outlined = ((set(blast or []) | {highlight}) & set(graph)) if highlight else set()
    boxes = {}
    for n in graph:
        cx, (w, h), y = col_x[col[n]] + col_w[col[n]] / 2, size[n], row_y[row[n]]
        boxes[n] = Box(n, cx - w / 2, y - h / 2, cx + w / 2, y + h / 2, text[n],
                       graph.nodes[n]["status"])
    for c, g in groups:
        g.x0, g.x1 = col_x[c] - GROUP_PAD, col_x[c] + col_w[c] + GROUP_PAD
        g.y0 = boxes[g.members[0]].y0 - group_h - 0.02
        g.y1 = max(boxes[n].y1 for n in g.members) + 0.05
        g.label_at = (col_x[c], g.y0 + group_h / 2 + 0.01)
    routes = []
    for e in edges:
        bu, bv = boxes[e.u], boxes[e.v]
        start = bu.x1 if e.out_side == "R" else bu.x0
        end = bv.x0 if e.in_side == "L" else bv.x1
        yp, yc = e.port["p"], e.port["c"]
        r = Route(e.u, e.v, e.order, [(start, yp), (end, yc)], e.label)
        if e.kind == "same":
            t = track_x(e.out_gap, "L", e.track["o"])
            r.points = [(start, yp), (t, yp), (t, yc), (end, yc)]
            if e.label:
                r.leader = [(t, e.lane_y), (zone_x(e.in_gap), e.lane_y)]  # under the label
        elif e.kind == "lane":
            t1 = track_x(e.out_gap, "L" if e.out_side == "R" else "R", e.track["o"])
            t2 = track_x(e.in_gap, "R" if e.in_side == "L" else "L", e.track["i"])
            r.points = [(start, yp), (t1, yp), (t1, e.lane_y), (t2, e.lane_y), (t2, yc),
                        (end, yc)]
        if e.i in place:
            where, at = place[e.i]
            r.label_at = (zone_x(at) if where == "gap" else col_x[at] + col_w[at] / 2,
                          yp if e.kind == "straight" else e.lane_y)
        routes.append(r)
    # the legend: what is present, under the graph
    items = [("node", STATUS_COLOURS[s], f"app {s}") for s in STATUS_COLOURS
             if any(d["status"] == s for _, d in graph.nodes(data=True))]
    items += [("edge", ORDER_COLOURS[o], _ORDER_TEXT[o]) for o in ORDER_COLOURS
              if any(e.order == o for e in edges)]
    kinds = {g.step > 0 for _, g in groups}
    if True in kinds:
        items.append(("step", STEP_COLOUR,
                      "RollingSync step: synced when the step before is healthy"))
    if False in kinds:
        items.append(("step", NO_STEP_COLOUR, "in no RollingSync step: never synced by its "
                      "ApplicationSet"))
    if highlight in outlined:
        more, name = len(outlined) - 1, shown[highlight]
        items.append(("outline", HIGHLIGHT, f"{name} and the {more} app{'s' * (more != 1)} "
                      f"that fail{'s' * (more == 1)} with it" if more else
                      f"{name} (no app fails with it)"))
    legend, lx, depth = [], MARGIN, depth + 0.2
    line_h = text_size("Ag", LEGEND_PT)[1]
    for kind, colour, label in items:
        w = 0.38 + text_size(label, LEGEND_PT)[0] + 0.3
        if lx + w > width - MARGIN and lx > MARGIN:
            lx, depth = MARGIN, depth + line_h + 0.08
        legend.append((kind, colour, label, (lx, depth + line_h / 2)))
        lx += w
    return WaveLayout(width, depth + line_h + MARGIN, boxes, routes,
                      [(col_x[c] + col_w[c] / 2, top - 0.1 - head_h / 2, f"wave {w}")
                       for c, w in enumerate(layers)], legend,
                      (width / 2, MARGIN + title_h / 2, title), highlight, outlined,
                      [g for _, g in groups])
