"""The write-up's text, part three: after the deployment (expected results, monitoring,
troubleshooting, keeping it fixed) and the files to change."""

from __future__ import annotations

from gitops_analysis.views.writeup_model import Model
from gitops_analysis.views.writeup_sections import code, listing, n_of, table
from gitops_analysis.views.writeup_steps import fix_file


def expected(m: Model) -> list[str]:
    f = m.fix
    owners = dict(f.owners)
    blocked = {b.app: b for b in m.blocked}
    status = {w.app: w.status for w in m.waves}
    rows = []
    now = ("fails: `" + m.causes[0].condition + "`") if m.causes else \
        (f"`SharedResourceWarning` on {m.shared.warned} resources" if m.shared else "-")
    root_after = f"Synced and Healthy, {n_of(f.kept, 'resource')}" if m.root_state == "analysed" \
        else "Synced and Healthy once its manifests generate (what it deploys was not read)"
    rows.append([f"`{m.root}`", now, root_after])
    for _, apps in m.setup.sync_order:
        for a in apps:
            if a == m.root:
                continue
            was, after = [], ["Synced and Healthy"]
            if a in blocked:
                b = blocked[a]
                missing = [x.rpartition("/")[2] + " CRD" for x in b.crds] + \
                    [f"namespace `{x}`" for x in b.namespaces] + \
                    [f"Service `{x}`" for x in b.services]
                more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
                was.append("blocked: needs " + ", ".join(missing[:3]) + more)
            if a in owners:
                was.append(f"shares {n_of(owners[a], 'resource')} with `{m.root}`")
                after.append(f"sole owner of {'it' if owners[a] == 1 else 'them'}")
            rows.append([f"`{a}`", "; ".join(was) or status.get(a, "ok"), ", ".join(after)])
    return ["## Expected results", ""] + table(["app", "now", "after the fix"], rows)


def monitoring(m: Model) -> list[str]:
    cmds = [f"argocd app get {m.root}"]
    if m.radius:
        cmds.append("for app in " + " ".join(m.radius) + '; do argocd app get "$app"; done')
    cmds.append("argocd app list -o wide")
    if m.fix.needed_crds:
        cmds.append("kubectl get crd " + " ".join(n for _, n in m.fix.needed_crds[:12]))
    nss = sorted({ns for x in m.needs for ns in x.namespaces})
    if nss:
        cmds.append("kubectl get namespace " + " ".join(nss))
    return ["## Monitoring", "", "After the change is synced:", ""] + code("\n".join(cmds), "sh")


def troubleshooting(m: Model) -> list[str]:
    s, root = m.setup, m.root
    lines = ["## Troubleshooting", "", f"**`{root}` still does not sync.** See what Argo CD "
             "says, and compare with the check of the fixed render:", ""]
    lines += code(f"argocd app get {root} --show-operation\n"
                  f"kubectl -n {s.argocd_namespace} get application {s.app_name} "
                  "-o jsonpath='{.status.conditions}'\n"
                  'gitops-analysis check "$WORK/fixed" --verbose', "sh")
    if m.blocked or m.needs:
        crds = " ".join(n for _, n in m.fix.needed_crds[:6])
        nss = " ".join(sorted({ns for x in m.needs for ns in x.namespaces}))
        checks = ([f"kubectl get crd {crds}"] if crds else []) + \
            ([f"kubectl get namespace {nss}"] if nss else [])
        example = (m.blocked[0].app if m.blocked else m.needs[0].app)
        lines += ["", "**An app that needs it still fails.** The CRDs and namespaces must exist "
                  f"first (`{root}` healthy); then sync the app again:", ""]
        lines += code("\n".join(checks + [f"argocd app sync {example} --retry-limit 5"]), "sh")
    if m.shared is not None:
        lines += ["", "**`SharedResourceWarning` does not go away.** A resource still in two "
                  "apps is one the narrowed source still holds; compare what Argo CD reports "
                  "with the prediction:", ""]
        lines += code("kubectl get applications.argoproj.io -A -o json > export.json\n"
                      'gitops-analysis reconcile "$WORK/fixed" --live export.json', "sh")
    return lines


