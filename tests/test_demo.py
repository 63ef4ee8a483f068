"""The demo incident replays the reference story end to end."""

from __future__ import annotations

import pytest
from conftest import DEMO

from gitops_analysis import blast_radius, load_dataset, run_rules, wave_graph
from gitops_analysis.core.findings import chain_text


@pytest.fixture(scope="module")
def broken():
    ds = load_dataset(DEMO / "broken")
    return ds, run_rules(ds)


@pytest.fixture(scope="module")
def fixed():
    ds = load_dataset(DEMO / "fixed")
    return ds, run_rules(ds)


def test_demo_loads_everything(broken, fixed):
    # resource counts from data/demo/README.md (393 broken, 353 fixed)
    for (ds, _), total in ((broken, 393), (fixed, 353)):
        acc = ds.accounting
        assert acc.load_errors == 0 and acc.apps_without_render == 0
        assert acc.documents == acc.resources == total
        assert len(ds.apps) == 10


def test_common_services_gets_invalid_spec_error(broken):
    _, f = broken
    err = f[f["argocd_condition"] == "InvalidSpecError"]
    assert list(err["app"]) == ["argocd/common-services"]
    assert list(err["message"]) == [
        "Namespace for default-install-config-4ct9bg6t8b /v1, Kind=ConfigMap is missing."]
    assert (err["kind"].iloc[0], err["name"].iloc[0]) == \
        ("ConfigMap", "default-install-config-4ct9bg6t8b")


def test_web_apps_blocked_with_missing_crd_message_and_chain(broken):
    _, f = broken
    web = f[(f["app"] == "argocd/web-apps") & (f["slug"] == "blocked-by-dependency")]
    # data/demo/README.md: three Istio kinds whose CRDs only common-services supplies, and the
    # kubeflow namespace it creates
    assert sorted(web["kind"]) == ["AuthorizationPolicy", "DestinationRule", "Namespace",
                                   "VirtualService"]
    vs = web[web["kind"] == "VirtualService"].iloc[0]
    assert vs["name"] in {"centraldashboard", "volumes-web-app-volumes-web-app",
                          "tensorboards-web-app-tensorboards-web-app"}
    assert vs["message"] == (
        "The Kubernetes API could not find networking.istio.io/VirtualService for requested "
        f"resource kubeflow/{vs['name']}. Make sure the \"VirtualService\" CRD is installed on "
        "the destination cluster.")
    assert chain_text(vs["chain"]) == ("argocd/web-apps <- VirtualService CRD <- argocd/common-services: "
                                "InvalidSpecError")


def test_shared_resources_with_trainer_and_spark(broken):
    _, f = broken
    shared = f[f["slug"].isin(["shared-resource", "shared-crd"])]
    pairs = {tuple(sorted((a, *r))) for a, r in zip(shared["app"], shared["related_apps"])}
    assert pairs == {("argocd/common-services", "argocd/trainer"), ("argocd/common-services", "argocd/spark")}
    differ = shared[shared["detail"].str.startswith("manifests differ")]
    assert set(differ["name"]) == {"kubeflow-trainer-controller-manager"}


def test_cascade_and_blast_radius(broken):
    ds, f = broken
    g = wave_graph(ds, f)
    assert g.nodes["argocd/common-services"]["status"] == "failing"
    assert g.nodes["argocd/web-apps"]["status"] == "blocked"
    radius = blast_radius(g, "argocd/common-services")
    assert set(radius) == set(ds.apps["app"]) - {"argocd/common-services"}
    assert blast_radius(g, "argocd/web-apps") == []


def test_fixed_has_no_error_and_no_shared_key(fixed):
    _, f = fixed
    assert not (f["severity"] == "error").any()
    assert not f["slug"].isin(["shared-resource", "shared-crd"]).any()
