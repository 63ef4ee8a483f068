"""The write-up's text, part two: what to do (solution, validation on a fixed render,
deployment). Every command is built from the model and runs as written (the validation is run by
the tests). What follows them is in :mod:`writeup_after`."""

from __future__ import annotations

import shlex

from gitops_analysis.fix.patches import HEALTH_SNIPPET
from gitops_analysis.views.writeup_model import Model
from gitops_analysis.views.writeup_sections import (
    code,
    inline,
    left_errors,
    listing,
    n_of,
    others,
    table,
)

_TIMEOUT = 600


def _q(text: str) -> str:
    return shlex.quote(text)


def fix_file(m: Model, rel: str) -> str:
    """A file of the fix, as a reader finds it beside the write-up (or says where it is)."""
    return f"`{m.setup.fix_dir}/{rel}`" if m.setup.fix_dir else f"`{rel}` of the fix"


# -- solution ------------------------------------------------------------------------------

def solution(m: Model) -> list[str]:
    f, s, root = m.fix, m.setup, m.root
    src = listing(s.source_paths) or "its source"
    lines = ["## Solution", ""]
    step = 0
    if f.narrows:
        step += 1
        lines += [f"### Step {step}: `{root}` deploys only what no other app deploys", "",
                  f"`{root}` keeps the {f.kept} of its {f.total} resources that no other app "
                  f"deploys. Each of the other {f.total - f.kept} stays with the app whose own "
                  "source holds it:", ""]
        lines += table(["owner after the fix", "resources it takes over"],
                       [[f"`{a}`", n] for a, n in f.owners])
        if f.kept_back:
            lines += ["", f"`{root}` stays the owner of {n_of(f.kept_back, 'shared resource')} "
                      "it is the closest source of; the other apps drop them."]
        lines.append("")
        k = f.kustomization
        if k is not None:
            lines += [f"The new `{k['path']}` is {src}'s kustomization without the entries "
                      "other apps own (each left as a comment naming its owner):", ""]
            lines += code(k["text"], "yaml") + [""]
            notes = []
            for image in k.get("dropped_images", []):
                notes.append(f"The `images:` pin of `{image}` is left out: none of the "
                             "resources it keeps runs that image.")
            for x in f.namespace_fixes:
                if x.in_kustomization:
                    notes.append(f"The generator of {x.kind} `{x.name}` gets `namespace: "
                                 f"{x.namespace}` ({x.reason}), which clears the "
                                 "`InvalidSpecError`.")
            if f.rendered is not None:
                notes.append("Rendered for real with kustomize: " + (
                    f"{f.rendered.get('rendered', 0)} resources, exactly the ones it keeps."
                    if f.rendered.get("ok") else f"it FAILS: {f.rendered.get('message')}."))
            lines += [f"- {x}" for x in notes] + ([""] if notes else [])
        else:
            why = f.not_written or "no kustomization could be written"
            ns = ", ".join(f"{a} {n}" for a, n in f.kept_by_namespace) or "none"
            lines += [f"No kustomization is written here ({why}). Make "
                      f"`{s.new_path}/kustomization.yaml` from {src} without the bases of the "
                      f"apps above; it must keep {n_of(f.kept, 'resource')}: by namespace "
                      f"{ns}; cluster-scoped {f.kept_cluster_scoped} (of them "
                      f"{n_of(f.kept_crds, 'CRD')}). Every resource to leave out is listed in "
                      f"{fix_file(m, f'drops-{s.instance}.csv')}.", ""]
        if f.needed_crds:
            lines += [f"It still carries the {n_of(len(f.needed_crds), 'CRD')} other apps "
                      f"need: {listing(n for _, n in f.needed_crds)}.", ""]
        step += 1
        lines += [f"### Step {step}: point the Application at it", ""]
        lines += code(f"spec:\n  source:\n    path: {s.new_path}  # was: "
                      f"{', '.join(s.source_paths)}", "yaml")
        if f.kustomization is not None:
            lines += ["", "The same change as a patch: "
                      f"{fix_file(m, f'patches/{s.instance}-source.yaml')}."]
        lines.append("")
    for x in m.fix.namespace_fixes:
        if x.in_kustomization:
            continue
        step += 1
        p = next((p for p in m.causes if p.slug == "namespace-missing"), None)
        r = next((r for r in (p.resources if p else ()) if r.name == x.name), None)
        where = (f"on its {r.generator} in `{r.generated_in}`" if r and r.generated_in else
                 f"as `metadata.namespace` in `{r.origin}`" if r and r.origin else
                 "in the manifest or kustomization that makes it")
        lines += [f"### Step {step}: a namespace for {x.kind} `{x.name}`", "",
                  f"Set `namespace: {x.namespace}` {where} ({x.reason}), or give `{x.app}` a "
                  "`spec.destination.namespace`.", ""]
    if f.wave_changes or f.skip_dry_run:
        step += 1
        lines += [f"### Step {step}: sync waves", ""]
        if f.wave_changes:
            lines += table(["app", "wave now", "wave after"],
                           [[f"`{a}`", old, new] for a, old, new in f.wave_changes]) + [""]
        for a in f.skip_dry_run:
            lines.append(f"- `{a}`: add `SkipDryRunOnMissingResource=true` to its syncOptions: "
                         "its dependencies form a cycle that no wave order satisfies.")
        lines.append("")
    if f.health_snippet and s.argocd_resource:
        step += 1
        lines += [f"### Step {step}: let the waves wait for healthy apps", "",
                  "argocd-operator (OpenShift GitOps) manages this Argo CD: it writes `argocd-cm` "
                  f"from the `ArgoCD` resource `{s.argocd_resource}` (namespace "
                  f"`{s.argocd_namespace}`) and undoes any other change to it. Add the "
                  "Application health check to that resource's `spec.resourceHealthChecks`, "
                  "beside the checks it has (a merge patch would replace the list):", ""]
        lines += code("spec:\n  resourceHealthChecks:\n  - group: argoproj.io\n"
                      "    kind: Application\n    check: |\n" +
                      "".join(f"      {x[2:]}\n" if x else "\n"
                              for x in HEALTH_SNIPPET.splitlines()[1:]), "yaml") + [""]
    elif f.health_snippet:
        step += 1
        lines += [f"### Step {step}: let the waves wait for healthy apps", "",
                  "Add the Application health check to `argocd-cm` (namespace "
                  f"`{s.argocd_namespace}`; the whole ConfigMap is "
                  f"{fix_file(m, 'argocd-cm.yaml')}):", ""]
        lines += code("data:\n" + "".join(f"  {x}\n" if x else "\n"
                                          for x in HEALTH_SNIPPET.splitlines()), "yaml") + [""]
    handled = {"namespace-missing"}
    for p in m.causes:
        if p.slug in handled:
            continue
        step += 1
        where = "; ".join(f"{r.kind} `{r.name}` ({r.origin or f'{r.file}:{r.line}'})"
                          for r in p.resources[:3])
        lines += [f"### Step {step}: resolve the `{p.condition or 'error'}` of `{root}`", "",
                  f"{p.remediation} Where: {where}.", ""]
    if step == 0:
        lines += ["The fix changes nothing: there is nothing it knows how to change.", ""]
    n = m.fix.errors_before
    by_hand, elsewhere = left_errors(m)
    if m.fix.ok and n and not m.fix.errors_after:
        lines.append("Nothing else needs changing: applied to the analysis, these steps clear "
                     + (f"the {n_of(n, 'predicted error')}" if n == 1 else
                        f"all {n_of(n, 'predicted error')}") + " (see Validation).")
    elif m.fix.errors_after:
        said = []
        if by_hand:
            said.append(f"{n_of(len(by_hand), 'error')} of `{root}` that only the steps to do "
                        "by hand resolve (the analysis cannot apply them)")
        if elsewhere:
            apps = sorted({a for a, _, _ in elsewhere})
            said.append(f"{n_of(len(elsewhere), 'error')} of {n_of(len(apps), 'other app')}, "
                        "outside this incident (`gitops-analysis check` lists them)")
        left = n_of(m.fix.errors_after, "error")
        lines.append(f"Applied to the analysis, these steps leave {left} of the {n} predicted: "
                     + "; ".join(said) + ".")
    return lines[:-1] if lines[-1] == "" else lines



