"""The incident write-up's model: every fact and every count the text states, computed once.

Built from the findings (each carries its chain, location, origin and confidence), the wave
graph, the coverage, the fix and its proof, and, where the findings cannot say it, the
dataset's own files (how two renders of a shared resource differ; which generator made a
resource). The template (:mod:`writeup_sections`, :mod:`writeup_steps`) only formats it.

Counting conventions, stated once: a *shared resource* is a resource key (group, kind,
namespace, name) that two or more apps deploy, counted once however many apps deploy it;
a *blocked app* is counted once, by the first thing it misses (a CRD, else a namespace, else a
webhook's Service).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from gitops_analysis.analysis.coverage import coverage
from gitops_analysis.analysis.graph import blast_radius
from gitops_analysis.analysis.origins import resource_origins
from gitops_analysis.analysis.overlap import KEY, overlap_pairs, shared_keys
from gitops_analysis.core.findings import chain_text, need_text
from gitops_analysis.views.writeup_docs import FieldDiff, differences, document_at, generator_of
from gitops_analysis.views.writeup_fix import FixFacts, Setup, fix_facts, setup

SHARED = ("shared-resource", "shared-crd")
BLOCKED = "blocked-by-dependency"


def kind_label(group: str, kind: str) -> str:
    return f"{group}/{kind}" if group else kind


def choose_root(findings: pd.DataFrame, graph) -> str | None:
    """The app with the worst findings: own errors, then shared keys, then blast radius."""
    scores = []
    for app in sorted(graph.nodes):
        f = findings[findings["app"] == app]
        errors = int(((f["severity"] == "error") & (f["chain"].map(len) == 0)).sum())
        shared = int(f["slug"].isin(SHARED).sum())
        if errors == 0 and shared == 0:
            continue
        scores.append(((errors, shared, len(blast_radius(graph, app))), app))
    if not scores:
        return None
    best = max(s for s, _ in scores)
    return sorted(a for s, a in scores if s == best)[0]


def has_incident(findings: pd.DataFrame) -> bool:
    return bool((findings["severity"] == "error").any() or findings["slug"].isin(SHARED).any())


@dataclass(frozen=True)
class Res:
    """A resource a finding is about, and where it comes from."""

    kind: str
    name: str
    namespace: str
    file: str
    line: int
    origin: str  # the repository file that produced it ('' when unknown)
    generator: str = ""  # 'ConfigMapGenerator' when a kustomize generator made it
    generated_in: str = ""  # the kustomization that holds that generator


@dataclass(frozen=True)
class Problem:
    """Errors of the root app of one kind: Argo CD's condition and its messages."""

    condition: str
    slug: str
    summary: str  # the rule's one-line summary
    remediation: str
    messages: tuple[str, ...]
    resources: tuple[Res, ...]
    count: int
    caused_by: str = ""  # '' for a cause of its own; else the app the chain ends at


@dataclass(frozen=True)
class BlockedApp:
    app: str
    wave: int
    crds: tuple[str, ...]  # group/Kind
    namespaces: tuple[str, ...]
    services: tuple[str, ...]  # namespace/name of webhook Services
    messages: tuple[str, ...]  # what Argo CD shows, the missing CRDs first

    @property
    def cause(self) -> str:
        return "crd" if self.crds else "namespace" if self.namespaces else "service"


@dataclass(frozen=True)
class Partner:
    app: str
    wave: int
    keys: int
    crds: int
    differing: int
    folders: tuple[str, ...]  # the partner's source paths that the root's copies come from


@dataclass(frozen=True)
class Difference:
    group: str
    kind: str
    namespace: str
    name: str
    apps: tuple[str, str]
    fields: tuple[FieldDiff, ...]
    origins: tuple[str, str]  # the repository file each app renders it from ('' unknown)
    pinned_by: str = ""  # the root's kustomization whose images: pin makes the image differ


@dataclass(frozen=True)
class Shared:
    keys: int  # resources the root deploys that another app deploys too (counted once)
    crds: int  # of them CRDs (Argo CD does not warn about those)
    partners: tuple[Partner, ...]
    by_kind: tuple[tuple[str, int], ...]
    differences: tuple[Difference, ...]
    examples: tuple[str, ...]  # SharedResourceWarning messages of the root

    @property
    def warned(self) -> int:
        return self.keys - self.crds


@dataclass(frozen=True)
class Need:
    app: str
    wave: int
    crds: tuple[str, ...]
    namespaces: tuple[str, ...]
    status: str


@dataclass(frozen=True)
class AppRow:
    wave: int
    app: str
    destination_namespace: str
    resources: int | None  # None: not analysed, nothing of it was read
    status: str  # failing, blocked, ok, not analysed, partly analysed
    reason: str  # why it was not (fully) analysed
    detail: str = ""


