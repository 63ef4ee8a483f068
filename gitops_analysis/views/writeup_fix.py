"""The part of the write-up's model that comes from the fix: what changes, what its proof says,
and the facts the validation and deployment commands are made of."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd
import yaml

from gitops_analysis.analysis.origins import resource_origins
from gitops_analysis.load.yaml_reader import read_text
from gitops_analysis.views.writeup_docs import sync_policy

_HASH_SUFFIX = re.compile(r"-[a-z0-9]{10}$")
_SHARED = ("shared-resource", "shared-crd")


@dataclass(frozen=True)
class NamespaceFix:
    app: str
    kind: str
    name: str
    namespace: str
    in_kustomization: bool  # the generated kustomization already sets it
    reason: str  # why that namespace


@dataclass(frozen=True)
class FixFacts:
    total: int  # resources of the root before the fix
    kept: int  # after
    owners: tuple[tuple[str, int], ...]  # apps that take resources over from the root
    kept_back: int  # shared resources the root keeps (the other apps drop them)
    others_lose: tuple[tuple[str, int], ...]  # other apps that drop resources
    kustomization: dict | None  # the generated kustomization of the root, when written
    not_written: str  # why no kustomization was written ('' when written or not needed)
    has_origins: bool  # the root's render carries origin data (kustomize's annotation)
    rendered: dict | None  # the real render of that kustomization: ok, message
    namespace_fixes: tuple[NamespaceFix, ...]
    wave_changes: tuple[tuple[str, int, int], ...]
    skip_dry_run: tuple[str, ...]
    health_snippet: bool
    errors_before: int  # findings of severity error, before and after
    errors_after: int
    warnings_after: int
    shared_before: int  # shared resources (keys, counted once) in the dataset
    shared_after: int
    remaining: tuple[tuple[str, str], ...]  # (app, message) left after the fix
    ok: bool
    # every error left after the fix, (app, slug, message): what is changed by hand, or not
    # part of the incident
    errors_left: tuple[tuple[str, str, str], ...]
    needed_crds: tuple[tuple[str, str], ...]  # (group/Kind, CRD name) others need, still kept
    kept_by_namespace: tuple[tuple[str, int], ...]
    kept_cluster_scoped: int
    kept_crds: int
    kept_sources: tuple[str, ...]

    @property
    def narrows(self) -> bool:
        return self.kept < self.total


@dataclass(frozen=True)
class Setup:
    """The facts the commands are made of."""

    dataset: str  # as the user named it
    repo: str  # the source repository as the user named it ('' when not given)
    repo_url: str
    revision: str
    argocd_namespace: str
    app_name: str  # metadata.name of the root's Application
    app_file: str  # its file in the dataset
    source_paths: tuple[str, ...]
    path_line: int  # the line of spec.source.path in the Application file (0: not found)
    wave_lines: tuple[tuple[str, str, str, int, int], ...]  # (app, name, file, line, new wave)
    new_path: str  # the folder of the narrowed kustomization in the repository
    instance: str
    rendered_file: str  # the root's rendered file in a dataset
    prune: bool
    self_heal: bool
    automated: bool
    parent: tuple[str, str] | None  # (app of apps, repository file) that defines the root
    fix_dir: str  # where the fix's files are beside the write-up ('' when not written; set by
    # the template, as the write-up is placed)
    sync_order: tuple[tuple[int, tuple[str, ...]], ...]
    failing: bool  # the root fails today (it never applied anything)
    # the ArgoCD resource through which argocd-operator (OpenShift GitOps) writes argocd-cm
    # ('' when nothing says an operator manages this Argo CD)
    argocd_resource: str = ""


def _argocd_resource(ds) -> str:
    """The ArgoCD resource in Argo CD's namespace that an app deploys; on OpenShift GitOps
    (namespace openshift-gitops) the operator's default instance, named like it."""
    res = ds.resources
    cr = res[(res["group"] == "argoproj.io") & (res["kind"] == "ArgoCD") &
             (res["namespace"] == ds.argocd_namespace)]
    if len(cr):
        return str(sorted(cr["name"])[0])
    return "openshift-gitops" if ds.argocd_namespace == "openshift-gitops" else ""