# -- validation ----------------------------------------------------------------------------

def _prepare(m: Model) -> list[str]:
    """Shell lines that make $WORK/fix, $WORK/repo and $WORK/apps: the fix applied to copies."""
    s, f = m.setup, m.fix
    repo = s.repo or "path/to/checkout"
    lines = [f"DATASET={_q(s.dataset)}   # the dataset, as the report was given it",
             f"REPO={_q(repo)}   # " + ("" if s.repo else "set this: ") +
             f"a checkout of {s.repo_url or 'the repository the apps point at'}"
             + (f" ({s.revision})" if s.revision else ""),
             "WORK=$(mktemp -d)   # everything is written here; DATASET and REPO stay as they are",
             ""]
    if f.narrows and f.kustomization is None and not f.has_origins:
        lines += ["# the dataset's render has no origin data: render its apps again, with "
                  "kustomize's origin annotations",
                  'gitops-analysis render "$REPO" --apps "$DATASET/apps" --out "$WORK/broken"',
                  'gitops-analysis fix "$WORK/broken" --repo "$REPO" --out "$WORK/fix"']
    else:
        lines += ["# the fix's files (the same as those beside this write-up)",
                  'gitops-analysis fix "$DATASET" --repo "$REPO" --out "$WORK/fix"']
    lines += ["", "# the repository and the Applications, with the fix in them",
              'cp -R "$REPO" "$WORK/repo"', 'cp -R "$DATASET/apps" "$WORK/apps"']
    if f.narrows:
        target = f"{s.new_path}/kustomization.yaml"
        if f.kustomization is not None or not f.has_origins:
            lines += [f'mkdir -p "$WORK/repo/{s.new_path}"',
                      f'cp "$WORK/fix/kustomization/{s.instance}/kustomization.yaml" '
                      f'"$WORK/repo/{target}"']
        else:
            lines += [f"# write $WORK/repo/{target}: {listing(s.source_paths, False)} without "
                      f"what $WORK/fix/drops-{s.instance}.csv lists"]
    lines += [f"# {x}: in $WORK/repo/{where}" if where else f"# {x}, under $WORK/repo"
              for x, where in _manual_edits(m)]
    edits: dict[str, list[str]] = {}
    if f.narrows:
        if s.path_line:
            edits.setdefault(s.app_file, []).append(f"{s.path_line}s|path: .*|path: {s.new_path}|")
        else:
            lines.append(f"# set spec.source.path of $WORK/{s.app_file} to {s.new_path}")
    for app, _, file, line, new in s.wave_lines:
        if line:
            edits.setdefault(file, []).append(f"{line}s|sync-wave: .*|sync-wave: '{new}'|")
        else:
            lines.append(f"# set the sync-wave annotation of {app} in $WORK/{file} to '{new}'")
    for file, exprs in sorted(edits.items()):
        lines.append("sed " + " ".join(f"-e '{e}'" for e in exprs) +
                     f' "$DATASET/{file}" > "$WORK/{file}"')
    return lines


