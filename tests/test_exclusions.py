"""Excluded kinds leave the ownership and dependency analysis, as Argo CD leaves them out of the
targets (controller/state.go, v3.5.1 R:756-760); apps stopped by a project check compare and
sync nothing (controller/appcontroller.go refreshAppConditions)."""

from __future__ import annotations

from conftest import application, write_dataset

from gitops_analysis import load_dataset, run_rules
from gitops_analysis.analysis.dependencies import needs
from gitops_analysis.load.argocdcm import ArgoCDSettings
from gitops_analysis.load.exclusions import ResourceFilter

ENDPOINTS = ("apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: external-db\n"
             "subsets:\n- addresses:\n  - ip: 10.0.0.1\n")
NO_EXCLUSIONS = ArgoCDSettings(resource_filter=ResourceFilter((), (), "argocd-cm (test)"),
                               file="test")


def test_shared_endpoints_are_no_shared_resource_under_the_stock_list(tmp_path):
    ds = load_dataset(write_dataset(tmp_path, {"a": application("a"), "b": application("b")},
                                    {"a.yaml": ENDPOINTS, "b.yaml": ENDPOINTS}))
    stock = run_rules(ds)
    assert not (stock["slug"] == "shared-resource").any()
    assert sorted(stock.loc[stock["slug"] == "excluded-resource", "message"]) == \
        ["Resource /Endpoints external-db is excluded in the settings"] * 2
    # an argocd-cm whose resource.exclusions leaves Endpoints in: both apps apply it
    cm = run_rules(ds, settings=NO_EXCLUSIONS)
    assert sorted(cm.loc[cm["slug"] == "shared-resource", "message"]) == [
        "Endpoints/external-db is part of applications argocd/a and b",
        "Endpoints/external-db is part of applications argocd/b and a"]
    assert not (cm["slug"] == "excluded-resource").any()


def test_an_excluded_resource_needs_no_namespace(tmp_path):
    event = ("apiVersion: events.k8s.io/v1\nkind: Event\nmetadata:\n  name: note\n"
             "  namespace: elsewhere\nreason: Noted\n")
    ds = load_dataset(write_dataset(tmp_path, {"a": application("a", options=(
        "CreateNamespace=true",))}, {"a.yaml": event}))
    assert not (needs(ds)["reason"] == "namespace:elsewhere").any()
    f = run_rules(ds)
    assert not f["slug"].isin(["namespace-not-created", "namespace-late"]).any()
    assert list(f.loc[f["slug"] == "excluded-resource", "message"]) == [
        "Resource events.k8s.io/Event note is excluded in the settings"]


def test_a_stopped_app_shares_nothing(tmp_path):
    """An app whose project does not exist is never compared or synced: the object it would
    share stays with the other app alone, and it shows no excluded resource either."""
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n"
    project = ("apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata:\n  name: team\n"
               "  namespace: argocd\nspec:\n  sourceRepos: ['*']\n  destinations:\n"
               "  - {server: '*', namespace: '*'}\n")
    ghost = application("b").replace("project: default", "project: ghost")
    ds = load_dataset(write_dataset(tmp_path, {"a": application("a"), "b": ghost,
                                               "projects": project},
                                    {"a.yaml": config, "b.yaml": config + "---\n" + ENDPOINTS}))
    f = run_rules(ds)
    assert list(f.loc[f["slug"] == "project-missing", "message"]) == [
        "Application referencing project ghost which does not exist"]
    assert not f["slug"].isin(["shared-resource", "excluded-resource"]).any()
