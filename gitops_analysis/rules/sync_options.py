"""Sync options that change what a sync does, and the ones Argo CD silently ignores.

Argo CD validates no sync option: ``spec.syncPolicy.syncOptions`` are matched as exact strings
(``SyncOptions.HasOption``, ``GetOptionValue`` on ``key=``), the resource annotation
``argocd.argoproj.io/sync-options`` is split on ``,`` and trimmed
(``gitops-engine/pkg/sync/resource/annotations.go``). Which option is read where: v3.5.1
``controller/sync.go``, ``controller/appcontroller.go`` ``shouldBeDeleted``,
``gitops-engine/pkg/sync/sync_context.go``; see ``docs/notes/argocd-conditions.md`` §E.
"""

from __future__ import annotations

import pandas as pd

from gitops_analysis.analysis.keys import apps_per_key
from gitops_analysis.load.applications import HOOK_WEIGHT_ANNOTATION, WAVE_ANNOTATION
from gitops_analysis.load.argo_objects import documents_at, projects_of
from gitops_analysis.load.exclusions import excluded_mask
from gitops_analysis.load.manifests import sync_wave
from gitops_analysis.rules.ownership import key_codes
from gitops_analysis.rules.registry import Rule, register

#: read from spec.syncPolicy.syncOptions (controller/sync.go, appcontroller.go)
APP_OPTIONS = frozenset({
    "CreateNamespace=true", "FailOnSharedResource=true", "PrunePropagationPolicy=background",
    "PrunePropagationPolicy=foreground", "PrunePropagationPolicy=orphan",
    "RespectIgnoreDifferences=true", "Validate=false", "PruneLast=true",
    "ApplyOutOfSyncOnly=true", "Replace=true", "ServerSideApply=true",
    "ClientSideApplyMigration=false", "SkipDryRunOnMissingResource=true",
    "Prune=false", "Prune=confirm", "Delete=false", "Delete=confirm"})
#: read from the resource annotation (sync_context.go, appcontroller.go)
RESOURCE_OPTIONS = frozenset({
    "SkipDryRunOnMissingResource=true", "PruneLast=true", "ServerSideApply=true",
    "ServerSideApply=false", "Replace=true", "Force=true", "Validate=false",
    "Prune=false", "Prune=confirm", "Delete=false", "Delete=confirm"})
#: the default spelled out: read nowhere or changing nothing, and harmless
DEFAULTS = frozenset({
    "Validate=true", "Replace=false", "ServerSideApply=false", "ApplyOutOfSyncOnly=false",
    "ClientSideApplyMigration=true", "CreateNamespace=false", "FailOnSharedResource=false",
    "PruneLast=false", "RespectIgnoreDifferences=false", "SkipDryRunOnMissingResource=false",
    "Prune=true", "Delete=true", "Force=false"})
_ANNOTATION = "argocd.argoproj.io/sync-options"
KEY = ["cluster", "group", "kind", "namespace", "name"]


def annotation_options(text: str) -> list[str]:
    """``GetAnnotationCSVs``: split on ``,``, trimmed, empty and repeated values dropped."""
    out: list[str] = []
    for item in text.split(","):
        v = item.strip()
        if v and v not in out:
            out.append(v)
    return out


#: compare options, read from the argocd.argoproj.io/compare-options annotation, never as sync
#: options (v3.5.1 controller/state.go: ServerSideDiff and IncludeMutationWebhook on the
#: Application, IgnoreExtraneous on a resource)
COMPARE_OPTIONS = frozenset({"ServerSideDiff=true", "ServerSideDiff=false",
                             "IncludeMutationWebhook=true", "IgnoreExtraneous"})


def _hint(option: str) -> str:
    for known in sorted(APP_OPTIONS | RESOURCE_OPTIONS | DEFAULTS):
        if option.replace(" ", "").lower() == known.lower():
            return f" (did you mean {known}?)"
    return ""


def option_problem(option: str, on_resource: bool) -> str:
    """Why Argo CD ignores ``option`` where it is written, or ''."""
    here, there = (RESOURCE_OPTIONS, APP_OPTIONS) if on_resource else \
        (APP_OPTIONS, RESOURCE_OPTIONS)
    if option in here or option in DEFAULTS:
        return ""
    if option in there:
        if on_resource:
            return (f"sync option {option} is read only from the Application's "
                    f"spec.syncPolicy.syncOptions: on a resource Argo CD ignores it")
        return (f"sync option {option} is read only from a resource's {_ANNOTATION} "
                "annotation: in spec.syncPolicy.syncOptions Argo CD ignores it")
    for known in sorted(COMPARE_OPTIONS):
        if option.replace(" ", "").lower() == known.lower():
            where = "resource" if known == "IgnoreExtraneous" else "Application"
            return (f"{option} is a compare option, not a sync option: Argo CD ignores it here "
                    f"(write argocd.argoproj.io/compare-options: {known} on the {where})")
    return f"sync option {option!r} is unknown to Argo CD and ignored{_hint(option)}"