def _manual_edits(m: Model) -> list[tuple[str, str]]:
    """(what to change, the repository file) for the namespaces the generated kustomization
    does not set."""
    out = []
    for x in m.fix.namespace_fixes:
        if x.in_kustomization:
            continue
        p = next((p for p in m.causes if p.slug == "namespace-missing"), None)
        r = next((r for r in (p.resources if p else ()) if r.name == x.name), None)
        where = (r.generated_in or r.origin) if r else ""
        what = (f"set namespace: {x.namespace} on the {r.generator} of {x.kind} {x.name}"
                if r and r.generated_in else
                f"set metadata.namespace: {x.namespace} on {x.kind} {x.name}")
        out.append((what, where))
    return out


def validation(m: Model) -> list[str]:
    f, s = m.fix, m.setup
    lines = ["## Validation", ""]
    shared = (f"and {n_of(f.shared_after, 'shared resource')} ({f.shared_before} before)"
              if f.shared_before else "")
    lines.append(f"Applied to the analysis, the fix leaves {n_of(f.errors_after, 'error')} "
                 f"({f.errors_before} before) {shared}".rstrip() + ".")
    left = list(dict.fromkeys(list(f.remaining) + [(a, msg) for a, _, msg in f.errors_left]))
    if left:
        lines += ["", "What remains:", ""] + [f"- `{a or '(dataset)'}`: {inline(msg)}"
                                              for a, msg in left[:10]]
        if len(left) > 10:
            lines.append(f"- and {len(left) - 10} more (`gitops-analysis check` lists them)")
    lines += ["", "Check it on a real render of the fixed repository:", ""]
    cmds = _prepare(m)
    cm = ' --argocd-cm "$WORK/fix/argocd-cm.yaml"' if f.health_snippet else ""
    fail_on = "warning" if f.warnings_after == 0 else "error"
    cmds += ["", "# render the fixed repository with the real kustomize/Helm, then check it",
             'gitops-analysis render "$WORK/repo" --apps "$WORK/apps" --out "$WORK/fixed"',
             f'gitops-analysis check "$WORK/fixed"{cm} --fail-on {fail_on}']
    if f.needed_crds and f.narrows:
        names = "|".join(n.replace(".", "\\.") for _, n in f.needed_crds)
        cmds.append(f"grep -cE '^  name: ({names})$' \"$WORK/fixed/{s.rendered_file}\"")
    lines += code("\n".join(cmds), "sh")
    by_hand, elsewhere = left_errors(m)
    rendered = "`render` reports every app `ok`" if not m.gaps else \
        (f"`render` reports `ok` for the {n_of(m.analysed, 'app')} it rendered before"
         + (f" and for `{m.root}` once its manifests generate" if m.root_state != "analysed"
            else ""))
    if not f.errors_after:
        checked = "`check` exits 0 with " + ("no findings" if f.warnings_after == 0 else
                                            f"no error ({n_of(f.warnings_after, 'warning')} "
                                            "remain)")
    elif not elsewhere:
        checked = ("`check` exits 0 with no error once the steps to do by hand are done (until "
                   f"then the {n_of(len(by_hand), 'error')} of `{m.root}` remain)")
    else:
        mine = (f", and the {n_of(len(by_hand), 'error')} of `{m.root}` until the steps to do "
                "by hand are done") if by_hand else ""
        checked = (f"`check` still reports the {n_of(len(elsewhere), 'error')} of "
                   f"{others(elsewhere)}, outside this incident{mine}; it exits 1 until those "
                   "are resolved too")
    expect = [rendered, checked]
    if f.needed_crds and f.narrows:
        expect.append(f"`grep` counts {len(f.needed_crds)}: the CRDs other apps need are still "
                      f"in `{m.root}`")
    lines += ["", "Expected: " + "; ".join(expect) + "."]
    return lines


