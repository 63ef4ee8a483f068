"""AppProjects, resource exclusions and argocd-cm settings, each case read from Argo CD's
source (v3.5.1; docs/notes/argocd-conditions.md §C, §D) and written here by hand."""

from __future__ import annotations

import pytest
from conftest import FIXTURES

from gitops_analysis import load_dataset, run_rules
from gitops_analysis.core.errors import InputError
from gitops_analysis.core.globs import glob_match, match_in_list, path_match
from gitops_analysis.load.argo_objects import cluster_identity, projects_of
from gitops_analysis.load.argocdcm import ArgoCDSettings, read_settings
from gitops_analysis.load.exclusions import (
    DEFAULT_FILTER,
    FilteredResource,
    ResourceFilter,
    cluster_url,
)
from gitops_analysis.load.projects import (
    Destination,
    Project,
    ResourceItem,
    normalize_git_url,
    parse_project,
    read_projects_file,
)

RULES = FIXTURES / "rules"
IN_CLUSTER = "https://kubernetes.default.svc"


@pytest.mark.parametrize("pattern,text,seps,want", [
    ("https://github.com/org/*", "https://github.com/org/repo", "/", True),
    ("https://github.com/org/*", "https://github.com/org/group/repo", "/", False),
    ("https://github.com/org/**", "https://github.com/org/group/repo", "/", True),
    ("team-*", "team-a/b", "", True),  # no separators: * crosses everything
    ("team-?", "team-ab", "", False),
    ("{dev,prod}-*", "prod-east", "", True),
    ("[!a]bc", "abc", "", False),
    ("[a-c]x", "bx", "", True),
    ("[unclosed", "[unclosed", "", False),  # does not compile: matches nothing
])
def test_gobwas_glob(pattern, text, seps, want):
    assert glob_match(pattern, text, seps) is want


@pytest.mark.parametrize("pattern,text,want", [
    ("*", "ClusterRole", True), ("Cluster*", "ClusterRole", True), ("*", "a/b", False),
    ("[^C]*", "ClusterRole", False), ("team-a-*", "team-a-reader", True), ("[", "[", False),
])
def test_filepath_match(pattern, text, want):
    assert path_match(pattern, text) is want


def test_match_in_list_regexp_or_glob():
    assert match_in_list(["/^ops-[a-z]+$/"], "ops-east")
    assert not match_in_list(["/^ops-[a-z]+$/"], "ops-1")
    assert match_in_list(["team-*"], "team-a")
    assert not match_in_list([], "team-a")


def test_normalize_git_url():
    assert normalize_git_url(" https://GitHub.com/Org/Repo.git ") == "https://github.com/org/repo"
    assert normalize_git_url("git@github.com:org/repo.git") == "git@github.com/org/repo"
    assert normalize_git_url("ssh://git@github.com/org/repo") == "git@github.com/org/repo"


def test_normalize_escapes_a_path_as_go_url_does():
    """url.Parse(...).String() escapes '{' and '}': a placeholder URL matches itself, though
    '{...}' would be a gobwas alternation (multi-tenancy-gitops' ${GIT_BASEURL}/${GIT_ORG}/...)."""
    placeholder = "${GIT_BASEURL}/${GIT_ORG}/${GIT_GITOPS}"
    assert normalize_git_url(placeholder) == "$%7Bgit_baseurl%7D/$%7Bgit_org%7D/$%7Bgit_gitops%7D"
    assert Project("p", source_repos=(placeholder,)).source_permitted(placeholder)
    assert normalize_git_url("https://github.com/org/*") == "https://github.com/org/*"
    assert normalize_git_url("https://h/a b") == "https://h/a%20b"


def test_source_repos_deny_entry_allows_everything_else():
    """IsSourcePermitted: a `!` entry that does not match counts as a match."""
    p = Project("p", source_repos=("!https://github.com/org/secrets",))
    assert p.source_permitted("https://github.com/org/anything.git")
    assert not p.source_permitted("https://github.com/org/secrets.git")
    assert not Project("p").source_permitted("https://github.com/org/x")  # none: nothing