def _app_location(a) -> dict:
    return {"app": a.app, "cluster": a.cluster, "group": "argoproj.io", "version": "v1alpha1",
            "kind": "Application", "namespace": a.app_namespace, "name": a.name,
            "file": a.file, "line": a.line}


def _res_location(r) -> dict:
    return {"app": r.app, "cluster": r.cluster, "group": r.group, "version": r.version,
            "kind": str(r.kind), "namespace": r.namespace, "name": r.name, "file": r.file,
            "line": r.line}


def check_unknown_option(ctx) -> list[dict] | None:
    ds = ctx.dataset
    rows = []
    for a in ds.apps.itertuples(index=False):
        for opt in a.sync_options:
            msg = option_problem(opt, on_resource=False)
            if msg:
                rows.append({**_app_location(a), "message": msg,
                             "detail": "Argo CD validates no sync option; this one changes "
                                       "nothing"})
    res = ds.resources
    annotated = res[res["sync_options"] != ""]
    memo: dict[str, list[str]] = {}
    for r in annotated.itertuples(index=False):
        if r.sync_options not in memo:
            memo[r.sync_options] = [m for m in (option_problem(o, on_resource=True) for o in
                                                annotation_options(r.sync_options)) if m]
        for msg in memo[r.sync_options]:
            rows.append({**_res_location(r), "message": msg,
                         "detail": f"{_ANNOTATION}: {r.sync_options}"})
    return rows or None


def check_wave(ctx) -> list[dict] | None:
    """Sync waves Argo CD cannot read (``strconv.Atoi`` fails): it falls back to
    ``helm.sh/hook-weight``, else 0, without a word."""
    ds = ctx.dataset
    rows = []
    notes = projects_of(ds, tuple(ctx.projects or ())).app_annotations
    for a in ds.apps.itertuples(index=False):
        notes_of_app = notes.get(a.app) or {}
        if WAVE_ANNOTATION in notes_of_app:
            msg = _wave_message(notes_of_app)
            if msg:
                rows.append({**_app_location(a), "message": msg,
                             "detail": "the parent app orders this Application as that wave"})
    warned = ds.warnings[(ds.warnings["part"] == "rendered") & (ds.warnings["doc_index"] >= 0)]
    if not warned.empty:
        res = ds.resources
        cand = res[res.set_index(["file", "doc_index"]).index.isin(
            pd.MultiIndex.from_frame(warned[["file", "doc_index"]]))]
        where = {(r.file, int(r.doc_index), int(r.item)): r for r in cand.itertuples(index=False)}
        for file, doc, item, _, data in documents_at(ds, set(where)):
            meta = data.get("metadata") if isinstance(data, dict) else None
            ann = meta.get("annotations") if isinstance(meta, dict) else None
            if isinstance(ann, dict) and WAVE_ANNOTATION in ann:
                msg = _wave_message(ann)
                if msg:
                    rows.append({**_res_location(where[(file, doc, item)]), "message": msg,
                                 "detail": "Argo CD gives no warning; the resource syncs in "
                                           "that wave"})
    return rows or None


def _wave_message(annotations: dict) -> str:
    wave, problem = sync_wave(annotations, "")
    if not problem:
        return ""
    raw = annotations.get(WAVE_ANNOTATION)
    shown = raw if isinstance(raw, str) else str(raw)
    weight = annotations.get(HOOK_WEIGHT_ANNOTATION)
    readable = weight is not None and not sync_wave({WAVE_ANNOTATION: weight}, "")[1]
    via = f" (its {HOOK_WEIGHT_ANNOTATION})" if readable else ""
    return f"sync-wave {shown!r} is not an integer Argo CD can read: it uses wave {wave}{via}"


def _managed_metadata(spec: dict | None) -> dict | None:
    policy = (spec or {}).get("syncPolicy")
    meta = policy.get("managedNamespaceMetadata") if isinstance(policy, dict) else None
    return meta if isinstance(meta, dict) else None


