"""Which kinds Argo CD leaves out: argocd-cm ``resource.exclusions`` / ``resource.inclusions``.

Read from Argo CD's source (argoproj/argo-cd v3.5.1, ``docs/notes/argocd-conditions.md`` §D):

- ``util/settings/filtered_resource.go``: an entry is ``{apiGroups, kinds, clusters}``; an empty
  list matches everything; ``apiGroups`` and ``clusters`` are globs (``util/glob.Match``, no
  separators), ``kinds`` an exact name or ``*``. The lists form a cross product.
- ``util/settings/resources_filter.go``: the core exclusions (``events.k8s.io`` and
  ``metrics.k8s.io``, core ``Event``, ``coordination.k8s.io`` ``Lease``) always apply, before
  the configured ones. ``IsExcludedResource``: excluded if core or configured exclusions
  match; else kept if an inclusion matches; else excluded if any inclusion names this cluster;
  else kept.
- ``util/settings/settings.go`` ``GetResourcesFilter``: a key present in argocd-cm replaces
  the stock list entirely; a key absent means no configured list.
- ``manifests/base/config/argocd-cm.yaml``: the stock ``resource.exclusions`` (Argo CD 3.0+),
  used here when no argocd-cm is given.
- ``controller/state.go`` (R:756-760): every target object whose group/kind is excluded for
  the destination cluster's URL is removed from the targets, with one
  ``ExcludedResourceWarning`` each: ``Resource <group>/<kind> <name> is excluded in the
  settings``. Excluded objects are neither compared, synced, pruned nor tracked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gitops_analysis.core.errors import InputError
from gitops_analysis.core.globs import glob_match
from gitops_analysis.load.yaml_reader import parse_text

IN_CLUSTER = "https://kubernetes.default.svc"


@dataclass(frozen=True)
class FilteredResource:
    """One entry of resource.exclusions / resource.inclusions (``FilteredResource``)."""

    api_groups: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    clusters: tuple[str, ...] = ()

    def match_group(self, group: str) -> bool:
        return not self.api_groups or any(glob_match(g, group) for g in self.api_groups)

    def match_kind(self, kind: str) -> bool:
        return not self.kinds or any(k == "*" or k == kind for k in self.kinds)

    def match_cluster(self, cluster: str) -> bool:
        return not self.clusters or any(glob_match(c, cluster) for c in self.clusters)

    def match(self, group: str, kind: str, cluster: str) -> bool:
        return self.match_group(group) and self.match_kind(kind) and self.match_cluster(cluster)


def _entries(rows: Iterable[tuple[Iterable[str], Iterable[str]]]) -> tuple[FilteredResource, ...]:
    return tuple(FilteredResource(tuple(g), tuple(k)) for g, k in rows)


#: util/settings/resources_filter.go coreExcludedResources: always applied
CORE_EXCLUSIONS = _entries([
    (("events.k8s.io", "metrics.k8s.io"), ()),
    (("",), ("Event",)),
    (("coordination.k8s.io",), ("Lease",)),
])

_REPORTS = ("PolicyReport", "ClusterPolicyReport", "EphemeralReport", "ClusterEphemeralReport",
            "AdmissionReport", "ClusterAdmissionReport", "BackgroundScanReport",
            "ClusterBackgroundScanReport", "UpdateRequest")
#: manifests/base/config/argocd-cm.yaml resource.exclusions (v3.5.1, the same on master)
STOCK_EXCLUSIONS = _entries([
    (("", "discovery.k8s.io"), ("Endpoints", "EndpointSlice")),
    (("coordination.k8s.io",), ("Lease",)),
    (("authentication.k8s.io", "authorization.k8s.io"),
     ("SelfSubjectReview", "TokenReview", "LocalSubjectAccessReview", "SelfSubjectAccessReview",
      "SelfSubjectRulesReview", "SubjectAccessReview")),
    (("certificates.k8s.io",), ("CertificateSigningRequest",)),
    (("cert-manager.io",), ("CertificateRequest",)),
    (("cilium.io",), ("CiliumIdentity", "CiliumEndpoint", "CiliumEndpointSlice")),
    (("kyverno.io", "reports.kyverno.io", "wgpolicyk8s.io"), _REPORTS),
])


@dataclass(frozen=True)
class ResourceFilter:
    """Argo CD's ResourcesFilter with the core list in front; ``origin`` says where the
    configured lists come from (for the finding's detail)."""

    exclusions: tuple[FilteredResource, ...] = STOCK_EXCLUSIONS
    inclusions: tuple[FilteredResource, ...] = ()
    origin: str = "the stock argocd-cm (no argocd-cm given)"

    def is_excluded(self, group: str, kind: str, cluster: str) -> bool:
        """``ResourcesFilter.IsExcludedResource(group, kind, cluster URL)``."""
        return self.why_excluded(group, kind, cluster) != ""

    def why_excluded(self, group: str, kind: str, cluster: str) -> str:
        """'' when kept, else which list excludes it: ``core``, ``resource.exclusions`` or
        ``resource.inclusions``."""
        if any(f.match(group, kind, cluster) for f in CORE_EXCLUSIONS):
            return "core"
        if any(f.match(group, kind, cluster) for f in self.exclusions):
            return "resource.exclusions"
        if any(f.match(group, kind, cluster) for f in self.inclusions):
            return ""
        if any(f.match_cluster(cluster) for f in self.inclusions):
            return "resource.inclusions"
        return ""


DEFAULT_FILTER = ResourceFilter()


def parse_filtered(value: Any) -> tuple[tuple[FilteredResource, ...], str | None]:
    """A parsed ``resource.exclusions`` / ``resource.inclusions`` value -> entries, or why it
    cannot be one (Argo CD's controller then fails to read its settings)."""
    if value is None:
        return (), None
    if not isinstance(value, list):
        return (), "is not a YAML list of {apiGroups, kinds, clusters}"
    out = []
    for i, entry in enumerate(value):
        if not isinstance(entry, dict):
            return (), f"entry {i} is not a mapping"
        lists = []
        for key in ("apiGroups", "kinds", "clusters"):
            items = entry.get(key)
            if items is None:
                items = []
            if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
                return (), f"entry {i}: {key} is not a list of strings"
            lists.append(tuple(items))
        out.append(FilteredResource(*lists))
    return tuple(out), None


EXCLUSIONS_KEY = "resource.exclusions"
INCLUSIONS_KEY = "resource.inclusions"


def filter_from_configmap(data: dict, file: str, line: int) -> ResourceFilter:
    """argocd-cm's ``data`` -> its ResourceFilter. A key that is absent configures no list (the
    core exclusions still apply); a value that is not a list of entries is an input error, as
    Argo CD's controller cannot read its settings then."""
    lists: dict[str, tuple[FilteredResource, ...]] = {}
    for key in (EXCLUSIONS_KEY, INCLUSIONS_KEY):
        raw = data.get(key)
        if raw is None:
            lists[key] = ()
            continue
        if not isinstance(raw, str):
            raise InputError(f"{key} is not a YAML string", file=file, line=line or None,
                             todo="write it as a block (|) holding a YAML list")
        doc = parse_text(raw, file, line)
        if doc.error:
            raise doc.error.input_error()
        entries, problem = parse_filtered(doc.data)
        if problem:
            raise InputError(f"{key} {problem}", file=file, line=line or None,
                             todo="write a list of {apiGroups, kinds, clusters} entries")
        lists[key] = entries
    return ResourceFilter(exclusions=lists[EXCLUSIONS_KEY], inclusions=lists[INCLUSIONS_KEY],
                          origin=f"argocd-cm ({file})")


def cluster_url(server: str, name: str) -> str:
    """The cluster URL the filter is asked about: the destination server (trailing ``/``
    trimmed, as ``GetDestinationServer`` does), ``in-cluster``'s URL, else the name (a named
    cluster's URL is in its Secret, which the repository does not show)."""
    if server:
        return server.rstrip("/")
    return IN_CLUSTER if name == "in-cluster" else name


def excluded_mask(resources, apps, rf: ResourceFilter | None):
    """A boolean Series over ``resources``: the rows Argo CD leaves out of the app (excluded
    for its destination cluster). ``rf`` None: the stock argocd-cm."""
    import pandas as pd

    rf = rf or DEFAULT_FILTER
    if resources.empty:
        return pd.Series(False, index=resources.index, dtype=bool)
    urls = {a: cluster_url(s, n) for a, s, n in
            zip(apps["app"], apps["destination_server"], apps["destination_name"])}
    # the common case first: no (group, kind) is excluded for any of the apps' clusters, seen
    # from the distinct kinds and clusters alone (no per-row key to build and merge)
    wanted = {urls.get(a, "") for a in resources["app"].unique()}
    pairs = resources[["group", "kind"]].drop_duplicates()
    if not any(rf.is_excluded(g, str(k), u) for g, k in pairs.itertuples(index=False)
               for u in wanted):
        return pd.Series(False, index=resources.index, dtype=bool)
    keys = pd.DataFrame({"app": resources["app"].to_numpy(),
                         "group": resources["group"].to_numpy(),
                         "kind": resources["kind"].astype(str).to_numpy()})
    kinds = keys.drop_duplicates()  # decide once per app and kind
    kinds = kinds.assign(excluded=[rf.is_excluded(g, k, urls.get(a, "")) for a, g, k in
                                   kinds.itertuples(index=False)])
    merged = keys.merge(kinds, on=["app", "group", "kind"], how="left", sort=False)
    return pd.Series(merged["excluded"].to_numpy(dtype=bool), index=resources.index)
