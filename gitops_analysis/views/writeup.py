"""The incident write-up: Markdown generated from the findings, the graph and the frames.

Sections follow what an engineer writes by hand for such an incident: executive summary, root
cause, problem analysis, cascade, solution, validation, monitoring, files to change. Every
number and example comes from the data; nothing is recomputed that a finding already says.
"""

from __future__ import annotations

import pandas as pd

from gitops_analysis.analysis.dependencies import need_label
from gitops_analysis.analysis.graph import blast_radius
from gitops_analysis.analysis.overlap import overlap_pairs, shared_keys
from gitops_analysis.core.findings import chain_text, need_text

_SHARED = ("shared-resource", "shared-crd")


def choose_root(findings: pd.DataFrame, graph) -> str | None:
    """The app with the worst findings: own errors, then shared keys, then blast radius."""
    scores = []
    for app in sorted(graph.nodes):
        f = findings[findings["app"] == app]
        errors = int(((f["severity"] == "error") & (f["slug"] != "blocked-by-dependency")).sum())
        shared = int(f["slug"].isin(_SHARED).sum())
        if errors == 0 and shared == 0:
            continue
        scores.append(((errors, shared, len(blast_radius(graph, app))), app))
    if not scores:
        return None
    best = max(s for s, _ in scores)
    return sorted(a for s, a in scores if s == best)[0]


def has_incident(findings: pd.DataFrame) -> bool:
    return bool((findings["severity"] == "error").any() or findings["slug"].isin(_SHARED).any())


def _code(text: str, lang: str = "") -> list[str]:
    return [f"```{lang}", text, "```"]


