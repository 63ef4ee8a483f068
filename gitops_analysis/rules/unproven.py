"""Certain or unproven: a finding that says something is missing (a CRD, a namespace, the
Service of a webhook) is only certain when every app that could supply it was analysed.

When an app that is partial or not analysed could supply it, the finding is ``unproven``: at
most a warning, naming in ``could_come_from`` the apps that might supply it, best first. An
unproven finding is no root of a cascade: the cascade runs on certain errors only.
"""

from __future__ import annotations

from dataclasses import replace

from gitops_analysis.analysis.coverage import Coverage, group_words, supply_candidates
from gitops_analysis.core.findings import Finding

# what each rule says is missing, read from the finding's fields
_CRD_NEEDS = frozenset({"crd-missing", "crd-late", "unknown-scope"})
_NAMESPACE_NEEDS = frozenset({"namespace-not-created", "namespace-late"})
_SERVICE_NEEDS = frozenset({"webhook-unavailable"})
_CHAIN_NEEDS = frozenset({"blocked-by-dependency"})


def _candidates(f: Finding, ds, cov: Coverage) -> list[str]:
    if f.slug in _CRD_NEEDS:
        return supply_candidates(ds, cov, cluster=f.cluster,
                                 words=group_words(f.group) | group_words(f.kind))
    if f.slug in _NAMESPACE_NEEDS:
        return supply_candidates(ds, cov, cluster=f.cluster, words=group_words(f.name),
                                 namespace=f.name)
    if f.slug in _SERVICE_NEEDS:
        words: set[str] = set()
        for app in f.related_apps:
            words |= group_words(app)
        return supply_candidates(ds, cov, cluster=f.cluster, words=words)
    if f.slug in _CHAIN_NEEDS and f.chain:
        need = f.chain[0]
        if need.kind == "Namespace":
            return supply_candidates(ds, cov, cluster=f.cluster, words=group_words(need.name),
                                     namespace=need.name)
        return supply_candidates(ds, cov, cluster=f.cluster, words=group_words(need.name))
    return []


# findings that hold only if Argo CD runs in the namespace assumed for it (it reads
# AppProjects there, and admits Applications of other namespaces only when told)
_CONTROL_NAMESPACE_NEEDS = frozenset({"app-namespace-not-permitted", "project-missing"})


def _control_namespace_in_doubt(ds) -> bool:
    """No Application lives in the namespace taken as Argo CD's: the guess (``argocd``, or
    --argocd-namespace) is likely wrong, e.g. OpenShift GitOps runs in openshift-gitops."""
    ctl = getattr(ds, "argocd_namespace", "")
    return bool(len(ds.apps)) and not (ds.apps["app_namespace"] == ctl).any()


# findings that rest on Argo CD's settings (argocd-cm): the stock ones unless given or deployed
_SETTINGS_NEEDS = frozenset({"app-health-missing", "excluded-resource"})
_CONFIG_WORDS = frozenset({"argocd", "argo", "gitops"})


def config_candidates(ds, cov: Coverage) -> list[str]:
    """Apps not fully analysed, which may deploy Argo CD's settings (argocd-cm, an ``ArgoCD``
    resource): best first, those whose destination is Argo CD's namespace, or whose name or
    path says Argo CD."""
    doubt = set(cov.apps_in_doubt())
    ctl = getattr(ds, "argocd_namespace", "")
    scored = []
    for a in ds.apps[ds.apps["app"].isin(doubt)].itertuples(index=False):
        words = group_words(a.name)  # not its namespace: openshift-gitops/x is no hint
        for p in a.source_paths or ():
            words |= group_words(p.replace("/", "-"))
        # a name or path that says Argo CD weighs more than deploying into its namespace
        score = 2 * len(words & _CONFIG_WORDS) + (a.destination_namespace == ctl)
        scored.append((-score, a.app))  # any of them may: what it deploys was not read
    return [name for _, name in sorted(scored)]


def _other_control_namespaces(ds) -> set[str]:
    """Namespaces of Applications, other than the one taken as Argo CD's, that are named like
    an Argo CD's own (``openshift-gitops``, ``argocd``, ``*-gitops``...): a repository may hold
    the apps of two Argo CD installations, and each admits only its own."""
    ctl = getattr(ds, "argocd_namespace", "")
    return {ns for ns in set(ds.apps["app_namespace"]) if ns != ctl and
            ("argocd" in ns or "argo-cd" in ns or ns == "gitops" or ns.endswith("-gitops"))}


def weigh(found: list[Finding], ds, cov: Coverage, *, settings_known: bool = True
          ) -> list[Finding]:
    """``found`` with every finding whose cause an unanalysed app could supply made unproven,
    every finding that rests on a doubtful control-plane namespace, and (``settings_known``
    False: no argocd-cm given or deployed) every finding that rests on the stock argocd-cm
    while an app that was not analysed may deploy another."""
    if _control_namespace_in_doubt(ds):
        ns = sorted(set(ds.apps["app_namespace"]))
        hint = (f"no Application lives in {ds.argocd_namespace}, the namespace taken as Argo "
                f"CD's; if Argo CD runs in {ns[0]}, pass --argocd-namespace {ns[0]}")
        found = [replace(f, confidence="unproven", detail="; ".join(x for x in (f.detail, hint)
                                                                   if x),
                         severity="warning" if f.severity == "error" else f.severity)
                 if f.slug in _CONTROL_NAMESPACE_NEEDS else f for f in found]
    others = _other_control_namespaces(ds) if any(
        f.slug in _CONTROL_NAMESPACE_NEEDS for f in found) else set()
    if others:
        def doubted(f: Finding) -> Finding:
            ns = f.app.partition("/")[0]
            hint = (f"{ns} may be the namespace of another Argo CD, whose own apps these are; "
                    f"check them with --argocd-namespace {ns}")
            return replace(f, confidence="unproven",
                           detail="; ".join(x for x in (f.detail, hint) if x),
                           severity="warning" if f.severity == "error" else f.severity)
        found = [doubted(f) if f.slug in _CONTROL_NAMESPACE_NEEDS and
                 f.app.partition("/")[0] in others else f for f in found]
    if cov.complete:
        return found
    config = [] if settings_known or not any(f.slug in _SETTINGS_NEEDS for f in found) \
        else config_candidates(ds, cov)
    out = []
    for f in found:
        if config and f.slug in _SETTINGS_NEEDS:
            hint = ("no argocd-cm was given (--argocd-cm) and no analysed app deploys one; "
                    f"{config[0]}, not analysed, may deploy Argo CD's settings")
            out.append(replace(f, confidence="unproven", could_come_from=tuple(config),
                               detail="; ".join(x for x in (f.detail, hint) if x),
                               severity="warning" if f.severity == "error" else f.severity))
            continue
        candidates = _candidates(f, ds, cov)
        if candidates:
            f = replace(f, confidence="unproven", could_come_from=tuple(candidates),
                        severity="warning" if f.severity == "error" else f.severity)
        out.append(f)
    return out
