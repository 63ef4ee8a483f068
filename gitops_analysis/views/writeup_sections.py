"""The write-up's text, part one: the header, what happened and why (summary, coverage, root
cause, problem analysis, cascade). Everything it states comes from the model; nothing here
counts or reads a finding."""

from __future__ import annotations

from gitops_analysis.analysis.dependencies import need_label
from gitops_analysis.views.writeup_model import Model, Problem, Res

# -- small helpers shared with writeup_steps ---------------------------------------------------

def n_of(n: int, one: str, many: str | None = None) -> str:
    """``1 app``, ``9 apps``, ``1,113 resources``."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def listing(items, quote: bool = True) -> str:
    """``a``, ``b`` and ``c``."""
    items = [f"`{i}`" if quote else str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def either(items, quote: bool = True) -> str:
    """``a``; one of ``a``, ``b`` and ``c``: what only one of them needs to do."""
    return listing(items, quote) if len(items) <= 1 else "one of " + listing(items, quote)


def left_errors(m: Model) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """The errors the fix leaves, (app, slug, message): the incident's own (resolved by hand),
    and those of other apps that are not part of this incident."""
    incident = {m.root} | {b.app for b in m.blocked}
    mine = [e for e in m.fix.errors_left if e[0] in incident]
    return mine, [e for e in m.fix.errors_left if e[0] not in incident]


def others(errors: list[tuple[str, str, str]]) -> str:
    """'another app' or 'other apps': whose errors these are."""
    return "another app" if len({a for a, _, _ in errors}) == 1 else "other apps"


def some(items: list, limit: int) -> str:
    """``a``, ``b`` and 9 more."""
    if len(items) <= limit:
        return listing(items)
    return ", ".join(f"`{i}`" for i in items[:limit]) + f" and {len(items) - limit} more"


def inline(text: str) -> str:
    """``text`` as inline code (a message is quoted, never rendered: its URLs stay text)."""
    ticks = "`"
    while ticks in text:
        ticks += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def code(text: str, lang: str = "") -> list[str]:
    return [f"```{lang}", text.rstrip("\n"), "```"]


def table(header: list[str], rows: list[list]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out


def short_kind(label: str) -> str:
    """``networking.istio.io/VirtualService`` -> ``VirtualService``."""
    return label.rpartition("/")[2]


def groups_of(labels) -> list[str]:
    return sorted({lab.rpartition("/")[0] for lab in labels if "/" in lab})


def resource_text(r: Res) -> str:
    where = f"{r.namespace}/{r.name}" if r.namespace else r.name
    return f"{r.kind} `{where}`"


def made_where(r: Res) -> str:
    """Where a resource comes from, as a reader wants it: the repository file when known."""
    if r.generator and r.generated_in:
        return (f"made by the {r.generator} of `{r.generated_in}` (rendered at "
                f"`{r.file}:{r.line}`)")
    if r.origin:
        return f"from `{r.origin}` (rendered at `{r.file}:{r.line}`)"
    return f"rendered at `{r.file}:{r.line}`"


def dest(ns: str) -> str:
    return f"destination namespace `{ns}`" if ns else "no destination namespace"


# -- header ---------------------------------------------------------------------------------

def header(m: Model, observed: dict | None = None) -> list[str]:
    root, wave = m.root, int(m.root_row["wave"])
    lines = [f"# Incident analysis: {root}", ""]
    if m.date:
        date = m.date + (f" ({m.date_source})" if m.date_source != "given" else "")
    else:
        date = ("not dated: the dataset holds no Argo CD export to date it by (keep one in "
                "`live/` with `gitops-analysis import-live`)")
    causes = m.causes
    if causes and m.blocked:
        issue = (f"{n_of(len(m.blocked), 'app')} cannot sync because `{root}` (wave {wave}) "
                 f"fails with `{causes[0].condition or causes[0].summary}`")
    elif causes:
        issue = f"`{root}` (wave {wave}) cannot sync: `{causes[0].condition}`"
    elif m.shared is not None:
        issue = (f"`{root}` (wave {wave}) deploys {n_of(m.shared.keys, 'resource')} that "
                 f"{n_of(len(m.shared.partners), 'other app')} deploy too; no app fails to "
                 "sync yet")
    else:
        issue = f"`{root}` (wave {wave})"
    f = m.fix
    if f.ok and not f.errors_after:
        proof = "the fix below, applied to the analysis, clears every error and shared resource"
    elif f.ok:
        by_hand, elsewhere = left_errors(m)
        parts = ([f"{n_of(len(by_hand), 'error')} to resolve by hand"]
                 if by_hand else []) + \
            ([f"{n_of(len(elsewhere), 'error')} of {others(elsewhere)}, outside this incident"]
             if elsewhere else [])
        proof = ("the fix below clears what it can change; left: " + " and ".join(parts)
                 + " (see Validation)")
    else:
        proof = f"the fix below leaves {n_of(len(f.remaining), 'problem')} (see Validation)"
    status = f"open: predicted from the rendered manifests of `{m.label}`; {proof}"
    if observed:
        status += (f"; Argo CD's export reports {n_of(observed['observed'], 'problem')}, "
                   f"{observed['observed_explained']} of them predicted here")
    scope = f"{n_of(m.apps, 'app')}, " + ("all analysed" if not m.gaps else
                                          f"{m.analysed} fully analysed, "
                                          f"{len(m.gaps)} not (see below)")
    lines += [f"- **Date:** {date}", f"- **Issue:** {issue}", f"- **Status:** {status}",
              f"- **Scope:** {scope}; {n_of(m.resources, 'resource')} read"]
    return lines


# -- executive summary ----------------------------------------------------------------------

def _cause_sentence(m: Model, p: Problem) -> str:
    root = m.root
    if p.slug == "namespace-missing" and p.resources:
        r = p.resources[0]
        made = (f"the {r.generator} of `{r.generated_in}` makes {resource_text(r)} without a "
                "namespace") if r.generator and r.generated_in else \
            f"{resource_text(r)} has no `metadata.namespace`"
        return (f"`{root}` has no destination namespace and {made}, so Argo CD refuses the "
                "whole app: nothing of it is applied.")
    what = p.summary[:1].lower() + p.summary[1:] if p.summary else p.condition
    return f"`{root}` fails with `{p.condition}`: {what}."


def _need(apps: list) -> str:
    return "needs" if len(apps) == 1 else "need"


def _difference_text(d, limit: int = 3) -> str:
    name = f"{d.namespace}/{d.name}" if d.namespace else d.name
    left, right = d.apps
    parts = [f"`{x.path}` is `{x.left}` in `{left}` and `{x.right}` in `{right}`"
             for x in d.fields[:limit]]
    more = len(d.fields) - limit
    tail = f", and {n_of(more, 'other field')} differ" if more > 0 else ""
    return f"{d.kind} `{name}`: " + ("; ".join(parts) or "their content differs") + tail


def summary(m: Model) -> list[str]:
    root, wave = m.root, int(m.root_row["wave"])
    lines = ["## Executive summary", ""]
    sh = m.shared
    if m.blocked:
        crd_apps = [b for b in m.blocked if b.cause == "crd"]
        shown = max(crd_apps or m.blocked, key=lambda b: (b.wave, b.app))
        lines += [f"`{shown.app}` (wave {shown.wave}) fails to sync with:", ""]
        lines += code("\n".join(shown.messages[:3])) + [""]
        if shown.crds:
            need = f"the CRDs of {listing(groups_of(shown.crds))}"
        elif shown.namespaces:
            need = f"namespace {listing(shown.namespaces)}"
        else:
            need = f"Service {listing(shown.services)}"
        lines.append(f"It needs {need}, which only `{root}` (wave {wave}) supplies, and that "
                     "app never syncs.")
    if m.causes:
        c = m.causes[0]
        if m.blocked:
            lines.append("")
        lines += [f"Argo CD refuses `{root}` with `{c.condition}`:" if m.blocked else
                  f"`{root}` (wave {wave}) fails to sync with:", ""]
        lines += code("\n".join(c.messages[:3])) + [""]
    if m.blocked:
        by = {"crd": [b for b in m.blocked if b.cause == "crd"],
              "namespace": [b for b in m.blocked if b.cause == "namespace"],
              "service": [b for b in m.blocked if b.cause == "service"]}
        lines.append(f"{n_of(len(m.blocked), 'app')} {'falls' if len(m.blocked) == 1 else 'fall'}"
                     " with it:")
        lines.append("")
        if by["crd"]:
            lines.append(f"- {len(by['crd'])} {_need(by['crd'])} CRDs that only it installs: "
                         f"{listing(b.app for b in by['crd'])};")
        if by["namespace"]:
            per_ns: dict[str, list[str]] = {}
            for b in by["namespace"]:
                per_ns.setdefault(", ".join(b.namespaces), []).append(b.app)
            said = "; ".join(f"{listing(apps)} (namespace `{ns}`)"
                             for ns, apps in sorted(per_ns.items()))
            lines.append(f"- {len(by['namespace'])} {_need(by['namespace'])} a namespace that only "
                         "it creates: "
                         f"{said};")
        if by["service"]:
            lines.append(f"- {len(by['service'])} {_need(by['service'])} a webhook's Service that "
                         "only it "
                         f"deploys: {listing(b.app for b in by['service'])};")
        lines[-1] = lines[-1].rstrip(";") + "."
        lines.append("")
    elif sh is not None and not m.causes:
        lines += [f"No app fails to sync yet. `{root}` (wave {wave}) deploys "
                  f"{n_of(sh.keys, 'resource')} that {n_of(len(sh.partners), 'other app')} "
                  f"deploy too. Argo CD marks the {sh.warned} that are not CRDs with "
                  "`SharedResourceWarning`, for example:", ""]
        lines += code("\n".join(sh.examples[:2])) + [""]
    why = [_cause_sentence(m, c) for c in m.causes]
    if sh is not None:
        src = listing(m.root_row["source_paths"]) or "its source"
        whose = f"Its source {src} also holds" if why else f"`{root}`'s source {src} holds"
        why.append(f"{whose} the components of "
                   f"{n_of(len(sh.partners), 'other app')} "
                   f"({some([p.app for p in sh.partners], 4)}), so "
                   f"{n_of(sh.keys, 'resource')} {'is' if sh.keys == 1 else 'are'} deployed "
                   "by it and by another app, which overwrite each other on every sync.")
        if sh.differences:
            d = sh.differences[0]
            why.append(f"{n_of(len(sh.differences), 'of them differs', 'of them differ')} "
                       f"between the two renders: {_difference_text(d, 1)}.")
    if not m.causes and m.radius:
        verb = "fails" if len(m.radius) == 1 else "fail"
        why.append(f"Should it fail, {n_of(len(m.radius), 'app')} {verb} with it: each needs a "
                   "CRD or a namespace that only it supplies.")
    lines.append("**Root cause:** " + " ".join(why))
    return lines


# -- coverage ------------------------------------------------------------------------------

def coverage(m: Model) -> list[str]:
    """What was not analysed, and the problems that depend on it (unproven)."""
    if not m.gaps and not m.possible:
        return []
    lines = ["## What was not analysed", ""]
    if m.gaps:
        lines += [f"{n_of(len(m.gaps), 'app')} of {m.apps} could not be read completely. "
                  "Nothing below is claimed about what was not read:", ""]
        lines += table(["app", "wave", "state", "why", "detail"],
                       [[f"`{g.app}`", g.wave, g.status, g.reason or "-", g.detail or "-"]
                        for g in m.gaps])
        lines.append("")
    else:
        lines += [f"All {m.apps} apps were analysed.", ""]
    if m.possible:
        lines += [f"{n_of(len(m.possible), 'possible problem')} cannot be proven either way: "
                  "what they miss may come from an app that was not analysed.", ""]
        for p in m.possible[:20]:
            where = either(p.could_come_from[:3]) or "an app that was not analysed"
            cond = f" (`{p.condition}`)" if p.condition else ""
            who = f"`{p.app}`" if p.app else "All apps"
            lines.append(f"- {who} may fail{cond}, unless {where} supplies it: "
                         f"{inline(p.message)}")
        if len(m.possible) > 20:
            lines.append(f"- and {len(m.possible) - 20} more (`gitops-analysis check` lists "
                         "them all)")
        lines.append("")
    return lines[:-1] if lines[-1] == "" else lines


# -- root cause ---------------------------------------------------------------------------

def root_cause(m: Model) -> list[str]:
    r = m.root_row
    lines = ["## Root cause", ""]
    if m.chains:
        lines += ["The chain, from each failing app back to its cause:", ""]
        lines += code("\n".join(m.chains)) + [""]
    src = listing(r["source_paths"]) or "(no source path)"
    head = f"`{m.root}` (wave {int(r['wave'])}, {dest(r['destination_namespace'])})"
    if m.root_state == "analysed":
        lines.append(f"{head} deploys {n_of(int(r['resources']), 'resource')} from {src}.")
    elif m.root_state == "partial":
        lines.append(f"{head} was read in part ({m.root_reason}): "
                     f"{n_of(int(r['resources']), 'resource')} from {src} were analysed.")
    else:
        lines.append(f"{head} was not analysed ({m.root_reason}): what it deploys is unknown.")
    sh = m.shared
    if not m.causes and sh is not None and m.root_state != "not-analysed":
        lines[-1] += (" Nothing stops Argo CD from syncing it; the problem is its scope: "
                      f"{src} holds the components of {n_of(len(sh.partners), 'other app')} "
                      "(Issue 1), which deploy them too. " + (
                          f"And the {n_of(len(m.radius), 'app')} that need a CRD or a namespace "
                          f"from it depend on all {int(r['resources']):,} of its resources "
                          "applying cleanly." if m.radius else ""))
        lines[-1] = lines[-1].rstrip()
    if m.causes:
        what = listing(c.condition or c.summary for c in m.causes)
        lines[-1] += (f" Argo CD refuses it ({what}) before it applies any of them, so none "
                      "of what the other apps need from it ever exists (Issue 1 below).")
    return lines


# -- problem analysis ---------------------------------------------------------------------

def problems(m: Model) -> list[str]:
    lines = ["## Problem analysis", "", "### 1. Sync waves", ""]
    rows = [[w.wave, f"`{w.app}`", w.destination_namespace or "(none)",
             "-" if w.resources is None else w.resources,
             w.status + (f" ({w.reason})" if w.reason else "")] for w in m.waves]
    lines += table(["wave", "app", "destination namespace", "resources", "status"], rows)
    e = m.edges
    total = sum(e.values())
    if total == 0:
        lines += ["", "No app needs a CRD or a namespace from another app."]
    elif e["race"] == 0 and e["late"] == 0:
        tail = (" The order is right: the apps fail because what an earlier wave should "
                "install never arrives.") if m.blocked else ""
        lines += ["", f"{n_of(total, 'dependency', 'dependencies')} between apps, all "
                  f"provided by an earlier wave.{tail}"]
    else:
        lines += ["", f"{n_of(total, 'dependency', 'dependencies')} between apps: "
                  f"{e['ok']} provided by an earlier wave, {e['race']} in the same wave (a race: "
                  f"Argo CD may apply the app that needs it first), {e['late']} provided only by "
                  "a later wave."]
    if m.health_missing:
        lines += ["", "The waves order Applications only if Argo CD knows when one is healthy. "
                  "It has no health check for Application resources by default (since 1.8), so "
                  "a parent app does not wait for one wave to be healthy before the next. The "
                  "fix adds the check to `argocd-cm`."]
    lines += ["", f"### 2. Problems of `{m.root}`", ""]
    n = 0
    for p in m.problems:
        n += 1
        lines += _problem(m, p, n) + [""]
    if m.shared is not None:
        n += 1
        lines += _shared(m, n) + [""]
        folders = [(p, f) for p in m.shared.partners for f in p.folders]
        if folders:
            n += 1
            src = listing(m.root_row["source_paths"]) or "its source"
            lines += [f"#### Issue {n}: scope", "",
                      f"{src} also includes folders that other apps deploy on their own:", ""]
            lines += [f"- `{f}`: {n_of(p.keys, 'resource')}, deployed by `{p.app}` too"
                      for p, f in folders] + [""]
    count, values = m.labels
    if count:
        n += 1
        shown = listing(values[:8]) + (", ..." if len(values) > 8 else "")
        lines += [f"#### Issue {n}: tracking labels", "",
                  f"{n_of(count, 'resource')} already carry an `app.kubernetes.io/instance` "
                  f"label ({shown}). With label tracking Argo CD takes them for resources of "
                  "apps with those names; annotation tracking avoids it.", ""]
    if n == 0:
        lines += ["No error of its own.", ""]
    lines += [f"### 3. What the other apps need from `{m.root}`", ""]
    if m.needs:
        lines += table(["app", "wave", "CRDs (kinds)", "namespaces", "status"],
                       [[f"`{x.app}`", x.wave, ", ".join(x.crds) or "-",
                         ", ".join(x.namespaces) or "-", x.status] for x in m.needs])
    else:
        lines.append("No other app needs a CRD or a namespace from it.")
    return lines


def _problem(m: Model, p: Problem, n: int) -> list[str]:
    names = listing(r.name for r in p.resources)
    if p.caused_by:
        kinds = sorted({r.kind for r in p.resources})
        head = f"#### Issue {n}: `{p.condition}` on {n_of(p.count, 'resource')}, a consequence"
        by = "the failure above" if p.caused_by == m.root else f"the failure of `{p.caused_by}`"
        need = ("the admission webhook they pass through calls a Service that only failing "
                "apps deploy") if p.slug == "webhook-unavailable" else \
            "what they need comes only from apps that fail"
        text = (f"Argo CD would also refuse {'/'.join(kinds)} {names}: {need}. This follows "
                f"from {by} and clears with it.")
        return [head, ""] + code("\n".join(p.messages[:2])) + ["", text]
    head = f"#### Issue {n}: `{p.condition or p.summary}`"
    lines = [head, ""] + code("\n".join(p.messages[:3])) + [""]
    if p.slug == "namespace-missing":
        for r in p.resources:
            lines.append(f"{resource_text(r)} is {made_where(r)} and has no namespace; "
                         f"`{m.root}` has no `spec.destination.namespace` either, so Argo CD "
                         "cannot place it and refuses every resource of the app.")
    else:
        lines.append(f"{p.summary}.")
        lines += [""] + [f"- {resource_text(r)}: {made_where(r)}" for r in p.resources]
    return lines


def _shared(m: Model, n: int) -> list[str]:
    sh = m.shared
    assert sh is not None
    lines = [f"#### Issue {n}: `SharedResourceWarning`, {n_of(sh.keys, 'resource')} that other "
             "apps deploy too", "",
             f"{n_of(sh.keys, 'resource')} of `{m.root}` {'is' if sh.keys == 1 else 'are'} "
             "deployed by another app too (each resource counted once, whichever apps deploy "
             f"it). Argo CD warns about {sh.warned} of them; the other {sh.crds} are CRDs, "
             "which it does not warn about, though two apps own them just the same.", ""]
    if sh.examples:
        lines += code("\n".join(sh.examples)) + [""]
    lines += table(["shared with", "wave", "shared resources", "of them CRDs", "renders differ"],
                   [[f"`{p.app}`", p.wave, p.keys, p.crds, p.differing] for p in sh.partners])
    top = ", ".join(f"{short_kind(k)} {v}" for k, v in sh.by_kind[:8])
    more = f", and {n_of(len(sh.by_kind) - 8, 'more kind')}" if len(sh.by_kind) > 8 else ""
    lines += ["", f"By kind: {top}{more}."]
    if sh.differences:
        which = n_of(len(sh.differences), "shared resource renders", "shared resources render")
        lines += ["", f"{which} differently in the two apps, so its content flips with every "
                  "sync of either:", ""]
        lines += [f"- {_difference_text(d)}" + (
            f" (the `images:` pin of `{d.pinned_by}` sets it; the fix drops the pin)"
            if d.pinned_by else "") for d in sh.differences]
    else:
        lines += ["", "Every shared resource renders the same in both apps: the harm is two "
                  "owners, not two contents."]
    return lines


# -- cascade ------------------------------------------------------------------------------

def cascade(m: Model, png: str | None) -> list[str]:
    g = m.graph
    lines = ["## Cascade", ""]
    members = {m.root, *m.radius}
    ids = {x: f"n{i}" for i, x in enumerate(sorted(g.nodes))}
    mermaid = ["flowchart LR"]
    for x in sorted(members):
        d = g.nodes[x]
        mermaid.append(f'  {ids[x]}["{x}<br/>wave {d["wave"]}: {d["status"]}"]')
    for u, v in sorted((u, v) for u, v in g.edges if u in members and v in members):
        reasons = g.edges[u, v]["reasons"]
        label = ", ".join(need_label(r) for r in reasons[:3]) + \
            (f" +{len(reasons) - 3}" if len(reasons) > 3 else "")
        mermaid.append(f'  {ids[u]} -->|"{label}"| {ids[v]}')
    for status, style in (("failing", "fill:#d55e00,color:#fff"), ("blocked", "fill:#e69f00")):
        mermaid += [f"  style {ids[x]} {style}" for x in sorted(members)
                    if g.nodes[x]["status"] == status]
    lines += code("\n".join(mermaid), "mermaid")
    if png:
        lines += ["", f"![Wave graph]({png})"]
    if m.radius:
        one = len(m.radius) == 1
        verb = ("fails" if one else "fail") if m.failing else "would fail"
        lines += ["", f"If `{m.root}` fails, {n_of(len(m.radius), 'app')} {verb} with it: "
                  f"{listing(m.radius)}."]
    else:
        lines += ["", f"No other app depends on `{m.root}`."]
    return lines
