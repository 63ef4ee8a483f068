"""Built-in kinds written in an API version Kubernetes no longer serves.

Removed versions and the release that removed them are from the Kubernetes deprecation guide
(kubernetes.io/docs/reference/using-api/deprecation-guide/). Argo CD v3.5 is tested with
Kubernetes 1.33 to 1.36 (``docs/operator-manual/tested-kubernetes-versions.md``): every version
below was removed before 1.33, so no cluster Argo CD 3.5 supports serves it.

The sync's dry run gets "the server could not find the requested resource", which
``util/argo/argo.go`` ``AugmentSyncMsg`` rewrites: when the kind is served in another version, it
names that version; when the kind is gone altogether (PodSecurityPolicy), it says the kind could
not be found, as for a missing CRD.
"""

from __future__ import annotations

from gitops_analysis.core import messages
from gitops_analysis.rules.registry import Rule, register

#: (group, version) -> ({kind: the version served now, or '' when the kind is gone}, removed in)
REMOVED: dict[tuple[str, str], tuple[dict[str, str], str]] = {
    ("extensions", "v1beta1"): ({"DaemonSet": "apps/v1", "Deployment": "apps/v1",
                                 "ReplicaSet": "apps/v1", "NetworkPolicy": "networking.k8s.io/v1",
                                 "PodSecurityPolicy": "", "Ingress": "networking.k8s.io/v1"},
                                "1.16 (Ingress: 1.22)"),
    ("apps", "v1beta1"): ({"Deployment": "apps/v1", "StatefulSet": "apps/v1",
                           "ControllerRevision": "apps/v1"}, "1.16"),
    ("apps", "v1beta2"): ({"Deployment": "apps/v1", "StatefulSet": "apps/v1",
                           "DaemonSet": "apps/v1", "ReplicaSet": "apps/v1",
                           "ControllerRevision": "apps/v1"}, "1.16"),
    ("admissionregistration.k8s.io", "v1beta1"): (
        {"MutatingWebhookConfiguration": "admissionregistration.k8s.io/v1",
         "ValidatingWebhookConfiguration": "admissionregistration.k8s.io/v1"}, "1.22"),
    ("apiextensions.k8s.io", "v1beta1"): (
        {"CustomResourceDefinition": "apiextensions.k8s.io/v1"}, "1.22"),
    ("apiregistration.k8s.io", "v1beta1"): ({"APIService": "apiregistration.k8s.io/v1"}, "1.22"),
    ("certificates.k8s.io", "v1beta1"): (
        {"CertificateSigningRequest": "certificates.k8s.io/v1"}, "1.22"),
    ("coordination.k8s.io", "v1beta1"): ({"Lease": "coordination.k8s.io/v1"}, "1.22"),
    ("networking.k8s.io", "v1beta1"): ({"Ingress": "networking.k8s.io/v1",
                                        "IngressClass": "networking.k8s.io/v1"}, "1.22"),
    ("rbac.authorization.k8s.io", "v1beta1"): (
        dict.fromkeys(("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"),
                      "rbac.authorization.k8s.io/v1"), "1.22"),
    ("scheduling.k8s.io", "v1beta1"): ({"PriorityClass": "scheduling.k8s.io/v1"}, "1.22"),
    ("storage.k8s.io", "v1beta1"): ({"CSIDriver": "storage.k8s.io/v1",
                                     "CSINode": "storage.k8s.io/v1",
                                     "StorageClass": "storage.k8s.io/v1",
                                     "VolumeAttachment": "storage.k8s.io/v1",
                                     "CSIStorageCapacity": "storage.k8s.io/v1"},
                                    "1.22 (CSIStorageCapacity: 1.27)"),
    ("batch", "v1beta1"): ({"CronJob": "batch/v1"}, "1.25"),
    ("discovery.k8s.io", "v1beta1"): ({"EndpointSlice": "discovery.k8s.io/v1"}, "1.25"),
    ("events.k8s.io", "v1beta1"): ({"Event": "events.k8s.io/v1"}, "1.25"),
    ("autoscaling", "v2beta1"): ({"HorizontalPodAutoscaler": "autoscaling/v2"}, "1.25"),
    ("policy", "v1beta1"): ({"PodDisruptionBudget": "policy/v1", "PodSecurityPolicy": ""},
                            "1.25"),
    ("node.k8s.io", "v1beta1"): ({"RuntimeClass": "node.k8s.io/v1"}, "1.25"),
    ("autoscaling", "v2beta2"): ({"HorizontalPodAutoscaler": "autoscaling/v2"}, "1.26"),
    ("flowcontrol.apiserver.k8s.io", "v1beta1"): (
        {"FlowSchema": "flowcontrol.apiserver.k8s.io/v1",
         "PriorityLevelConfiguration": "flowcontrol.apiserver.k8s.io/v1"}, "1.26"),
    ("flowcontrol.apiserver.k8s.io", "v1beta2"): (
        {"FlowSchema": "flowcontrol.apiserver.k8s.io/v1",
         "PriorityLevelConfiguration": "flowcontrol.apiserver.k8s.io/v1"}, "1.29"),
    ("flowcontrol.apiserver.k8s.io", "v1beta3"): (
        {"FlowSchema": "flowcontrol.apiserver.k8s.io/v1",
         "PriorityLevelConfiguration": "flowcontrol.apiserver.k8s.io/v1"}, "1.32"),
}