def test_destinations_with_an_unknown_cluster_field():
    p = Project("p", destinations=(Destination("", "prod-*", "team-*"),))
    # a server whose name only its Secret knows: it may be prod-x, or not
    assert p.destination_permitted("https://10.0.0.5:6443", "", "team-a", True, False) is None
    assert p.destination_permitted("", "prod-east", "team-a", False, True) is True
    assert p.destination_permitted("", "dev", "team-a", False, True) is False
    only_servers = Project("p", destinations=(Destination(IN_CLUSTER, "", "*"),))
    assert only_servers.destination_permitted("https://10.0.0.5:6443", "", "x", True,
                                              False) is False
    scoped = Project("p", destinations=(Destination("*", "", "*"),),
                     project_scoped_clusters_only=True)
    assert scoped.destination_permitted(IN_CLUSTER, "in-cluster", "x") is None


def test_namespace_deny_entry_wins_when_the_server_matches():
    p = Project("ops", destinations=(Destination("", "in-cluster", "*"),
                                     Destination("*", "", "!kube-system")))
    assert p.destination_permitted(IN_CLUSTER, "in-cluster", "monitoring") is True
    assert p.destination_permitted(IN_CLUSTER, "in-cluster", "kube-system") is False


def test_kind_lists():
    absent = Project("p")
    assert absent.kind_permitted("", "ConfigMap", "x", True)  # no namespaced list: all
    assert not absent.kind_permitted("", "Namespace", "x", False)  # no cluster list: none
    empty = Project("p", namespace_whitelist=())
    assert not empty.kind_permitted("", "ConfigMap", "x", True)
    named = Project("p", cluster_whitelist=(ResourceItem("rbac.authorization.k8s.io",
                                                         "ClusterRole", "team-a-*"),))
    assert named.kind_permitted("rbac.authorization.k8s.io", "ClusterRole", "team-a-x", False)
    assert not named.kind_permitted("rbac.authorization.k8s.io", "ClusterRole", "admin", False)
    black = Project("p", cluster_whitelist=(ResourceItem("*", "*"),),
                    cluster_blacklist=(ResourceItem("", "Namespace"),))
    assert not black.kind_permitted("", "Namespace", "x", False)


def test_parse_project_refuses_what_is_not_a_project():
    assert "without metadata.name" in parse_project({"kind": "AppProject"}, "f:1")
    bad = {"metadata": {"name": "p"}, "spec": {"sourceRepos": "https://x"}}
    assert "is not a list of strings" in parse_project(bad, "f:1")
    got = parse_project({"metadata": {"name": "p"}, "spec": {"orphanedResources": {"warn": True},
                         "namespaceResourceWhitelist": []}}, "f:1")
    assert isinstance(got, Project) and got.orphaned_warn and got.namespace_whitelist == ()