@dataclass(frozen=True)
class Possible:
    """An unproven finding: what might fail, and which unanalysed apps might prevent it."""

    app: str
    condition: str
    message: str
    could_come_from: tuple[str, ...]


@dataclass
class Model:
    name: str
    label: str
    date: str  # YYYY-MM-DD, or ''
    date_source: str
    apps: int
    resources: int
    analysed: int
    gaps: tuple[AppRow, ...]
    root: str
    root_row: dict[str, Any]
    root_state: str
    root_reason: str
    problems: tuple[Problem, ...]
    blocked: tuple[BlockedApp, ...]
    chains: tuple[str, ...]
    radius: tuple[str, ...]
    shared: Shared | None
    needs: tuple[Need, ...]
    waves: tuple[AppRow, ...]
    edges: dict[str, int]
    health_missing: bool
    labels: tuple[int, tuple[str, ...]]
    possible: tuple[Possible, ...]
    fix: FixFacts
    setup: Setup
    graph: Any = field(repr=False, default=None)

    @property
    def failing(self) -> bool:
        return any(not p.caused_by for p in self.problems)

    @property
    def causes(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if not p.caused_by)

    def wave(self, app: str) -> int:
        return int(self.graph.nodes[app]["wave"])


def _date(ds, given: str | None) -> tuple[str, str]:
    if given:
        return given, "given"
    live = getattr(ds, "live", None)
    if live is None:
        return "", ""
    statuses = [obj.get("status") for obj in live.applications.values() if isinstance(obj, dict)]
    reconciled = [st.get("reconciledAt") for st in statuses if isinstance(st, dict)]
    times = [t for t in list(live.conditions["last_transition_time"]) +
             list(live.operations["finished"]) + list(live.operations["started"]) +
             reconciled if isinstance(t, str) and t]
    if not times:
        return "", f"the Argo CD export `{live.path}` holds no time"
    latest = max(times)
    return latest[:10], f"the latest time in the Argo CD export `{live.path}`: {latest}"


def _app_rows(ds, graph, cov, findings: pd.DataFrame) -> list[AppRow]:
    state = cov.frame.set_index("app")
    # blocked for certain: an error whose chain ends at a failing app; the graph also counts
    # apps whose only blocking findings are unproven (what they miss may come from elsewhere)
    sure = set(findings.loc[(findings["severity"] == "error") &
                            (findings["chain"].map(len) > 0), "app"])
    rows = []
    for name, d in sorted(graph.nodes(data=True), key=lambda kv: (kv[1]["wave"], kv[0])):
        a = ds.app(name)
        st, reason = str(state.at[name, "state"]), str(state.at[name, "reason"])
        detail = str(state.at[name, "detail"])
        status = str(d["status"])
        if st == "not-analysed":
            status, resources = "not analysed", None
        else:
            resources = int(a["resources"])
            if st == "partial" and status == "ok":
                status = "partly analysed"
            if status == "blocked" and name not in sure:
                status = "possibly blocked"
        rows.append(AppRow(int(d["wave"]), name, str(a["destination_namespace"]), resources,
                           status, reason, detail))
    return rows


def _resources(ds, f: pd.DataFrame, limit: int = 5) -> tuple[Res, ...]:
    out = []
    for r in f.drop_duplicates(["kind", "namespace", "name"]).head(limit).itertuples(index=False):
        gen, gen_in = "", ""
        if not r.origin:
            res = ds.resources
            hit = res[(res["app"] == r.app) & (res["file"] == r.file) & (res["line"] == r.line)]
            if not hit.empty:
                h = hit.iloc[0]
                src = h["source"] or (ds.app(r.app)["source_paths"] or ("",))[0]
                found = generator_of(document_at(ds.root, r.file, int(r.line), int(h["item"])),
                                     src)
                if found:
                    gen_in, gen = found
        out.append(Res(str(r.kind), str(r.name), str(r.namespace), str(r.file), int(r.line),
                       str(r.origin), gen, gen_in))
    return tuple(out)


def _problems(ds, findings: pd.DataFrame, root: str) -> tuple[Problem, ...]:
    from gitops_analysis.rules import all_rules

    rules = {r.slug: r for r in all_rules()}
    mine = findings[(findings["app"] == root) & (findings["severity"] == "error")]
    mine = mine.assign(caused_by=mine["chain"].map(lambda c: c[-1].app if c else ""))
    out = []
    for (caused_by, slug), f in mine.groupby(["caused_by", "slug"], sort=True):
        rule = rules.get(str(slug))
        out.append(Problem(
            condition=str(f["argocd_condition"].iloc[0]), slug=str(slug),
            summary=rule.summary if rule else "",
            remediation=" ".join(rule.remediation.split()) if rule else "",
            messages=tuple(dict.fromkeys(f["message"])), resources=_resources(ds, f),
            count=len(f), caused_by=str(caused_by)))
    return tuple(sorted(out, key=lambda p: (bool(p.caused_by), p.condition, p.slug)))


