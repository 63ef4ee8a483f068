"""What an export says about the cluster, beyond its conditions: which objects exist, which
cannot, which sync is still being retried, which conditions only inform.

Argo CD 3.x keeps resource health in the resource tree by default
(``controller.resource.health.persist: false``, ``status.resourceHealthSource: appTree``,
``controller/health.go``), so a ``kubectl`` export has no ``status.resources[].health``;
``argocd app get`` fills it from the tree (``server/application/application.go``
``inferResourcesStatusHealth``: ``Missing`` for a node that was never created). Where health is
absent, the sync results say what cannot exist: an apply refused with ``namespaces "<ns>" not
found`` means nothing lives in that namespace, and a kind the API does not serve (``The
Kubernetes API could not find <group>/<Kind> ...``) has no object at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gitops_analysis.core.messages import namespace_not_found

#: conditions that inform and fail nothing (the issue's classification: Argo CD raises them
#: for objects it leaves alone)
INFORMATIONAL = frozenset({"OrphanedResourceWarning", "ExcludedResourceWarning"})
_NS_NOT_FOUND = re.compile(re.escape(namespace_not_found("@")).replace("@", '([^"]+)'))
_NO_KIND = re.compile(r"^The Kubernetes API could not find (?:version \"[^\"]*\" of )?"
                      r"([^ /]*)/([^ ]+) for requested resource")
#: health of an object that exists (health.go codes other than Missing and Unknown)
_PRESENT = frozenset({"Healthy", "Progressing", "Degraded", "Suspended"})


@dataclass
class LiveEvidence:
    """Facts read once from an export, keyed by app (``<namespace>/<name>``)."""

    absent_namespaces: dict[str, str] = field(default_factory=dict)  # ns -> app that said so
    absent_kinds: dict[tuple[str, str], str] = field(default_factory=dict)  # (group, kind)
    health: dict[tuple, str] = field(default_factory=dict)  # (app, g, k, ns, name) -> health
    status: dict[tuple, str] = field(default_factory=dict)  # ... -> Synced / OutOfSync
    by_namespace: dict[str, list[tuple]] = field(default_factory=dict)

    def missing(self, app: str, group: str, kind: str, namespace: str, name: str) -> str:
        """Why the object cannot be in the cluster, or ''."""
        if self.health.get((app, group, kind, namespace, name)) == "Missing":
            return "health Missing in status.resources"
        if namespace and namespace in self.absent_namespaces:
            who = self.absent_namespaces[namespace]
            return f"{namespace_not_found(namespace)} in the last sync of {who}"
        if (group, kind) in self.absent_kinds:
            return (f"the API serves no {group}/{kind} (last sync of "
                    f"{self.absent_kinds[(group, kind)]})")
        return ""

    def exists(self, app: str, group: str, kind: str, namespace: str, name: str) -> str:
        """How the export shows the object live and well (Healthy, or Synced without a health
        check), or ''."""
        key = (app, group, kind, namespace, name)
        health, status = self.health.get(key, ""), self.status.get(key, "")
        if health == "Healthy":
            return f"{kind}/{name} is Healthy in {app}'s status"
        if not health and status == "Synced":
            return f"{kind}/{name} is Synced in {app}'s status"
        return ""

    def namespace_exists(self, namespace: str) -> str:
        """An object of any app in ``namespace`` that is Synced or present: the namespace is
        there."""
        for key in self.by_namespace.get(namespace, ()):
            if self.health.get(key, "") in _PRESENT or self.status.get(key) == "Synced":
                return f"{key[2]}/{key[4]} of {key[0]} is live in namespace {namespace}"
        return ""


def evidence(live) -> LiveEvidence:
    ev = LiveEvidence()
    for r in live.live_resources.to_dict(orient="records"):
        if r["hook"]:
            continue
        key = (r["app"], r["group"], r["kind"], r["namespace"], r["name"])
        ev.health[key] = r["health"]
        ev.status[key] = r["status"]
        if r["namespace"]:
            ev.by_namespace.setdefault(r["namespace"], []).append(key)
    for r in live.sync_results.to_dict(orient="records"):
        if r["status"] != "SyncFailed":
            continue
        m = _NS_NOT_FOUND.fullmatch(r["message"])
        if m:
            ev.absent_namespaces.setdefault(m.group(1), r["app"])
        m = _NO_KIND.match(r["message"])
        if m:
            ev.absent_kinds.setdefault((m.group(1), m.group(2)), r["app"])
    return ev


def failed_attempt(op: dict) -> bool:
    """The operation failed, or its last attempt failed and it waits to retry."""
    return op["phase"] in ("Failed", "Error") or bool(op.get("retrying"))