def _sum(counts: dict, severity: str) -> int:
    return sum(int(n) for k, n in counts.items() if k.rpartition(":")[2] == severity)


def _in_kustomization(text: str, name: str) -> bool:
    try:
        spec = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return False
    base = _HASH_SUFFIX.sub("", name)
    for gen in ("configMapGenerator", "secretGenerator"):
        for g in spec.get(gen) or []:
            if isinstance(g, dict) and g.get("name") == base and g.get("namespace"):
                return True
    return False


def fix_facts(ds, root: str, fix: tuple[Any, Any], needs, shared_before: int) -> FixFacts:
    plan, proof = fix
    res = ds.resources
    mine = res[res["app"] == root]
    total = len(mine)
    drops = plan.drops
    lost = drops[drops["app"] == root]
    own = plan.ownership
    taken = own[own["losers"].map(lambda t: root in t)] if not own.empty else own
    owners = taken.groupby("owner").size() if not taken.empty else pd.Series(dtype=int)
    kustom = plan.kustomizations.get(root)
    written = kustom if kustom and kustom.get("status") == "written" else None
    # what the root keeps, by namespace and by source
    key = ["group", "kind", "namespace", "name"]
    kept = mine.assign(kind=mine["kind"].astype(str)).merge(
        lost[key].astype(str).assign(_gone=True), on=key, how="left")
    kept = kept[kept["_gone"].isna()]
    origins = resource_origins(ds)
    origins = origins[origins["app"] == root]
    ns = kept[kept["namespace"] != ""].groupby("namespace").size()
    gone_crds = set(lost.loc[lost["kind"] == "CustomResourceDefinition", "name"])
    crds = ds.crds[(ds.crds["app"] == root) & ~ds.crds["name"].isin(gone_crds)]
    wanted = {k for n in needs for k in n.crds}
    needed = tuple(sorted((f"{g}/{k}", n) for g, k, n in zip(crds["group"], crds["kind"],
                                                              crds["name"])
                          if f"{g}/{k}" in wanted))
    ns_fixes = tuple(NamespaceFix(r.app, r.kind, r.name, r.namespace,
                                  bool(written and r.app == root and
                                       _in_kustomization(written["text"], r.name)), r.reason)
                     for r in plan.namespace_fixes.itertuples(index=False))
    remaining = proof.remaining
    shared_left = remaining[remaining["slug"].isin(_SHARED)]
    others = drops[drops["app"] != root].groupby("app").size()
    return FixFacts(
        total=total, kept=total - len(lost),
        owners=tuple(sorted(((str(a), int(n)) for a, n in owners.items()),
                            key=lambda kv: (-kv[1], kv[0]))),
        kept_back=int((own["owner"] == root).sum()) if not own.empty else 0,
        others_lose=tuple((str(a), int(n)) for a, n in others.items()),
        kustomization=written,
        not_written="" if written or lost.empty else
        str(kustom.get("message", "")) if kustom is not None else
        "no source repository was given to the report (`--repo`)",
        has_origins=bool((origins["origin_file"] != "").any()),
        rendered={k: v for k, v in proof.rendered[root].items() if k != "text"}
        if root in proof.rendered else None,
        namespace_fixes=ns_fixes,
        wave_changes=tuple((str(w.app), int(w.old_wave), int(w.new_wave))
                           for w in plan.wave_changes.itertuples(index=False)),
        skip_dry_run=tuple(plan.skip_dry_run), health_snippet=bool(plan.health_snippet),
        errors_before=_sum(proof.before, "error"), errors_after=_sum(proof.after, "error"),
        warnings_after=_sum(proof.after, "warning"), shared_before=shared_before,
        shared_after=len(shared_left[["kind", "name"]].drop_duplicates()),
        remaining=tuple((str(r.app), str(r.message)) for r in remaining.itertuples(index=False)),
        ok=bool(proof.ok), needed_crds=needed,
        errors_left=tuple(sorted((str(r.app), str(r.slug), str(r.message))
                                 for r in proof.errors.itertuples(index=False))),
        kept_by_namespace=tuple((str(k), int(v)) for k, v in ns.items()),
        kept_cluster_scoped=int((kept["namespace"] == "").sum()),
        kept_crds=int((kept["kind"] == "CustomResourceDefinition").sum()),
        kept_sources=tuple(sorted(set(kept["origin"]) - {""})))