def _blocked(findings: pd.DataFrame, root: str, waves: dict[str, int]) -> tuple[BlockedApp, ...]:
    f = findings[(findings["severity"] == "error") & (findings["app"] != root) &
                 findings["chain"].map(lambda c: bool(c) and c[-1].app == root)]
    out = []
    for app, g in f.groupby("app", sort=True):
        steps = [(c[0].kind, c[0].name, m) for c, m in zip(g["chain"], g["message"])]
        crds = tuple(sorted({n for k, n, _ in steps if k == "CustomResourceDefinition"}))
        nss = tuple(sorted({n for k, n, _ in steps if k == "Namespace"}))
        svcs = tuple(sorted({n for k, n, _ in steps if k not in ("CustomResourceDefinition",
                                                                 "Namespace")}))
        rank = {"CustomResourceDefinition": 0, "Namespace": 1}
        msgs = [m for _, _, m in sorted(steps, key=lambda s: (rank.get(s[0], 2), s[1]))]
        out.append(BlockedApp(str(app), waves[str(app)], crds, nss, svcs,
                              tuple(dict.fromkeys(msgs))))
    return tuple(sorted(out, key=lambda b: (b.wave, b.app)))


def _chains(findings: pd.DataFrame, root: str) -> tuple[str, ...]:
    f = findings[(findings["slug"] == BLOCKED) & (findings["confidence"] == "certain") &
                 findings["chain"].map(lambda c: bool(c) and c[-1].app == root)]
    lines = []
    for app, g in f.groupby("app", sort=True):
        # one line per app and way back to the root, its first needs gathered in braces
        tails = g["chain"].map(lambda c: chain_text(c[1:]))
        for tail, h in g.groupby(tails, sort=True):
            needs = sorted(h["chain"].map(lambda c: need_text(c[0].kind, c[0].name)))
            what = needs[0] if len(needs) == 1 else "{" + ", ".join(needs) + "}"
            lines.append(f"{app} <- {what} <- {tail}")
    return tuple(lines)


def _shared(ds, findings: pd.DataFrame, root: str, waves: dict[str, int],
            keys: pd.DataFrame) -> Shared | None:
    mine = keys[keys["app"] == root]
    if mine.empty:
        return None
    pairs = overlap_pairs(ds, keys)
    origins = resource_origins(ds)
    origins = origins[origins["app"] == root].assign(kind=lambda f: f["kind"].astype(str))
    partners = []
    for row in pairs.itertuples(index=False):
        if root not in (row.app_a, row.app_b):
            continue
        other = row.app_b if row.app_a == root else row.app_a
        with_other = mine[mine["apps"].map(lambda t, o=other: o in t)]
        files = set(origins.merge(with_other[KEY], on=KEY)["origin_file"]) - {""}
        folders = tuple(p for p in ds.app(other)["source_paths"]
                        if any(f.startswith(p.rstrip("/") + "/") for f in files))
        partners.append(Partner(other, waves[other], int(row.shared), int(row.crds),
                                int(row.differing), folders))
    partners.sort(key=lambda p: (-p.keys, p.app))
    labels = [kind_label(g, k) for g, k in zip(mine["group"], mine["kind"])]
    by_kind = pd.Series(labels, dtype=object).value_counts(sort=False)
    by_kind = sorted(by_kind.items(), key=lambda kv: (-kv[1], kv[0]))
    diffs = []
    res = resource_origins(ds).assign(kind=lambda f: f["kind"].astype(str))
    for d in mine[~mine["identical"]].itertuples(index=False):
        rows = res[(res["cluster"] == d.cluster) & (res["group"] == d.group) &
                   (res["kind"] == d.kind) & (res["namespace"] == d.namespace) &
                   (res["name"] == d.name)].drop_duplicates("app").set_index("app")
        for other in (a for a in d.apps if a != root):
            docs = [document_at(ds.root, rows.at[a, "file"], int(rows.at[a, "line"]),
                                int(rows.at[a, "item"])) for a in (root, other)]
            fields = tuple(differences(*docs)) if all(x is not None for x in docs) else ()
            diffs.append(Difference(d.group, d.kind, d.namespace, d.name, (root, other),
                                    fields, (str(rows.at[root, "origin_file"]),
                                             str(rows.at[other, "origin_file"]))))
    examples = findings.loc[(findings["app"] == root) & (findings["slug"] == "shared-resource"),
                            "message"]
    return Shared(len(mine), int(mine["is_crd"].sum()), tuple(partners),
                  tuple((str(k), int(v)) for k, v in by_kind), tuple(diffs),
                  tuple(examples.head(3)))