def check_removed_version(ctx) -> list[dict] | None:
    res = ctx.dataset.resources
    versions = set(REMOVED)
    hit = res[[(g, v) in versions for g, v in zip(res["group"], res["version"])]]
    rows = []
    for r in hit.itertuples(index=False):
        kinds, removed = REMOVED[(r.group, r.version)]
        kind = str(r.kind)
        if kind not in kinds:
            continue
        now = kinds[kind]
        if now:
            group, _, installed = now.rpartition("/")
            msg = messages.crd_version_missing(r.version, r.group, kind, r.namespace, r.name,
                                               installed, group)
            todo = f"write it as {now}"
        else:
            msg = messages.crd_missing(r.group, kind, r.namespace, r.name)
            todo = "remove it: Kubernetes has no such kind any more"
        rows.append({"app": r.app, "cluster": r.cluster, "group": r.group,
                     "version": r.version, "kind": kind, "namespace": r.namespace,
                     "name": r.name, "message": msg, "file": r.file, "line": r.line,
                     "detail": f"{r.group}/{r.version} {kind} was removed in Kubernetes "
                               f"{removed}; Argo CD 3.5 is tested with 1.33 to 1.36: {todo}"})
    return rows or None


register(Rule(
    id="GA304", slug="api-version-removed", severity="error", argocd_condition="SyncError",
    summary="A built-in kind written in an API version Kubernetes no longer serves",
    what="""A resource of a built-in kind whose `apiVersion` Kubernetes removed
(`rbac.authorization.k8s.io/v1beta1`, `extensions/v1beta1`, `policy/v1beta1`,
`batch/v1beta1`...; the Kubernetes deprecation guide), before 1.33, the oldest release Argo CD
3.5 is tested with (`docs/operator-manual/tested-kubernetes-versions.md`). Charts and manifests
copied from old examples carry them.""",
    why="""The dry run of the sync cannot find the resource in that version and the sync fails;
Argo CD (`util/argo/argo.go` `AugmentSyncMsg`) names the version the cluster serves instead, or,
for a kind that is gone (PodSecurityPolicy), says it could not be found.""",
    example="""`The Kubernetes API could not find version "v1beta1" of
rbac.authorization.k8s.io/ClusterRole for requested resource /reader. Version "v1" of
rbac.authorization.k8s.io/ClusterRole is installed on the destination cluster.`""",
    remediation="""Write the resource in the served version (the detail says which; fields may
differ, see the deprecation guide), or drop kinds Kubernetes removed.""",
    check=check_removed_version))