def _parent(ds, row) -> tuple[str, str] | None:
    """The app of apps whose render holds the root's Application, and where it comes from."""
    res = ds.resources
    hit = res[(res["group"] == "argoproj.io") & (res["kind"].astype(str) == "Application") &
              (res["name"] == row["name"])]
    hit = hit[hit["namespace"].isin([row["app_namespace"], ""])]
    if hit.empty:
        return None
    h = resource_origins(ds).loc[hit.index[0]]
    return str(h["app"]), str(h["origin_file"] or h["file"])


def _line_of(ds, row, pattern: str) -> int:
    """The first line at or after the Application's own line in its file that matches."""
    if ds.root is None:
        return 0
    text = read_text(ds.root / str(row["file"]), str(row["file"]))
    if not isinstance(text, str):
        return 0
    regex = re.compile(pattern)
    for number, line in enumerate(text.splitlines(), start=1):
        if number >= int(row["line"]) and regex.match(line):
            return number
    return 0


def _path_line(ds, row) -> int:
    """The line of ``path: <source path>`` of a single-source Application in its file."""
    if len(row["source_paths"]) != 1:
        return 0
    old = re.escape(str(row["source_paths"][0]))
    return _line_of(ds, row, rf"^\s+path:\s*['\"]?{old}['\"]?\s*$")


def setup(ds, root: str, fix: tuple[Any, Any], *, label: str, repo: str | None,
          facts: FixFacts, blocked, radius, failing: bool,
          waves: dict[str, int]) -> Setup:
    plan, _ = fix
    row = ds.app(root)
    src = ds.sources[ds.sources["app"] == root]
    first = src.iloc[0] if not src.empty else None
    new_waves = dict(waves)
    for app, _, new in facts.wave_changes:
        new_waves[app] = new
    apps = {root, *radius, *(a for a, _ in facts.owners), *(b.app for b in blocked)}
    order: dict[int, list[str]] = {}
    for a in sorted(apps):
        order.setdefault(new_waves[a], []).append(a)
    files = ds.resources.loc[ds.resources["app"] == root, "file"]
    policy = sync_policy(ds.root, str(row["file"]), int(row["line"]))
    k = facts.kustomization
    path_line = _path_line(ds, row)
    wave_lines = []
    for app, _, new in facts.wave_changes:
        r = ds.app(app)
        line = _line_of(ds, r, r"^\s+argocd\.argoproj\.io/sync-wave:\s*['\"]?-?\d+['\"]?\s*$")
        wave_lines.append((app, str(r["name"]), str(r["file"]), line, new))
    new_path = k["path"].rpartition("/")[0] if k else f"argocd/{row['instance']}"
    return Setup(
        dataset=label, repo=repo or "",
        repo_url=str(first["repo_url"]) if first is not None else "",
        revision=str(first["target_revision"]) if first is not None else "",
        argocd_namespace=str(ds.argocd_namespace), argocd_resource=_argocd_resource(ds),
        app_name=str(row["name"]),
        app_file=str(row["file"]), source_paths=tuple(row["source_paths"]),
        path_line=path_line, wave_lines=tuple(wave_lines), new_path=new_path,
        instance=str(row["instance"]),
        rendered_file=str(files.iloc[0]) if not files.empty else f"rendered/{row['instance']}.yaml",
        prune=policy["prune"], self_heal=policy["self_heal"], automated=bool(row["automated"]),
        parent=_parent(ds, row), fix_dir="",
        sync_order=tuple((w, tuple(a)) for w, a in sorted(order.items())), failing=failing)