# -- deployment ----------------------------------------------------------------------------

def _sync(apps: tuple[str, ...]) -> list[str]:
    names = " ".join(apps)
    return [f"argocd app sync {names}", f"argocd app wait {names} --health --timeout {_TIMEOUT}"]


def deployment(m: Model) -> list[str]:
    f, s, root = m.fix, m.setup, m.root
    lines = ["## Deployment", "", "With `REPO` and `WORK` from the validation:", ""]
    takeover = f.narrows and not s.failing and s.automated
    cmds: list[str] = []
    if takeover:
        cmds += [f"# {root} syncs itself and prunes: stop it until the other apps own what it "
                 "gives up", f"argocd app set {root} --sync-policy none", ""]
    manual = _manual_edits(m)
    if f.narrows or manual:
        files = []
        cmds += [f"# the change, in the repository ({s.revision or 'the branch Argo CD reads'})",
                 'cd "$REPO"']
        if f.narrows:
            target = f"{s.new_path}/kustomization.yaml"
            cmds += [f"mkdir -p {s.new_path}", f'cp "$WORK/repo/{target}" {target}']
            files.append(target)
        for what, where in manual:
            if where:
                cmds.append(f'cp "$WORK/repo/{where}" {where}   # {what}')
                files.append(where)
            else:
                cmds.append(f"# {what}, in the manifest or kustomization that makes it")
        if files:
            cmds += [f"git add {' '.join(sorted(set(files)))}",
                     f"git commit -m {_q(f'{s.app_name}: ' + _subject(m))}", "git push"]
        cmds.append("")
    if f.narrows:
        cmds += ["# the Application's new source path (if the Application is kept in Git, "
                 "change it there instead)",
                 f"argocd app set {root} --path {s.new_path}", ""]
    if s.wave_lines:
        cmds += ["# the new sync waves (if the Applications are kept in Git, change them there "
                 "instead)"]
        cmds += [f"kubectl -n {_ns(m, app)} annotate application {name} "
                 f"argocd.argoproj.io/sync-wave={new} --overwrite"
                 for app, name, _, _, new in s.wave_lines] + [""]
    if f.health_snippet and s.argocd_resource:
        cmds += ["# the Application health check: add the resourceHealthChecks entry of the "
                 "solution",
                 f"kubectl -n {s.argocd_namespace} edit argocd {s.argocd_resource}", ""]
    elif f.health_snippet:
        cmds += ["# the Application health check",
                 f"kubectl -n {s.argocd_namespace} patch configmap argocd-cm --type merge "
                 '--patch-file "$WORK/fix/argocd-cm.yaml"', ""]
    if takeover:
        owners = tuple(a for a, _ in f.owners)
        cmds += ["# the apps that take resources over sync first and become their owners"]
        for _, apps in s.sync_order:
            wave = tuple(a for a in apps if a in owners)
            if wave:
                cmds += _sync(wave)
        cmds += ["", f"# then {root}; a manual sync without --prune deletes nothing"]
        cmds += _sync((root,))
        flags = " --auto-prune" * s.prune + " --self-heal" * s.self_heal
        cmds += [f"argocd app set {root} --sync-policy automated{flags}"]
    else:
        cmds += ["# sync wave by wave, each healthy before the next"]
        for _, apps in s.sync_order:
            cmds += _sync(apps)
    lines += code("\n".join(cmds).rstrip(), "sh")
    if s.parent:
        lines += ["", f"`{root}` is defined in `{s.parent[1]}`, rendered by the app of apps "
                  f"`{s.parent[0]}`: change `spec.source.path` there, or Argo CD sets it back."]
    return lines


def _subject(m: Model) -> str:
    if m.fix.narrows:
        return "deploy only what no other app deploys"
    return "give every resource a namespace"


def _ns(m: Model, app: str) -> str:
    return app.partition("/")[0] if "/" in app else m.setup.argocd_namespace
