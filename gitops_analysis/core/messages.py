"""Argo CD's own messages, character for character (sources in each docstring).

Users paste these into a search box, so they are reproduced exactly, never paraphrased.
"""

from __future__ import annotations


def shared_resource(kind: str, name: str, app_qualified: str, other_instance: str) -> str:
    """controller/state.go: ``%s/%s is part of applications %s and %s`` with the live kind and
    name, ``app.QualifiedName()`` and the other app's instance name with ``_`` -> ``/``."""
    return f"{kind}/{name} is part of applications {app_qualified} and " \
           f"{other_instance.replace('_', '/')}"


def shared_resource_failed(condition_message: str) -> str:
    """controller/sync.go, sync option FailOnSharedResource=true."""
    return "Shared resource found: " + condition_message


def repeated_resource(group: str, kind: str, namespace: str, name: str, times: int) -> str:
    """controller/state.go, key printed by kube.ResourceKey.String() (group/kind/ns/name)."""
    return f"Resource {group}/{kind}/{namespace}/{name} appeared {times} times among " \
           "application resources."


def namespace_missing(name: str, group: str, version: str, kind: str) -> str:
    """controller/state.go; the GVK printed by apimachinery's GroupVersionKind.String()."""
    return f"Namespace for {name} {group}/{version}, Kind={kind} is missing."


def crd_missing(group: str, kind: str, namespace: str, name: str) -> str:
    """util/argo/argo.go AugmentSyncMsg (Argo CD >= 2.7)."""
    return (f"The Kubernetes API could not find {group}/{kind} for requested resource "
            f"{namespace}/{name}. Make sure the \"{kind}\" CRD is installed on the destination "
            "cluster.")


def crd_version_missing(version: str, group: str, kind: str, namespace: str, name: str,
                        installed: str, installed_group: str | None = None) -> str:
    """util/argo/argo.go AugmentSyncMsg, when another version of the kind is installed (in
    ``installed_group`` when the kind is served in another group only: it looks the kind up in
    its group first, then in any group)."""
    other = group if installed_group is None else installed_group
    return (f"The Kubernetes API could not find version \"{version}\" of {group}/{kind} for "
            f"requested resource {namespace}/{name}. Version \"{installed}\" of {other}/{kind} "
            "is installed on the destination cluster.")


def namespace_not_found(namespace: str) -> str:
    """The API server's answer when applying into a namespace that does not exist."""
    return f'namespaces "{namespace}" not found'


def apply_failed(reason: str) -> str:
    """The sync operation's message when an apply fails (gitops-engine sync_context.go)."""
    return f"one or more objects failed to apply, reason: {reason}"


def webhook_service_not_found(webhook: str, service: str, namespace: str, port: int, path: str,
                              timeout_seconds: int) -> str:
    """The API server's answer when an admission webhook (failurePolicy Fail) calls a Service
    that does not exist (apiserver pkg/admission/plugin/webhook: ``failed calling webhook``
    wrapping the client's ``Post "<url>?timeout=<n>s"`` error); Argo CD shows it unchanged as
    the sync result's message."""
    url = f"https://{service}.{namespace}.svc:{port}{path}?timeout={timeout_seconds}s"
    return (f"Internal error occurred: failed calling webhook \"{webhook}\": failed to call "
            f"webhook: Post \"{url}\": service \"{service}\" not found")


def comparison_error(load_error: str) -> str:
    """controller/state.go CompareAppState: the ComparisonError of an app whose target state
    cannot be loaded; ``load_error`` is what follows (``failed to generate manifest for source
    %d of %d: <repo server error>``)."""
    return "Failed to load target state: " + load_error