def keeping(m: Model) -> list[str]:
    """What keeps the incident from coming back, from what caused this one."""
    s = m.setup
    items = ["Render and check every change before Argo CD syncs it: `gitops-analysis render` "
             "and `check` as in Validation, in CI, or `gitops-analysis diff` on a pull request "
             "(it reports the findings a change adds)."]
    if m.shared is not None:
        folders = [f for p in m.shared.partners for f in p.folders]
        where = f" (here {listing(folders[:4])} in {listing(s.source_paths)})" if folders else ""
        items.append("One owner per resource: a folder that an app deploys on its own is not "
                     f"also a base of another app{where}.")
    if any(p.slug == "namespace-missing" for p in m.causes):
        items.append("Give every Application a `spec.destination.namespace`: a resource without "
                     "a namespace then has somewhere to go instead of failing the whole app.")
    if m.fix.health_snippet:
        where = f"the ArgoCD resource `{m.setup.argocd_resource}`" if m.setup.argocd_resource \
            else "`argocd-cm`"
        items.append(f"Keep the Application health check in {where}: without it the sync "
                     "waves between Applications do not wait for anything.")
    return ["## Keeping it fixed", ""] + [f"- {x}" for x in items]


def files(m: Model) -> list[str]:
    f, s, root = m.fix, m.setup, m.root
    where = f"`{s.repo_url}`" if s.repo_url else "the repository"
    lines = ["## Files to change", ""]
    if f.narrows:
        made = f"written as {fix_file(m, f'kustomization/{s.instance}/kustomization.yaml')}" \
            if f.kustomization is not None else "see Solution, step 1"
        lines.append(f"- **new** `{s.new_path}/kustomization.yaml` in {where}: "
                     f"{listing(s.source_paths)}'s kustomization without what other apps own "
                     f"({made})")
        defined = f"`{s.parent[1]}`" if s.parent else \
            f"`{s.app_file}` in the dataset; change the file that defines it"
        lines.append(f"- **changed** the Application `{root}` ({defined}): `spec.source.path` "
                     f"{listing(s.source_paths)} -> `{s.new_path}`")
    for x in f.namespace_fixes:
        if x.in_kustomization:
            continue
        p = next((p for p in m.causes if p.slug == "namespace-missing"), None)
        r = next((r for r in (p.resources if p else ()) if r.name == x.name), None)
        path = (r.generated_in or r.origin) if r else ""
        what = f"`{path}`" if path else \
            f"the manifest or kustomization that makes {x.kind} `{x.name}`" + \
            (f" (rendered at `{r.file}:{r.line}`)" if r else "")
        lines.append(f"- **changed** {what}: namespace `{x.namespace}` for {x.kind} `{x.name}`")
    for a, old, new in f.wave_changes:
        lines.append(f"- **changed** the Application `{a}`: sync wave {old} -> {new}")
    if f.health_snippet and s.argocd_resource:
        lines.append(f"- **changed** the ArgoCD resource `{s.argocd_resource}` (namespace "
                     f"`{s.argocd_namespace}`): the Application health check")
    elif f.health_snippet:
        lines.append(f"- **changed** the ConfigMap `argocd-cm` (namespace `{s.argocd_namespace}`): "
                     "the Application health check")
    for p in m.causes:
        if p.slug == "namespace-missing":
            continue
        for r in p.resources:
            if r.origin:
                lines.append(f"- **changed** `{r.origin}`: {r.kind} `{r.name}` (`{p.condition}`)")
    ref = []
    if f.narrows:
        src = f"`{f.kustomization['source_file']}`" if f.kustomization and \
            f.kustomization.get("source_file") else listing(s.source_paths)
        ref += [f"- {src}: the source `{root}` used until now; other apps may still use it, "
                "so it stays as it is"]
    for d in (m.shared.differences if m.shared else ()):
        if d.origins[0] and d.origins[0] == d.origins[1]:
            ref.append(f"- `{d.origins[0]}`: {d.kind} `{d.name}`, which both "
                       f"{listing(d.apps)} render, with different results")
            continue
        for app, origin in zip(d.apps, d.origins):
            if origin:
                ref.append(f"- `{origin}`: {d.kind} `{d.name}` as `{app}` renders it")
    if ref:
        lines += ["", "Files referenced:", ""] + sorted(set(ref), key=ref.index)
    return lines
