"""Static knowledge of the Kubernetes API: the scope and resource name of every built-in kind.

Argo CD learns a kind's scope from the destination cluster's API discovery. Without a cluster
we use the scopes of the built-in Kubernetes kinds (stable across 1.2x-1.3x), plus every
CustomResourceDefinition found in any rendered app, plus an optional ``kubectl api-resources``
listing. Anything else is ``Unknown`` and is said so, never guessed.
"""

from __future__ import annotations

NAMESPACED = "Namespaced"
CLUSTER = "Cluster"
UNKNOWN = "Unknown"
SCOPES = (NAMESPACED, CLUSTER, UNKNOWN)

_NAMESPACED_KINDS = {
    "": ["Binding", "ConfigMap", "Endpoints", "Event", "LimitRange", "PersistentVolumeClaim",
         "Pod", "PodTemplate", "ReplicationController", "ResourceQuota", "Secret", "Service",
         "ServiceAccount"],
    "apps": ["ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"],
    "autoscaling": ["HorizontalPodAutoscaler"],
    "batch": ["CronJob", "Job"],
    "coordination.k8s.io": ["Lease"],
    "discovery.k8s.io": ["EndpointSlice"],
    "events.k8s.io": ["Event"],
    "extensions": ["DaemonSet", "Deployment", "Ingress", "NetworkPolicy", "ReplicaSet"],
    "networking.k8s.io": ["Ingress", "NetworkPolicy"],
    "policy": ["PodDisruptionBudget"],
    "rbac.authorization.k8s.io": ["Role", "RoleBinding"],
    "resource.k8s.io": ["ResourceClaim", "ResourceClaimTemplate"],
    "storage.k8s.io": ["CSIStorageCapacity"],
    "authorization.k8s.io": ["LocalSubjectAccessReview"],
    "metrics.k8s.io": ["PodMetrics"],
}

_CLUSTER_KINDS = {
    "": ["ComponentStatus", "Namespace", "Node", "PersistentVolume"],
    "admissionregistration.k8s.io": ["MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding",
                                     "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy",
                                     "ValidatingAdmissionPolicyBinding",
                                     "ValidatingWebhookConfiguration"],
    "apiextensions.k8s.io": ["CustomResourceDefinition"],
    "apiregistration.k8s.io": ["APIService"],
    "authentication.k8s.io": ["SelfSubjectReview", "TokenReview"],
    "authorization.k8s.io": ["SelfSubjectAccessReview", "SelfSubjectRulesReview",
                             "SubjectAccessReview"],
    "certificates.k8s.io": ["CertificateSigningRequest", "ClusterTrustBundle"],
    "flowcontrol.apiserver.k8s.io": ["FlowSchema", "PriorityLevelConfiguration"],
    "networking.k8s.io": ["IPAddress", "IngressClass", "ServiceCIDR"],
    "node.k8s.io": ["RuntimeClass"],
    "policy": ["PodSecurityPolicy"],
    "rbac.authorization.k8s.io": ["ClusterRole", "ClusterRoleBinding"],
    "resource.k8s.io": ["DeviceClass", "ResourceSlice"],
    "scheduling.k8s.io": ["PriorityClass"],
    "storage.k8s.io": ["CSIDriver", "CSINode", "StorageClass", "VolumeAttachment",
                       "VolumeAttributesClass"],
    "metrics.k8s.io": ["NodeMetrics"],
}

#: (group, kind) -> scope of every built-in Kubernetes kind.
BUILTIN_SCOPES: dict[tuple[str, str], str] = {
    **{(g, k): NAMESPACED for g, ks in _NAMESPACED_KINDS.items() for k in ks},
    **{(g, k): CLUSTER for g, ks in _CLUSTER_KINDS.items() for k in ks},
}

#: Argo CD's own kinds: their CRDs exist wherever Argo CD runs.
ARGOCD_KINDS: dict[tuple[str, str], str] = {
    ("argoproj.io", "Application"): NAMESPACED,
    ("argoproj.io", "ApplicationSet"): NAMESPACED,
    ("argoproj.io", "AppProject"): NAMESPACED,
}

#: Namespaces every cluster has.
BUILTIN_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")

def split_api_version(api_version: str) -> tuple[str, str]:
    """``apps/v1`` -> (``apps``, ``v1``); ``v1`` -> (``""``, ``v1``)."""
    if "/" in api_version:
        group, _, version = api_version.rpartition("/")
        return group, version
    return "", api_version


#: Built-in kinds whose resource name (plural) is not ``kind.lower() + "s"``.
_IRREGULAR_PLURALS = {
    "Endpoints": "endpoints", "Ingress": "ingresses", "IngressClass": "ingressclasses",
    "NetworkPolicy": "networkpolicies", "PodSecurityPolicy": "podsecuritypolicies",
    "StorageClass": "storageclasses", "PriorityClass": "priorityclasses",
    "RuntimeClass": "runtimeclasses", "DeviceClass": "deviceclasses",
    "PodDisruptionBudget": "poddisruptionbudgets", "ResourceQuota": "resourcequotas",
    "PodMetrics": "pods", "NodeMetrics": "nodes", "ComponentStatus": "componentstatuses",
    "ServiceCIDR": "servicecidrs", "IPAddress": "ipaddresses",
    "VolumeAttributesClass": "volumeattributesclasses",
    "MutatingAdmissionPolicy": "mutatingadmissionpolicies",
    "ValidatingAdmissionPolicy": "validatingadmissionpolicies",
    "FlowSchema": "flowschemas", "PriorityLevelConfiguration": "prioritylevelconfigurations",
    "ClusterTrustBundle": "clustertrustbundles",
}


def builtin_plural(kind: str) -> str:
    """The resource name (plural) of a built-in kind, as webhook rules name it."""
    if kind in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[kind]
    low = kind.lower()
    if low.endswith(("s", "x", "ch", "sh")):
        return low + "es"
    if low.endswith("y") and low[-2:-1] not in "aeiou":
        return low[:-1] + "ies"
    return low + "s"