def check_managed_namespace(ctx) -> list[dict] | None:
    ds = ctx.dataset
    specs = projects_of(ds, tuple(ctx.projects or ())).app_specs
    res = ds.resources
    own_ns = res[(res["group"] == "") & (res["kind"].astype(str) == "Namespace") &
                 ~res["is_hook"]]
    renders = set(zip(own_ns["app"], own_ns["name"]))
    rows = []
    applied: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for a in ds.apps.itertuples(index=False):
        meta = _managed_metadata(specs.get(a.app))
        if meta is None:
            continue
        ns = a.destination_namespace
        if not a.create_namespace:
            msg = (f"managedNamespaceMetadata of {a.app} is ignored: Argo CD applies it only "
                   "with the sync option CreateNamespace=true")
        elif not ns:
            msg = (f"managedNamespaceMetadata of {a.app} is ignored: the app has no "
                   "destination namespace to create")
        elif (a.app, ns) in renders:
            msg = (f"managedNamespaceMetadata of {a.app} is ignored: the app renders Namespace "
                   f"{ns} itself, and Argo CD applies that manifest instead")
        else:
            applied.setdefault((a.cluster, ns), []).append((a.app, _canon(meta)))
            continue
        rows.append({**_app_location(a), "message": msg,
                     "detail": "controller/sync_namespace.go, gitops-engine autoCreateNamespace"})
    by_app = {a.app: a for a in ds.apps.itertuples(index=False)}
    for (_cluster, ns), entries in sorted(applied.items()):
        if len({m for _, m in entries}) < 2:
            continue
        names = sorted(a for a, _ in entries)
        for app in names:
            others = [o for o in names if o != app]
            rows.append({
                **_app_location(by_app[app]),
                "message": (f"{app} and {', '.join(others)} set different "
                            f"managedNamespaceMetadata on namespace {ns}: each sync applies "
                            "its own with server-side apply under the same field manager "
                            "(argocd-controller), removing the other's labels and annotations"),
                "detail": "the namespace's labels flip with every sync of either app",
                "related_apps": others})
    return rows or None


def _canon(meta: dict) -> str:
    parts = []
    for key in ("labels", "annotations"):
        value = meta.get(key)
        items = value.items() if isinstance(value, dict) else ()
        parts.append(sorted((str(k), str(v)) for k, v in items))
    return repr(parts)


def _protection(annotation: str, app_options: tuple[str, ...], key: str) -> str:
    """``GetAnnotationOptionValue`` on the object, else the app's ``GetOptionValue``."""
    for opt in annotation_options(annotation):
        if opt.startswith(key + "="):
            return opt[len(key) + 1:]
    for opt in app_options:
        if opt.startswith(key + "="):
            return opt[len(key) + 1:]
    return ""


def check_shared_protection(ctx) -> list[dict] | None:
    """Prune=false / Delete=false on a resource several apps deploy, in some but not all of
    them: the live object carries the annotations (and tracking) of the app that synced it
    last, and only that app prunes or deletes it."""
    ds = ctx.dataset
    res = ds.resources
    res = res[~res["is_hook"] & ~excluded_mask(res, ds.apps, getattr(ctx.settings,
                                                                      "resource_filter", None))]
    res = res.assign(kind=res["kind"].astype(str))
    # res.drop_duplicates(KEY + ["app"], keep="last"), the keys of several apps only
    kept, codes, counts = apps_per_key(res, KEY, "app", "last", *key_codes(ctx, res))
    shared = res[kept & (counts[codes] > 1)]
    if shared.empty:
        return None
    options = dict(zip(ds.apps["app"], ds.apps["sync_options"]))
    # only keys where some copy carries Prune= or Delete= (on itself or its app) can differ:
    # looking at just those keeps this linear in the resources, not in the shared keys
    guarded_apps = {a for a, opts in options.items()
                    if any(str(o).startswith(("Prune=", "Delete=")) for o in opts)}
    marked = shared["sync_options"].astype(str).str.contains("Prune=|Delete=", regex=True) | \
        shared["app"].isin(guarded_apps)
    if not marked.any():
        return None
    wanted = shared.loc[marked, KEY].drop_duplicates()
    shared = shared.merge(wanted, on=KEY, how="inner")
    rows = []
    for _key, f in shared.groupby(KEY, sort=True):
        for opt, verb in (("Delete", "deleting"), ("Prune", "pruning")):
            levels = {r.app: _protection(r.sync_options, options[r.app], opt)
                      for r in f.itertuples(index=False)}
            guarded = {a: v for a, v in levels.items() if v in ("false", "confirm")}
            if not guarded or len(set(levels.values())) < 2:
                continue
            for r in f.itertuples(index=False):
                if r.app not in guarded:
                    continue
                others = sorted(a for a, v in levels.items() if v != guarded[r.app])
                setting = f"{opt}={guarded[r.app]}"
                who = ", ".join(others)
                rows.append({
                    **_res_location(r),
                    "message": (f"{setting} on {r.kind}/{r.name} holds only while {r.app} "
                                f"synced it last: {who} deploy{'s' if len(others) == 1 else ''} "
                                f"it without {setting}, and {verb} {who} removes it"),
                    "detail": ("the live object carries the annotations and tracking of the "
                               "app that synced it last; only that app prunes or deletes it, "
                               "by its own options"),
                    "related_apps": others})
    return rows or None


