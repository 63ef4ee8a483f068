"""AppProject rules: what an app's project does not allow, with Argo CD's condition and text.

Argo CD checks the project before anything else (``controller/appcontroller.go``
``refreshAppConditions``): a missing project, an app namespace the project does not accept, a
source repository or a destination it does not allow stop the reconcile there (sync and health
``Unknown``, nothing compared, nothing synced). Resource kinds and namespaces are checked at
sync time, per resource (``controller/sync.go`` ``validateSyncPermissions``). The project
lookup, matching and texts are Argo CD v3.5.1's; see ``docs/notes/argocd-conditions.md`` §C.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from gitops_analysis.analysis.coverage import group_words, supply_candidates
from gitops_analysis.core.findings import Finding, finding
from gitops_analysis.core.kinds import CLUSTER
from gitops_analysis.load.applications import IN_CLUSTER
from gitops_analysis.load.argo_objects import (
    Projects,
    cluster_identity,
    control_namespace,
    projects_of,
)
from gitops_analysis.load.exclusions import excluded_mask
from gitops_analysis.load.projects import DEFAULT_PROJECT, Project
from gitops_analysis.rules.registry import Rule, get_rule, register

_CITE = "(Argo CD v3.5.1"


@dataclass(frozen=True)
class AppVerdict:
    """What Argo CD's project checks say about one app before any comparison."""

    slug: str  # the rule that reports it
    condition: str
    message: str
    detail: str = ""
    unproven_from: tuple[str, ...] = ()  # project-missing: apps not analysed that could add it
    doubt: bool = False  # project-missing: a file of the repository defines it (applied by hand?)


def projects(ctx) -> Projects:
    return projects_of(ctx.dataset, tuple(ctx.projects or ()))


def _settings_filter(ctx):
    settings = ctx.settings
    return getattr(settings, "resource_filter", None)


def _source_verdicts(app: str, spec: dict[str, Any] | None, sources: pd.DataFrame,
                     proj: Project) -> tuple[list[AppVerdict], bool]:
    """``ValidatePermissions``' source part: (verdicts, whether it stopped early)."""
    slug = "project-source-not-permitted"
    spec = spec or {}
    if spec.get("sourceHydrator") is not None:
        return [], True  # not modelled: the dry and sync sources of a hydrator
    raw = spec.get("sources")
    multi = isinstance(raw, list) and len(raw) > 0
    rows = sources[sources["app"] == app].sort_values("index")
    out: list[AppVerdict] = []
    for r in rows.itertuples(index=False):
        if multi:
            if not r.repo_url or not (r.path or r.chart or r.ref):
                return out, True  # Go prints the whole source struct: not reproduced
        else:
            if not r.repo_url or not (r.path or r.chart):
                return [AppVerdict(slug, "InvalidSpecError", "spec.source.repoURL and either "
                                   "spec.source.path or spec.source.chart are required")], True
        if r.chart and not r.target_revision:
            return out + [AppVerdict(slug, "InvalidSpecError",
                                     "spec.source.targetRevision is required if the manifest "
                                     "source is a helm chart")], True
        if not proj.source_permitted(r.repo_url):
            out.append(AppVerdict(
                slug, "InvalidSpecError",
                f"application repo {r.repo_url} is not permitted in project '{proj.name}'",
                f"sourceRepos of {proj.name}: {_list(proj.source_repos)}"))
        if not multi:
            break
    return out, False


def _destination_verdict(app_row, proj: Project, pj: Projects) -> AppVerdict | None:
    slug = "project-destination-not-permitted"
    server, name, ns = (app_row.destination_server, app_row.destination_name,
                        app_row.destination_namespace)
    if server and name:
        return AppVerdict(slug, "InvalidSpecError", "application destination can't have both "
                          f"name and server defined: {name} {server}")
    if not server and not name:
        return AppVerdict(slug, "InvalidSpecError", "Destination server missing from app spec")
    c_server, c_name, s_known, n_known = cluster_identity(server, name, pj.clusters)
    ok = proj.destination_permitted(c_server, c_name, ns, s_known, n_known)
    if ok is None or ok:
        return None
    shown = c_name if name else c_server
    return AppVerdict(
        slug, "InvalidSpecError",
        f"application destination server '{shown}' and namespace '{ns}' do not match any of "
        f"the allowed destinations in project '{proj.name}'",
        f"destinations of {proj.name}: {_destinations(proj)}")