def test_projects_file_and_its_errors(tmp_path):
    got = read_projects_file(RULES / "project-missing" / "pass-projects-file" / "projects.yaml")
    assert [p.name for p in got] == ["team-a"]
    none = tmp_path / "none.yaml"
    none.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
    with pytest.raises(InputError, match="no AppProject in the file"):
        read_projects_file(none)
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata: [\n")
    with pytest.raises(InputError) as err:
        read_projects_file(broken)
    assert err.value.format().startswith(str(broken))
    with pytest.raises(InputError, match="cannot be read"):
        read_projects_file(tmp_path / "missing.yaml")


def test_projects_file_is_what_silences_the_missing_project():
    folder = RULES / "project-missing" / "pass-projects-file"
    ds = load_dataset(folder)
    without = run_rules(ds, select=["project-missing"])
    assert list(without["message"]) == [
        "Application referencing project team-a which does not exist"]
    with_file = run_rules(ds, select=["project-missing"],
                          projects=read_projects_file(folder / "projects.yaml"))
    assert with_file.empty


def test_no_project_known_means_no_project_finding(tmp_path):
    """A dataset without AppProjects and no --projects: the projects live elsewhere."""
    ds = load_dataset(RULES / "shared-resource" / "fail")
    f = run_rules(ds)
    assert not f["rule"].str.startswith("GA70").any()


def test_dataset_projects_and_scoped_secrets(tmp_path):
    ds = load_dataset(RULES / "project-missing" / "pass")
    pj = projects_of(ds)
    assert pj.known and sorted(pj.by_name) == ["default", "team-a"]
    assert pj.by_name["team-a"].app == "argocd/projects"
    assert pj.by_name["default"].origin.startswith("created by argocd-server")
    assert projects_of(ds) is pj  # read once per dataset


def test_cluster_identity():
    assert cluster_identity(IN_CLUSTER + "/", "", {}) == (IN_CLUSTER, "in-cluster", True, True)
    assert cluster_identity("", "in-cluster", {}) == (IN_CLUSTER, "in-cluster", True, True)
    assert cluster_identity("https://a", "", {"https://a": "east"}) == \
        ("https://a", "east", True, True)
    assert cluster_identity("", "east", {}) == ("", "east", False, True)


# -- exclusions ---------------------------------------------------------------------------
def test_is_excluded_resource_table():
    """ResourcesFilter.IsExcludedResource, the table in resources_filter.go."""
    inc = (FilteredResource(("apps",), ("Deployment",), (IN_CLUSTER,)),)
    exc = (FilteredResource((), ("Secret",)),)
    rf = ResourceFilter(exclusions=exc, inclusions=inc, origin="t")
    assert not rf.is_excluded("apps", "Deployment", IN_CLUSTER)  # included
    assert rf.is_excluded("", "ConfigMap", IN_CLUSTER)  # inclusions name this cluster
    assert not rf.is_excluded("", "ConfigMap", "https://other")  # not for another cluster
    assert rf.is_excluded("", "Secret", "https://other")  # excluded everywhere
    assert rf.is_excluded("coordination.k8s.io", "Lease", "x")  # core, even with no lists
    assert ResourceFilter((), (), "t").why_excluded("events.k8s.io", "Anything", "x") == "core"
    assert DEFAULT_FILTER.is_excluded("", "Endpoints", IN_CLUSTER)
    assert DEFAULT_FILTER.is_excluded("kyverno.io", "UpdateRequest", IN_CLUSTER)
    assert not DEFAULT_FILTER.is_excluded("", "ConfigMap", IN_CLUSTER)


def test_cluster_url():
    assert cluster_url(IN_CLUSTER + "/", "") == IN_CLUSTER
    assert cluster_url("", "in-cluster") == IN_CLUSTER


def test_read_settings(tmp_path):
    cm = read_settings(RULES / "excluded-resource" / "fail-argocd-cm" / "argocd-cm.yaml")
    assert cm.tracking_method == "annotation" and not cm.label_tracking
    assert cm.resource_filter.exclusions == (
        FilteredResource(("*",), ("ConfigMap",), ("https://kubernetes.default.*",)),)
    label = read_settings(RULES / "instance-label-collision" / "fail" / "argocd-cm.yaml")
    assert label.label_tracking and label.resource_filter.exclusions == ()
    assert ArgoCDSettings().resource_filter is DEFAULT_FILTER
    bad = tmp_path / "cm.yaml"
    bad.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\ndata:\n"
                   "  resource.exclusions: |\n    apiGroups: [x]\n")
    with pytest.raises(InputError, match="resource.exclusions is not a YAML list"):
        read_settings(bad)


def test_same_input_same_findings():
    folder = RULES / "project-resource-not-permitted" / "fail"
    a = run_rules(load_dataset(folder))
    b = run_rules(load_dataset(folder))
    assert a.to_json() == b.to_json()