def _pins(shared: Shared, kustomization: dict) -> Shared:
    """Mark the differences that an ``images:`` pin of the root's kustomization explains: the
    image the root renders is one whose pin the narrowed kustomization drops."""
    from gitops_analysis.fix.kustomize import image_name

    pinned = set(kustomization.get("dropped_images") or ())
    src = str(kustomization.get("source_file") or "")
    diffs = []
    for d in shared.differences:
        hit = any(x.path.endswith(".image") and image_name(x.left) in pinned for x in d.fields)
        diffs.append(replace(d, pinned_by=src) if hit and src else d)
    return replace(shared, differences=tuple(diffs))


def _needs(graph, root: str) -> tuple[Need, ...]:
    n = graph.graph["needs"]
    dep = n[n["providers"].map(lambda p: root in p) & ~n["self_provided"] & ~n["preexisting"]]
    out = []
    for app, f in dep.groupby("app", sort=True):
        crd = f[f["need"] == "crd"]
        out.append(Need(str(app), int(graph.nodes[app]["wave"]),
                        tuple(sorted(kind_label(g, k) for g, k in zip(crd["group"], crd["kind"]))),
                        tuple(sorted(f.loc[f["need"] == "namespace", "namespace"])),
                        str(graph.nodes[app]["status"])))
    return tuple(sorted(out, key=lambda x: (x.wave, x.app)))


def _labels(ds, findings: pd.DataFrame, root: str) -> tuple[int, tuple[str, ...]]:
    labels = findings[(findings["app"] == root) & (findings["slug"] == "instance-label-collision")]
    if labels.empty:
        return 0, ()
    key = ["app", "group", "kind", "namespace", "name"]
    res = ds.resources.assign(kind=ds.resources["kind"].astype(str))
    values = sorted(set(res.merge(labels[key].astype(str), on=key)["instance_label"]) - {""})
    return len(labels), tuple(values)


def build_model(ds, findings: pd.DataFrame, graph, root: str, *, label: str,
                fix: tuple[Any, Any] | None = None, repo: str | None = None,
                date: str | None = None) -> Model:
    """Everything the write-up about ``root`` says."""
    cov = coverage(ds)
    waves = {str(n): int(d["wave"]) for n, d in graph.nodes(data=True)}
    rows = _app_rows(ds, graph, cov, findings)
    state = cov.frame.set_index("app")
    orders = pd.Series([d["order"] for _, _, d in graph.edges(data=True)], dtype=object)
    unproven = findings[findings["confidence"] == "unproven"]
    possible = tuple(Possible(str(r.app), str(r.argocd_condition), str(r.message),
                              tuple(r.could_come_from))
                     for r in unproven.itertuples(index=False))
    if fix is None:
        from gitops_analysis.fix.proof import make_fix

        fix = make_fix(ds, findings=findings, repo=repo)
    blocked = _blocked(findings, root, waves)
    radius = tuple(blast_radius(graph, root))
    keys = shared_keys(ds)
    shared = _shared(ds, findings, root, waves, keys)
    needs = _needs(graph, root)
    facts = fix_facts(ds, root, fix, needs, len(keys.drop_duplicates(KEY)))
    if shared is not None and facts.kustomization is not None:
        shared = _pins(shared, facts.kustomization)
    day, source = _date(ds, date)
    problems = _problems(ds, findings, root)
    return Model(
        name=ds.name, label=label, date=day, date_source=source, apps=len(ds.apps),
        resources=int(ds.accounting.resources),
        analysed=int((cov.frame["state"] == "analysed").sum()),
        gaps=tuple(r for r in rows if state.at[r.app, "state"] != "analysed"),
        root=root, root_row=ds.app(root).to_dict(), root_state=str(state.at[root, "state"]),
        root_reason=str(state.at[root, "reason"]),
        problems=problems, blocked=blocked, chains=_chains(findings, root),
        radius=radius, shared=shared, needs=needs, waves=tuple(rows),
        edges={k: int((orders == k).sum()) for k in ("ok", "race", "late")},
        health_missing=bool((findings["slug"] == "app-health-missing").any()),
        labels=_labels(ds, findings, root), possible=possible, fix=facts,
        setup=setup(ds, root, fix, label=label, repo=repo, facts=facts,
                    blocked=blocked, radius=radius, failing=any(not p.caused_by
                                                                for p in problems),
                    waves=waves),
        graph=graph)
