"""Argo CD's settings where the repository deploys them (argocd-cm, or an ArgoCD resource of
argocd-operator / OpenShift GitOps), and findings that rest on the stock argocd-cm made
unproven while an app that was not analysed may deploy other settings.

Expectations by hand: argocd-cm's keys from Argo CD's ``util/settings/settings.go``; the ArgoCD
resource's mapping to argocd-cm from argoproj-labs/argocd-operator
``controllers/argocd/configmap.go`` (``getResourceHealthChecks``: key
``resource.customizations.health.<group>_<kind>``; ``getResourceExclusions``: the CR's string,
else the default list; ``extraConfig`` last)."""

from __future__ import annotations

import json

from conftest import application, write_dataset

from gitops_analysis import load_dataset, run_rules

HEALTH_LUA = ("hs = {}\nhs.status = \"Progressing\"\nif obj.status ~= nil and obj.status.health "
              "~= nil then\n  hs.status = obj.status.health.status\nend\nreturn hs\n")
WEB = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n"
ENDPOINTS = ("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: nas\n"
             "addressType: IPv4\nendpoints: []\n")


def _indent(text: str, n: int) -> str:
    return "".join(" " * n + line + "\n" for line in text.splitlines())


def argocd_cm(data: str) -> str:
    return ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\n  namespace: argocd\n"
            f"data:\n{data}")


def argocd_cr(spec: str) -> str:
    return ("apiVersion: argoproj.io/v1beta1\nkind: ArgoCD\nmetadata:\n  name: argocd\n"
            f"  namespace: argocd\nspec:\n{spec}")


def dataset(tmp_path, config: str, *, web: str = WEB, status: dict | None = None):
    """config (wave 0, destination argocd) deploys ``config``; web (wave 1) deploys ``web``."""
    apps = {"config": application("config", namespace="argocd"),
            "web": application("web", wave="1")}
    root = write_dataset(tmp_path, apps, {"config.yaml": config, "web.yaml": web})
    if status:
        (root / "render-status.json").write_text(json.dumps({"apps": status}))
    return load_dataset(root)


def slugs(findings, slug: str):
    return findings[findings["slug"] == slug]


def test_a_deployed_argocd_cm_with_the_health_check_is_read(tmp_path):
    ds = dataset(tmp_path, argocd_cm(
        "  resource.customizations.health.argoproj.io_Application: |\n" +
        _indent(HEALTH_LUA, 4)))
    assert slugs(run_rules(ds), "app-health-missing").empty


def test_a_deployed_argocd_cm_without_it_is_read_too(tmp_path):
    # the two waves are not waited for: the argocd-cm deployed has no health check; certain,
    # since nothing was left unread
    ds = dataset(tmp_path, argocd_cm("  application.resourceTrackingMethod: annotation\n"))
    found = slugs(run_rules(ds), "app-health-missing")
    assert found["confidence"].tolist() == ["certain"]


def test_an_argocd_cm_of_another_namespace_is_not_argo_cds(tmp_path):
    text = argocd_cm("  resource.customizations.health.argoproj.io_Application: |\n" +
                     _indent(HEALTH_LUA, 4)).replace("namespace: argocd", "namespace: team")
    ds = dataset(tmp_path, text)
    assert len(slugs(run_rules(ds), "app-health-missing")) == 1


def test_the_argocd_resource_health_checks_are_read(tmp_path):
    ds = dataset(tmp_path, argocd_cr(
        "  resourceHealthChecks:\n  - group: argoproj.io\n    kind: Application\n"
        "    check: |\n" + _indent(HEALTH_LUA, 6)))
    assert slugs(run_rules(ds), "app-health-missing").empty


def test_the_argocd_resource_without_exclusions_gets_the_default_list(tmp_path):
    # the operator writes Argo CD 3.0's default exclusions, which hold EndpointSlice
    ds = dataset(tmp_path, argocd_cr("  resourceTrackingMethod: annotation\n"),
                 web=ENDPOINTS)
    excluded = slugs(run_rules(ds), "excluded-resource")
    assert excluded["message"].tolist() == [
        "Resource discovery.k8s.io/EndpointSlice nas is excluded in the settings"]
    assert "ArgoCD argocd of argocd/config" in excluded["detail"].iloc[0]


def test_the_argocd_resource_exclusions_and_extra_config(tmp_path):
    # its own list replaces the default one: EndpointSlice is kept, ConfigMap excluded; then
    # extraConfig's resource.exclusions wins over resourceExclusions
    own = ("  resourceExclusions: |\n    - apiGroups: ['']\n      kinds: [ConfigMap]\n"
           "      clusters: ['*']\n")
    ds = dataset(tmp_path / "own", argocd_cr(own), web=ENDPOINTS + "---\n" + WEB)
    assert slugs(run_rules(ds), "excluded-resource")["message"].tolist() == [
        "Resource /ConfigMap web is excluded in the settings"]
    extra = own + ("  extraConfig:\n    resource.exclusions: |\n      - apiGroups: ['*']\n"
                   "        kinds: [EndpointSlice]\n        clusters: ['*']\n")
    ds = dataset(tmp_path / "extra", argocd_cr(extra), web=ENDPOINTS + "---\n" + WEB)
    assert slugs(run_rules(ds), "excluded-resource")["message"].tolist() == [
        "Resource discovery.k8s.io/EndpointSlice nas is excluded in the settings"]


def test_stock_settings_are_a_guess_while_an_app_may_deploy_others(tmp_path):
    # config was not rendered: it may deploy an argocd-cm with the health check or other
    # exclusions, so what rests on the stock argocd-cm is unproven, naming it
    ds = dataset(tmp_path, "", web=ENDPOINTS, status={
        "argocd/config": {"status": "remote", "message": "chart from a Helm repository"},
        "argocd/web": {"status": "ok"}})
    found = run_rules(ds)
    for slug in ("app-health-missing", "excluded-resource"):
        mine = slugs(found, slug)
        assert mine["confidence"].tolist() == ["unproven"], slug
        assert mine["severity"].tolist() == ["warning"]
        assert list(mine["could_come_from"].iloc[0]) == ["argocd/config"]
        assert "--argocd-cm" in mine["detail"].iloc[0]


def test_a_given_argocd_cm_makes_them_certain_again(tmp_path):
    from gitops_analysis.load.argocdcm import read_settings

    ds = dataset(tmp_path / "ds", "", web=ENDPOINTS, status={
        "argocd/config": {"status": "remote", "message": "chart from a Helm repository"},
        "argocd/web": {"status": "ok"}})
    cm = tmp_path / "argocd-cm.yaml"
    cm.write_text(argocd_cm("  application.resourceTrackingMethod: annotation\n"))
    found = run_rules(ds, settings=read_settings(cm))
    assert slugs(found, "app-health-missing")["confidence"].tolist() == ["certain"]