def app_verdicts(ctx) -> dict[str, list[AppVerdict]]:
    """App -> the conditions Argo CD's project checks give it (empty list: none). Apps with a
    verdict stop before comparison: nothing of theirs is compared or synced."""
    memo = getattr(ctx, "shared", None)
    if memo is not None and "app_verdicts" in memo:
        return memo["app_verdicts"]
    verdicts = _app_verdicts(ctx)
    if memo is not None:
        memo["app_verdicts"] = verdicts
    return verdicts


def _app_verdicts(ctx) -> dict[str, list[AppVerdict]]:
    ds = ctx.dataset
    pj = projects(ctx)
    ctl = control_namespace(ds)
    out: dict[str, list[AppVerdict]] = {}
    for a in ds.apps.itertuples(index=False):
        found: list[AppVerdict] = []
        out[a.app] = found
        name = a.project or DEFAULT_PROJECT
        proj = pj.get(name)
        if proj is None:
            if not pj.known:
                continue
            written = [p for p in getattr(ds, "repository_projects", [])
                       if p["name"] == name and p.get("namespace", "") in ("", ctl)]
            detail = _missing_detail(name, pj)
            if written:
                w = written[0]
                detail = (f"AppProject {name} is written at {w['file']}:{w['line']}, but no app "
                          "deploys it: if it is applied by hand, pass that file with --projects")
            found.append(AppVerdict(
                "project-missing", "InvalidSpecError",
                f"Application referencing project {a.project} which does not exist", detail,
                tuple(supply_candidates(ds, ctx.coverage, cluster=IN_CLUSTER,
                                        words=group_words(name))), doubt=bool(written)))
            continue
        if not proj.app_namespace_permitted(a.app_namespace, ctl):
            found.append(AppVerdict(
                "app-namespace-not-permitted", "UnknownError",
                f"application '{a.name}' in namespace '{a.app_namespace}' is not permitted to "
                f"use project '{proj.name}'",
                f"sourceNamespaces of {proj.name}: {_list(proj.source_namespaces)}; the "
                f"controller must also list {a.app_namespace} in application.namespaces"))
            continue
        verdicts, stopped = _source_verdicts(a.app, pj.app_specs.get(a.app), ds.sources, proj)
        found += verdicts
        if stopped:
            continue
        dest = _destination_verdict(a, proj, pj)
        if dest is not None:
            found.append(dest)
    return out


def _missing_detail(name: str, pj: Projects) -> str:
    where = pj.elsewhere.get(name)
    if where:
        p = where[0]
        return (f"an AppProject {name} is defined at {p.origin}, but in namespace "
                f"{p.namespace or '(the app destination)'}: Argo CD reads projects only from its "
                "own namespace")
    return ("no AppProject of that name in the dataset or --projects; the app is not "
            "reconciled (sync and health Unknown)")


def _list(items: tuple[str, ...]) -> str:
    return ", ".join(items) if items else "(none)"


def _destinations(proj: Project) -> str:
    parts = [f"{d.server or d.name or '(no cluster)'}/{d.namespace or '(no namespace)'}"
             for d in proj.destinations]
    return ", ".join(parts) if parts else "(none)"


def _verdict_rows(ctx, slug: str) -> list[Finding]:
    rule = get_rule(slug)
    apps = ctx.dataset.apps.set_index("app")
    out = []
    for app, verdicts in sorted(app_verdicts(ctx).items()):
        row = apps.loc[app]
        for v in verdicts:
            if v.slug != slug:
                continue
            out.append(rule_finding(rule, v, app, row))
    return out


def rule_finding(rule: Rule, v: AppVerdict, app: str, row) -> Finding:
    f = finding(rule, message=v.message, argocd_condition=v.condition, app=app,
                cluster=row["cluster"], group="argoproj.io", version="v1alpha1",
                kind="Application", namespace=row["app_namespace"], name=row["name"],
                detail=v.detail, file=row["file"], line=row["line"])
    if v.unproven_from or v.doubt:
        f = replace(f, severity="warning", confidence="unproven",
                    could_come_from=v.unproven_from)
    return f


def stopped_apps(ctx) -> set[str]:
    """Apps whose project checks fail: Argo CD compares and syncs nothing of theirs (a project
    that an unanalysed app could still supply does not count)."""
    return {a for a, vs in app_verdicts(ctx).items()
            if any(not v.unproven_from and not v.doubt for v in vs)}


def check_project_missing(ctx) -> list[Finding]:
    return _verdict_rows(ctx, "project-missing")


def check_app_namespace(ctx) -> list[Finding]:
    return _verdict_rows(ctx, "app-namespace-not-permitted")