_SRC = "Argo CD v3.5.1"

register(Rule(
    id="GA901", slug="unknown-sync-option", severity="warning", argocd_condition="",
    summary="A sync option Argo CD does not read where it is written",
    what=f"""A sync option in `spec.syncPolicy.syncOptions` or in a resource's
`argocd.argoproj.io/sync-options` annotation that Argo CD does not read there: misspelled
(matching is exact and case-sensitive: `createNamespace=true` does nothing), an option read
only at the other level (`CreateNamespace=true` on a resource, `Force=true` on the app), or an
unknown value. Options that spell out the default (`Validate=true`) are not reported
({_SRC}: `controller/sync.go`, `gitops-engine/pkg/sync/common/types.go`).""",
    why="""Argo CD never validates sync options and gives no warning: the behaviour the author
wanted silently does not happen.""",
    example="""`sync option 'createNamespace=true' is unknown to Argo CD and ignored (did you
mean CreateNamespace=true?)`""",
    remediation="""Spell the option exactly as Argo CD's documentation does, at the level where
it is read.""",
    check=check_unknown_option))

register(Rule(
    id="GA902", slug="sync-wave-not-integer", severity="warning", argocd_condition="",
    summary="A sync-wave annotation that is not an integer",
    what=f"""An Application or a rendered resource whose `argocd.argoproj.io/sync-wave` Go's
`strconv.Atoi` refuses (`"1.0"`, `" 1"`, `"one"`, out of range). Argo CD then uses
`helm.sh/hook-weight`, else 0 ({_SRC}: `gitops-engine/pkg/sync/syncwaves/waves.go`).""",
    why="""Argo CD says nothing: the object syncs in wave 0 (or its hook weight), ahead of or
together with what it was meant to follow.""",
    example="""`sync-wave '1.5' is not an integer Argo CD can read: it uses wave 0`""",
    remediation="""Write an integer, quoted: `argocd.argoproj.io/sync-wave: "2"`.""",
    check=check_wave))

register(Rule(
    id="GA903", slug="managed-namespace-metadata", severity="warning", argocd_condition="",
    summary="managedNamespaceMetadata that Argo CD ignores, or that two apps fight over",
    what=f"""`spec.syncPolicy.managedNamespaceMetadata` without `CreateNamespace=true`, with no
destination namespace, or in an app that renders its destination Namespace itself (Argo CD
applies that manifest instead); or two apps that create the same namespace with different
metadata ({_SRC}: `controller/sync_namespace.go`, `controller/state.go` `isManagedNamespace`,
`gitops-engine/pkg/sync/sync_context.go` `autoCreateNamespace`).""",
    why="""The labels and annotations the app declares for its namespace never arrive; or, when
two apps declare different ones, each sync applies its own set with server-side apply under
the same field manager and removes the other's: network policies or admission labels that
select on them come and go.""",
    example="""`managedNamespaceMetadata of argocd/web is ignored: Argo CD applies it only with
the sync option CreateNamespace=true`""",
    remediation="""Add `CreateNamespace=true`; or declare the Namespace with its labels in one
app only and drop managedNamespaceMetadata from the others.""",
    check=check_managed_namespace))

register(Rule(
    id="GA904", slug="shared-resource-protection", severity="warning", argocd_condition="",
    summary="Prune=false or Delete=false on a shared resource, set by only some of its apps",
    what=f"""A resource that several apps deploy, protected from pruning or from cascade deletion
(`Prune=false`/`confirm`, `Delete=false`/`confirm`, on the resource or as the app's default) in
some of them but not in others ({_SRC}: `controller/appcontroller.go` `shouldBeDeleted`,
`gitops-engine/pkg/sync/sync_context.go` `isPruningDisabled`).""",
    why="""The live object carries the annotations and the tracking of the app that synced it
last, and only that app prunes or deletes it, by its own options: the protection holds only
while a protecting app wrote it last. Deleting or pruning an unprotected app removes the object
the protected app still needs.""",
    example="""`Delete=false on PersistentVolumeClaim/data holds only while argocd/db synced it
last: argocd/backup deploys it without Delete=false, and deleting argocd/backup removes it`""",
    remediation="""Give the resource one owner; or set the same protection in every app that
deploys it.""",
    check=check_shared_protection))