def test_repository_and_cluster_secrets_scoped_to_a_project(tmp_path):
    """GetAppProjectByName adds the project's repository Secrets to sourceRepos and its cluster
    Secrets to destinations; a cluster Secret pairs a server with its name."""
    import base64

    (tmp_path / "apps").mkdir()
    (tmp_path / "rendered").mkdir()
    (tmp_path / "apps" / "apps.yaml").write_text("""\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: projects, namespace: argocd}
spec:
  project: default
  source: {repoURL: https://github.com/org/infra.git, targetRevision: main, path: projects}
  destination: {server: https://kubernetes.default.svc, namespace: argocd}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web, namespace: argocd}
spec:
  project: team-a
  source: {repoURL: https://github.com/org/web.git, targetRevision: main, path: deploy}
  destination: {name: east, namespace: web}
""")
    url = base64.b64encode(b"https://github.com/org/web.git").decode()
    (tmp_path / "rendered" / "projects.yaml").write_text(f"""\
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata: {{name: team-a}}
spec: {{}}
---
apiVersion: v1
kind: Secret
metadata:
  name: web-repo
  labels: {{argocd.argoproj.io/secret-type: repository}}
data: {{url: {url}, project: dGVhbS1h}}
---
apiVersion: v1
kind: Secret
metadata:
  name: east
  labels: {{argocd.argoproj.io/secret-type: cluster}}
stringData: {{name: east, server: "https://east.example.org/", project: team-a,
             namespaces: "web, api"}}
""")
    (tmp_path / "rendered" / "web.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n")
    ds = load_dataset(tmp_path)
    pj = projects_of(ds)
    team = pj.by_name["team-a"]
    assert team.source_repos == ("https://github.com/org/web.git",)
    assert team.destinations == (Destination("https://east.example.org", "", "web"),
                                 Destination("https://east.example.org", "", "api"))
    assert pj.clusters == {"https://east.example.org": "east"}
    f = run_rules(ds)
    assert not f["rule"].str.startswith("GA70").any(), f[["slug", "message"]]


# -- the command line ---------------------------------------------------------------------
def _check(capsys, *argv):
    from gitops_analysis.cli.main import main

    code = main(["check", "--no-cache", "--format", "json", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def _slugs(out: str) -> list[str]:
    import json

    return sorted(f["slug"] for f in json.loads(out)["findings"])


def test_check_reads_projects_and_argocd_cm(capsys):
    folder = RULES / "project-missing" / "pass-projects-file"
    code, out, _ = _check(capsys, folder)
    assert code == 1 and _slugs(out) == ["project-missing"]
    code, out, _ = _check(capsys, folder, "--projects", folder / "projects.yaml")
    assert code == 0 and _slugs(out) == []
    labels = RULES / "instance-label-collision" / "fail"
    code, out, _ = _check(capsys, labels)
    assert "instance-label-collision" not in _slugs(out)
    code, out, _ = _check(capsys, labels, "--argocd-cm", labels / "argocd-cm.yaml")
    assert "instance-label-collision" in _slugs(out)


def test_check_refuses_a_projects_file_without_projects(capsys, tmp_path):
    bad = tmp_path / "p.yaml"
    bad.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
    code, out, err = _check(capsys, RULES / "project-missing" / "fail", "--projects", bad)
    assert code == 2 and out == "" and "no AppProject in the file" in err
    assert err.count("\n") == 1


def test_a_project_an_unanalysed_app_could_render_is_unproven(tmp_path):
    """team-a is nowhere, but the projects app (not rendered) may render it: a warning, not an
    InvalidSpecError, naming that app; web is not stopped, so its exclusions still show."""
    from conftest import application, write_dataset

    platform = ("apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata:\n"
                "  name: platform\n  namespace: argocd\nspec:\n  sourceRepos: ['*']\n")
    web = application("web").replace("project: default", "project: team-a")
    ds = load_dataset(write_dataset(tmp_path, {"web": web, "projects": application("projects"),
                                               "platform": platform},
                                    {"web.yaml": "apiVersion: v1\nkind: Endpoints\n"
                                                 "metadata:\n  name: db\n"}))
    f = run_rules(ds)
    miss = f[f["slug"] == "project-missing"].iloc[0]
    assert (miss["severity"], miss["confidence"]) == ("warning", "unproven")
    assert tuple(miss["could_come_from"]) == ("argocd/projects",)
    assert (f["slug"] == "excluded-resource").sum() == 1