def check_source(ctx) -> list[Finding]:
    return _verdict_rows(ctx, "project-source-not-permitted")


def check_destination(ctx) -> list[Finding]:
    return _verdict_rows(ctx, "project-destination-not-permitted")


def check_resources(ctx) -> pd.DataFrame | None:
    """``validateSyncPermissions`` for every object the sync would apply (hooks too; excluded
    kinds never reach the sync)."""
    ds = ctx.dataset
    res = ds.resources
    if res.empty:
        return None
    stopped = stopped_apps(ctx)
    pj = projects(ctx)
    keep = ~res["app"].isin(stopped) & ~excluded_mask(res, ds.apps, _settings_filter(ctx))
    res = res[keep]
    if res.empty:
        return None
    # one dict per app, read once; the message is decided once per distinct (app, group,
    # kind, name of a cluster-scoped object, namespace of a namespaced one), not per resource
    apps = {row["app"]: row for row in ds.apps.to_dict("records")}
    namespaced = (res["scope"] != CLUSTER).to_numpy(dtype=bool)
    keys = pd.DataFrame({"app": res["app"].to_numpy(), "group": res["group"].to_numpy(),
                         "kind": res["kind"].to_numpy(),
                         "name": res["name"].where(~namespaced, "").to_numpy(),
                         "namespace": res["namespace"].where(namespaced, "").to_numpy(),
                         "namespaced": namespaced})
    groups = keys.groupby(list(keys.columns), sort=False, observed=True)
    codes = groups.ngroup().to_numpy()
    messages = []
    memo: dict[tuple, str] = {}
    for app, group, kind, name, namespace, is_ns in groups.size().index:
        a = apps[app]
        proj = pj.get(a["project"] or DEFAULT_PROJECT)
        if proj is None:
            messages.append("")
            continue
        kind = str(kind)
        key = (proj.name, group, kind, name, is_ns, namespace, a["destination_server"],
               a["destination_name"])
        if key not in memo:
            memo[key] = _resource_message(proj, pj, group, kind, name, namespace, is_ns, a)
        messages.append(memo[key])
    msg = np.array(messages, dtype=object)[codes]
    hit = msg != ""
    rows = []
    if hit.any():
        for r, m in zip(res[hit].itertuples(index=False), msg[hit]):
            rows.append({"app": r.app, "cluster": r.cluster, "group": r.group,
                         "version": r.version, "kind": str(r.kind), "namespace": r.namespace,
                         "name": r.name, "message": m, "file": r.file, "line": r.line})
    if not rows:
        return None
    out = pd.DataFrame(rows)
    # the operation's message: the distinct failures of the app, sorted, joined by "; "
    joined = out.groupby("app")["message"].apply(lambda s: "; ".join(sorted(set(s))))
    out["detail"] = out["app"].map(lambda a: "the sync fails before anything is applied: "
                                   f"\"one or more synchronization tasks are not valid: "
                                   f"{joined[a]}\"")
    return out


def _resource_message(proj: Project, pj: Projects, group: str, kind: str, name: str,
                      namespace: str, namespaced: bool, a) -> str:
    if not proj.kind_permitted(group, kind, name, namespaced):
        return f"resource {group}:{kind} is not permitted in project {proj.name}"
    if namespaced:
        c_server, c_name, s_known, n_known = cluster_identity(
            a["destination_server"], a["destination_name"], pj.clusters)
        if proj.destination_permitted(c_server, c_name, namespace, s_known, n_known) is False:
            return f"namespace {namespace} is not permitted in project '{proj.name}'"
    return ""


_SOURCE = f"""{_CITE}: `controller/appcontroller.go` `refreshAppConditions`, `getAppProj`,
`projectErrorToCondition`; `util/argo/argo.go` `ValidatePermissions`;
`pkg/apis/application/v1alpha1/app_project_types.go`)"""

register(Rule(
    id="GA701", slug="project-missing", severity="error", argocd_condition="InvalidSpecError",
    summary="An app names an AppProject that does not exist",
    what=f"""An Application whose `spec.project` names no AppProject in Argo CD's namespace:
none in `apps/`, none rendered by an app, none in `--projects FILE`. `default` always exists
(argocd-server creates it). Only checked when projects are known at all: the dataset defines
some, or `--projects` is given. When an app that was not analysed could render it, the finding
is unproven {_SOURCE}.""",
    why="""Argo CD stops at the project lookup: the app gets `InvalidSpecError`, sync and health
`Unknown`, and nothing of it is compared or synced; apps that need its CRDs or namespaces fail
after it.""",
    example="""`Application referencing project team-a which does not exist`""",
    remediation="""Create the AppProject (in Argo CD's namespace), fix the name in `spec.project`,
or pass the projects kept outside the repository with `--projects`.""",
    check=check_project_missing))