def _table(header: list[str], rows: list[list]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out


def _kind_label(group: str, kind: str) -> str:
    return f"{group}/{kind}" if group else kind


def incident_markdown(ds, findings: pd.DataFrame, graph, *, app: str | None = None,
                      dataset_label: str = "DATASET", wave_graph_png: str | None = None,
                      fix_section: str | None = None) -> str:
    """The whole write-up as Markdown. ``dataset_label`` is how commands name the dataset."""
    if not has_incident(findings) and app is None:
        return _no_incident(ds, findings, dataset_label)
    root = app or choose_root(findings, graph)
    if root is None:
        return _no_incident(ds, findings, dataset_label)
    ctx = _Context(ds, findings, graph, root, dataset_label, fix_section)
    lines = [f"# Incident analysis: {root} and the apps that depend on it", ""]
    for section in (ctx.summary, ctx.root_cause, ctx.problems):
        lines += section() + [""]
    lines += ctx.cascade(wave_graph_png) + [""]
    for section in (ctx.solution, ctx.validation, ctx.monitoring, ctx.files):
        lines += section() + [""]
    if getattr(ds, "live", None) is not None:  # an Argo CD export beside the dataset
        from gitops_analysis.live.reconcile import reconcile
        from gitops_analysis.views.reconcile import reconcile_markdown

        lines += [reconcile_markdown(reconcile(ds, findings, ds.live)).rstrip(), ""]
    return "\n".join(lines).rstrip() + "\n"


def _no_incident(ds, findings, label) -> str:
    warnings = findings[findings["severity"] == "warning"]
    lines = [f"# No incident in {ds.name}", "",
             f"No error finding and no shared resource in {label} "
             f"({len(ds.apps)} apps, {ds.accounting.resources} resources)."]
    if not warnings.empty:
        lines += ["", "Warnings:", ""]
        for (slug, _), f in warnings.groupby(["slug", "rule"], sort=True):
            lines.append(f"- `{slug}` ({len(f)}): {f['message'].iloc[0]}")
    return "\n".join(lines) + "\n"


class _Context:
    def __init__(self, ds, findings, graph, root, label, fix_section: str | None = None):
        self.ds, self.f, self.g, self.root, self.label = ds, findings, graph, root, label
        self.fix_section = fix_section
        self.apps = ds.apps.set_index("app")
        self.root_row = self.apps.loc[root]
        self.mine = findings[findings["app"] == root]
        self.root_errors = self.mine[(self.mine["severity"] == "error") &
                                     (self.mine["slug"] != "blocked-by-dependency")]
        blocked = findings[findings["slug"] == "blocked-by-dependency"]
        self.blocked = blocked[blocked["chain"].map(lambda c: c[-1].app == root)] \
            if not self.root_errors.empty else blocked[:0]
        self.radius = blast_radius(graph, root)
        self.keys = shared_keys(ds)
        self.root_keys = self.keys[self.keys["app"] == root]
        self.pairs = overlap_pairs(ds, self.keys)
        self.needs = graph.graph["needs"]
        dependents = self.needs[self.needs["providers"].map(lambda p: root in p) &
                                ~self.needs["self_provided"] & ~self.needs["preexisting"]]
        self.dependents = dependents

    # -- sections -------------------------------------------------------------------------

    def summary(self) -> list[str]:
        r = self.root_row
        lines = ["## Executive summary", ""]
        if not self.blocked.empty:
            # the app that shows the most telling error: a missing CRD, in the latest wave
            b = self.blocked.assign(wave=self.blocked["app"].map(self.apps["wave"]),
                                    is_ns=self.blocked["kind"] == "Namespace")
            b = b.sort_values(["is_ns", "wave", "app"], ascending=[True, False, True],
                              kind="stable")
            shown = b[b["app"] == b["app"].iloc[0]]
            shown = shown[shown["is_ns"] == shown["is_ns"].iloc[0]]
            apps = sorted(set(self.blocked["app"]))
            lines += [f"`{shown['app'].iloc[0]}` (wave {int(shown['wave'].iloc[0])}) fails "
                      "to sync with:", ""] + _code("\n".join(shown["message"])) + [""]
            lines.append(f"{len(apps)} app(s) fail this way: " + ", ".join(f"`{a}`" for a in apps)
                         + ".")
            lines.append("")
        if not self.root_errors.empty:
            e = self.root_errors.iloc[0]
            lines += [f"**Root cause:** `{self.root}` (wave {int(r['wave'])}) never syncs: Argo CD "
                      f"sets `{e['argocd_condition']}` on it:", ""] + _code(e["message"]) + [""]
            lines.append(f"Everything `{self.root}` would have installed — the CRDs and "
                         "namespaces the apps above need — never arrives.")
        n_keys = len(self.root_keys)
        partners = self._partners()
        if self.root_errors.empty:
            warning = self.mine[self.mine["slug"] == "shared-resource"]
            lines.append(f"No app fails to sync yet, but Argo CD shows `SharedResourceWarning` "
                         f"on `{self.root}` for {len(warning)} resources, for example:")
            lines += [""] + _code("\n".join(warning["message"].head(2))) + [""]
            lines.append(f"**Root cause:** `{self.root}` (wave {int(r['wave'])}) deploys "
                         f"{n_keys} resources that {len(partners)} other apps deploy too, because "
                         "its source aggregates components that have apps of their own. The apps "
                         f"overwrite each other, and any failure of `{self.root}` takes "
                         f"{len(self.radius)} apps down with it.")
        elif n_keys:
            lines += ["", f"`{self.root}` also shares {n_keys} resources with {len(partners)} "
                      "other apps (SharedResourceWarning), because its source aggregates "
                      "components that have apps of their own."]
        return lines

    def _partners(self) -> list[str]:
        p = self.pairs
        return sorted(set(p.loc[p["app_a"] == self.root, "app_b"]) |
                      set(p.loc[p["app_b"] == self.root, "app_a"]))

    def root_cause(self) -> list[str]:
        r = self.root_row
        lines = ["## Root cause", ""]
        chains = []
        for app, f in self.blocked.groupby("app", sort=True):
            # one line per app and way back to the root, its first needs gathered in braces
            tails = f["chain"].map(lambda c: chain_text(c[1:]))
            for tail, g in f.groupby(tails, sort=True):
                needs = sorted(g["chain"].map(lambda c: need_text(c[0].kind, c[0].name)))
                what = needs[0] if len(needs) == 1 else "{" + ", ".join(needs) + "}"
                chains.append(f"{app} <- {what} <- {tail}")
        if chains:
            lines += ["The chain, from the failing app back to its cause:", ""]
            lines += _code("\n".join(chains))
            lines.append("")
        src = ", ".join(f"`{p}`" for p in r["source_paths"]) or "(no source)"
        dest = f"`{r['destination_namespace']}`" if r["destination_namespace"] else "(empty)"
        lines.append(f"`{self.root}` (wave {int(r['wave'])}, destination namespace {dest}) "
                     f"renders {int(r['resources'])} resources from {src}.")
        causes = []
        for slug, f in self.root_errors.groupby("slug", sort=True):
            causes.append(f"- {len(f)} × `{f['argocd_condition'].iloc[0]}` ({slug}): the app "
                          "cannot sync at all.")
        if len(self.root_keys):
            causes.append(f"- its source also holds the components of {len(self._partners())} "
                          "other apps, so the same resources are deployed twice.")
        lines += [""] + causes if causes else []
        return lines

    def problems(self) -> list[str]:
        lines = ["## Problem analysis", "", "### Sync waves", ""]
        rows = []
        for name, d in sorted(self.g.nodes(data=True), key=lambda kv: (kv[1]["wave"], kv[0])):
            a = self.apps.loc[name]
            rows.append([d["wave"], f"`{name}`", a["destination_namespace"] or "(empty)",
                         int(a["resources"]), d["status"]])
        lines += _table(["wave", "app", "destination namespace", "resources", "status"], rows)
        orders = pd.Series([d["order"] for _, _, d in self.g.edges(data=True)], dtype=object)
        lines += ["", f"{self.g.number_of_edges()} dependencies between apps: "
                  f"{int((orders == 'ok').sum())} ordered correctly by their waves, "
                  f"{int((orders == 'race').sum())} in the same wave (race), "
                  f"{int((orders == 'late').sum())} provided by a later wave."]
        health = self.f[self.f["slug"] == "app-health-missing"]
        if not health.empty:
            lines += ["", "Note: " + health["message"].iloc[0] + "."]
        lines += ["", f"### Problems of `{self.root}`", ""]
        n = 0
        for slug, f in self.root_errors.groupby("slug", sort=True):
            n += 1
            lines += [f"#### {n}. `{f['argocd_condition'].iloc[0]}` ({slug}, {len(f)})", ""]
            lines += _code("\n".join(f["message"].head(5)))
            where = ", ".join(f"`{x}:{y}`" for x, y in zip(f["file"].head(3), f["line"].head(3)))
            lines += ["", f"At {where}: {f['detail'].iloc[0]}."]
            lines.append("")
        if len(self.root_keys):
            n += 1
            res = self.mine[self.mine["slug"] == "shared-resource"]
            crds = self.mine[self.mine["slug"] == "shared-crd"]
            lines += [f"#### {n}. `SharedResourceWarning` ({len(res)} resources, plus "
                      f"{len(crds)} CRDs that Argo CD does not warn about)", ""]
            if not res.empty:
                lines += _code("\n".join(res["message"].head(3)))
                lines.append("")
            pair_rows = []
            for row in self.pairs.itertuples(index=False):
                if self.root not in (row.app_a, row.app_b):
                    continue
                other = row.app_b if row.app_a == self.root else row.app_a
                pair_rows.append([f"`{other}`", int(self.apps.at[other, "wave"]), row.shared,
                                  row.crds, row.differing])
            pair_rows.sort(key=lambda r: (-r[2], r[0]))
            lines += _table(["shared with", "wave", "shared keys", "of them CRDs",
                             "renders differ"], pair_rows)
            kinds = (self.root_keys.assign(k=[_kind_label(g, k) for g, k in
                                              zip(self.root_keys["group"], self.root_keys["kind"])])
                     .groupby("k").size().sort_values(ascending=False, kind="stable"))
            lines += ["", "By kind: " + ", ".join(f"{k} {v}" for k, v in kinds.head(8).items())
                      + (f", and {len(kinds) - 8} more kinds" if len(kinds) > 8 else "") + "."]
            differ = self.root_keys[~self.root_keys["identical"]]
            if not differ.empty:
                lines += ["", "Renders that differ (the apps overwrite each other on every sync):",
                          ""]
                for d in differ.itertuples(index=False):
                    lines.append(f"- {_kind_label(d.group, d.kind)} `{d.name}`"
                                 f"{' in ' + d.namespace if d.namespace else ''}: "
                                 + ", ".join(f"`{a}`" for a in d.apps))
            lines.append("")
        labels = self.mine[self.mine["slug"] == "instance-label-collision"]
        if not labels.empty:
            n += 1
            key = ["app", "group", "kind", "namespace", "name"]
            res = self.ds.resources.assign(kind=self.ds.resources["kind"].astype(str))
            values = sorted(set(res.merge(labels[key].astype(str), on=key)["instance_label"]))
            shown = ", ".join(values[:8]) + (", ..." if len(values) > 8 else "")
            lines += [f"#### {n}. Tracking labels ({len(labels)} resources)", "",
                      f"{len(labels)} resources already carry `app.kubernetes.io/instance` "
                      f"({shown}); with label tracking Argo CD takes them for other "
                      "apps. Use annotation tracking.", ""]
        lines += [f"### What the other apps need from `{self.root}`", ""]
        rows = []
        for app, f in self.dependents.groupby("app", sort=True):
            crds = sorted(_kind_label(g, k) for g, k in zip(f.loc[f["need"] == "crd", "group"],
                                                             f.loc[f["need"] == "crd", "kind"]))
            nss = sorted(f.loc[f["need"] == "namespace", "namespace"])
            rows.append([f"`{app}`", int(self.apps.at[app, "wave"]), ", ".join(crds) or "-",
                         ", ".join(nss) or "-", self.g.nodes[app]["status"]])
        rows.sort(key=lambda r: (r[1], r[0]))
        lines += _table(["app", "wave", "CRDs (kinds)", "namespaces", "status"], rows) if rows \
            else ["No other app needs a CRD or namespace from it."]
        return lines

    def cascade(self, png: str | None) -> list[str]:
        lines = ["## Cascade", ""]
        edges = sorted((u, v) for u, v in self.g.edges if u == self.root or v in self.radius)
        mermaid = ["flowchart LR"]
        ids = {n: f"n{i}" for i, n in enumerate(sorted(self.g.nodes))}
        for n in sorted({self.root, *self.radius}):
            d = self.g.nodes[n]
            mermaid.append(f'  {ids[n]}["{n}<br/>wave {d["wave"]}: {d["status"]}"]')
        for u, v in edges:
            if u in {self.root, *self.radius} and v in {self.root, *self.radius}:
                reasons = self.g.edges[u, v]["reasons"]
                label = ", ".join(need_label(r) for r in reasons[:3]) + \
                    (f" +{len(reasons) - 3}" if len(reasons) > 3 else "")
                mermaid.append(f'  {ids[u]} -->|"{label}"| {ids[v]}')
        for n, cls in (("failing", "fill:#d55e00,color:#fff"), ("blocked", "fill:#e69f00")):
            members = [ids[x] for x in sorted({self.root, *self.radius})
                       if self.g.nodes[x]["status"] == n]
            if members:
                mermaid.append(f"  style {','.join(members)} {cls}" if len(members) == 1 else
                               "\n".join(f"  style {m} {cls}" for m in members))
        lines += _code("\n".join(mermaid), "mermaid")
        if png:
            lines += ["", f"![Wave graph]({png})"]
        lines += ["", f"If `{self.root}` fails, {len(self.radius)} app(s) fail with it: "
                  + (", ".join(f"`{a}`" for a in self.radius) or "none") + "."]
        return lines

    def solution(self) -> list[str]:
        r = self.root_row
        lines = ["## Solution", ""]
        step = 0
        if len(self.root_keys):
            step += 1
            total = int(r["resources"])
            shared_n = len(self.root_keys.drop_duplicates(["cluster", "group", "kind",
                                                           "namespace", "name"]))
            keep = total - shared_n
            lines += [f"### Step {step}: narrow `{self.root}` to what no other app deploys", "",
                      f"Each shared resource goes to the app that deploys only its own component; "
                      f"`{self.root}` keeps the {keep} of its {total} resources that no other app "
                      "deploys:", ""]
            counts = {other: int(self.root_keys["apps"].map(lambda t, o=other: o in t).sum())
                      for other in self._partners()}
            rows: list[list] = [[f"`{o}`", n] for o, n in
                                sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
            lines += _table(["owner after the fix", "resources it takes over"], rows)
            kept = self._kept()
            if not kept.empty:
                ns = kept[kept["namespace"] != ""].groupby("namespace").size()
                lines += ["", f"What `{self.root}` keeps, by namespace: " +
                          ", ".join(f"{k} {v}" for k, v in ns.items()) +
                          f"; cluster-scoped: {int((kept['namespace'] == '').sum())} "
                          f"(of them {int((kept['kind'] == 'CustomResourceDefinition').sum())} "
                          "CRDs)."]
                origins = sorted(set(kept["origin"]) - {""})
                if origins:
                    lines += ["", "Sources it keeps: " + ", ".join(f"`{o}`" for o in origins[:20])]
            target = f"argocd/{self.root_row['instance']}"
            lines += ["", f"Write a kustomization (for example `{target}/kustomization.yaml`) that "
                      "lists only the bases of what it keeps, and point the Application at it:",
                      ""] + _code(f"spec:\n  source:\n    path: {target}  # was: "
                                  f"{', '.join(r['source_paths'])}", "yaml")
            lines.append("")
        for slug, f in self.root_errors.groupby("slug", sort=True):
            step += 1
            if slug == "namespace-missing":
                names = ", ".join(f"`{n}`" for n in f["name"].head(5))
                lines += [f"### Step {step}: give every namespaced resource a namespace", "",
                          f"{names}: set `namespace:` in the kustomization that generates it "
                          f"(or `metadata.namespace`), or give `{self.root}` a "
                          "`spec.destination.namespace`.", ""]
            else:
                lines += [f"### Step {step}: fix `{slug}`", "", f["detail"].iloc[0] + ".", ""]
        if not self.dependents.empty:
            crd_kinds = sorted({_kind_label(g, k) for g, k in
                                zip(self.dependents.loc[self.dependents["need"] == "crd", "group"],
                                    self.dependents.loc[self.dependents["need"] == "crd", "kind"])})
            if crd_kinds:
                lines += [f"The narrowed `{self.root}` must still carry the CRDs other apps need: "
                          + ", ".join(crd_kinds) + "."]
        if self.fix_section:
            lines += ["", self.fix_section.rstrip()]
        return lines

    def _kept(self) -> pd.DataFrame:
        res = self.ds.resources
        mine = res[res["app"] == self.root]
        shared = self.root_keys.set_index(["cluster", "group", "kind", "namespace", "name"]).index
        idx = mine.set_index(["cluster", "group", "kind", "namespace", "name"]).index
        return mine[~idx.isin(shared)]

    def validation(self) -> list[str]:
        r = self.root_row
        path = f"argocd/{self.root_row['instance']}" if len(self.root_keys) else \
            (r["source_paths"][0] if r["source_paths"] else ".")
        groups = sorted(set(self.dependents.loc[self.dependents["need"] == "crd", "group"]))
        lines = ["## Validation", "", "Re-run the analysis on the fixed dataset; it must report "
                 "no error and no shared resource:", ""]
        lines += _code(f"gitops-analysis check {self.label} --fail-on error\n"
                       f"gitops-analysis check {self.label} --format json | "
                       "grep -c '\"slug\": \"shared-resource\"'   # expect 0", "sh")
        kept = len(self._kept()) if len(self.root_keys) else int(r["resources"])
        lines += ["", f"Build the new source and check that it still holds the CRDs and "
                  f"namespaces the other apps need ({kept} resources expected):", ""]
        cmds = [f"kustomize build {path} | grep -c '^kind:'   # expect {kept}"]
        if groups:
            cmds.append(f"kustomize build {path} | grep -E '^  name: .*\\.("
                        + "|".join(g.replace(".", "\\.") for g in groups) + ")$'")
        nss = sorted(set(self.dependents.loc[self.dependents["need"] == "namespace", "namespace"]))
        if nss:
            cmds.append(f"kustomize build {path} | grep -A3 '^kind: Namespace' | grep '  name:'")
        lines += _code("\n".join(cmds), "sh")
        return lines

    def monitoring(self) -> list[str]:
        crd_names = sorted(set(self.ds.crds.loc[
            self.ds.crds["app"] == self.root, ["group", "kind", "name"]]
            .merge(self.dependents.loc[self.dependents["need"] == "crd", ["group", "kind"]]
                   .drop_duplicates(), on=["group", "kind"])["name"]))
        lines = ["## Monitoring", "", "After the change is merged and synced:", ""]
        cmds = [f"argocd app get {self.root}"]
        if self.radius:
            cmds.append("for app in " + " ".join(self.radius) + "; do argocd app get \"$app\"; "
                        "done")
        cmds.append("argocd app list -o wide")
        if crd_names:
            cmds.append("kubectl get crd " + " ".join(crd_names[:12]))
        nss = sorted(set(self.dependents.loc[self.dependents["need"] == "namespace", "namespace"]))
        if nss:
            cmds.append("kubectl get namespace " + " ".join(nss))
        lines += _code("\n".join(cmds), "sh")
        return lines

    def files(self) -> list[str]:
        r = self.root_row
        lines = ["## Files to change", ""]
        lines.append(f"- `{r['file']}`: the Application of `{self.root}` (its source path).")
        if len(self.root_keys):
            folder = f"argocd/{self.root_row['instance']}"
            lines.append(f"- `{folder}/kustomization.yaml` (new, in the source repository): the "
                         "narrowed list of bases.")
        for f in self.root_errors.drop_duplicates("name").head(5).itertuples(index=False):
            where = f"{f.file}:{f.line}"
            lines.append(f"- the source of `{f.name}` (rendered at `{where}`): "
                         "its kustomization or manifest.")
        return lines