register(Rule(
    id="GA702", slug="app-namespace-not-permitted", severity="error",
    argocd_condition="UnknownError",
    summary="An app outside Argo CD's namespace uses a project that does not list its namespace",
    what=f"""An Application in a namespace other than Argo CD's own whose project's
`sourceNamespaces` (globs, or `/regex/`) do not match that namespace
(`AppProject.IsAppNamespacePermitted`) {_SOURCE}.""",
    why="""The condition is `UnknownError` (not InvalidSpecError), and the app is not reconciled.
The controller must also list the namespace in `application.namespaces`, or it ignores the app
altogether (no status at all).""",
    example="""`application 'web' in namespace 'team-a' is not permitted to use project
'team-a'`""",
    remediation="""Add the namespace to the project's `spec.sourceNamespaces`, or move the
Application into Argo CD's namespace.""",
    check=check_app_namespace))

register(Rule(
    id="GA703", slug="project-source-not-permitted", severity="error",
    argocd_condition="InvalidSpecError",
    summary="An app's source repository is not in its project's sourceRepos",
    what=f"""A source whose `repoURL` matches no entry of the project's `sourceRepos`, or is
denied by a `!` entry. URLs are normalised as Argo CD does (lower case, no `.git`, scp-style
SSH as `host/path`); `*` stops at `/`, `**` crosses it. One finding per source; a single
source without `path` or `chart`, or a chart without `targetRevision`, is reported instead
(Argo CD checks the shape first) {_SOURCE}.""",
    why="""`InvalidSpecError`: the app is not reconciled at all.""",
    example="""`application repo https://github.com/acme/infra.git is not permitted in project
'team-a'`""",
    remediation="""Add the repository (or a glob) to the project's `sourceRepos`, or a
repository Secret with `project: <name>`.""",
    check=check_source))

register(Rule(
    id="GA704", slug="project-destination-not-permitted", severity="error",
    argocd_condition="InvalidSpecError",
    summary="An app's destination is not among its project's destinations",
    what=f"""An Application whose destination (cluster by server or name, and namespace) matches
no entry of the project's `destinations`, or is denied by a `!` entry; also a destination
with both `server` and `name`, or neither. `in-cluster` and https://kubernetes.default.svc are
the same cluster; for other clusters the unknown half (a server's name, a name's server) is
read from cluster Secrets in the dataset, and the finding is left out when the answer depends
on it. `permitOnlyProjectScopedClusters` is not decided {_SOURCE}.""",
    why="""`InvalidSpecError`: the app is not reconciled at all.""",
    example="""`application destination server 'https://kubernetes.default.svc' and namespace
'payments' do not match any of the allowed destinations in project 'team-a'`""",
    remediation="""Add the destination to the project (`server` or `name`, and `namespace`), or
point the app at an allowed namespace.""",
    check=check_destination))

register(Rule(
    id="GA705", slug="project-resource-not-permitted", severity="error",
    argocd_condition="SyncError",
    summary="A resource's kind or namespace is not allowed by the app's project",
    what=f"""A rendered resource (hooks too) that the project does not allow: a cluster-scoped
kind not in a non-empty `clusterResourceWhitelist` (absent or empty allows none), or in
`clusterResourceBlacklist`; a namespaced kind outside a present `namespaceResourceWhitelist`
(an empty list allows none) or in `namespaceResourceBlacklist` (`filepath.Match` globs); or a
namespaced resource whose own namespace is not among the project's destinations. Apps stopped
by an earlier project check and kinds excluded in argocd-cm are left out
{_CITE}: `controller/sync.go` `validateSyncPermissions`;
`gitops-engine/pkg/sync/sync_context.go`).""",
    why="""The comparison shows the resource with status Unknown; the sync validates every task
first and fails as a whole, before anything is applied: `one or more synchronization tasks are
not valid: ...`.""",
    example="""`resource rbac.authorization.k8s.io:ClusterRole is not permitted in project
team-a`; `namespace kube-system is not permitted in project 'team-a'`""",
    remediation="""Allow the kind in the project (`clusterResourceWhitelist` for cluster-scoped
kinds), move the resource to an app of a project that allows it, or add the namespace to the
project's destinations.""",
    check=check_resources))
