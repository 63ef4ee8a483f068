"""The rules on real Kubeflow 26.03, checked against the independently computed ground truth."""

from __future__ import annotations

from gitops_analysis import blast_radius, wave_graph

KEY = ["group", "kind", "namespace", "name"]
NS = "argocd/"  # the Kubeflow Applications live in argocd; the ground truth names them bare


def bare(app: str) -> str:
    assert app.startswith(NS), app
    return app[len(NS):]


def _keys(findings, slug):
    f = findings[findings["slug"] == slug]
    return {tuple(r) for r in f[KEY].itertuples(index=False)}


def test_shared_resources_match_ground_truth(kubeflow_broken_findings, ground_truth):
    truth = ground_truth["variants"]["broken"]["sharedResources"]["items"]
    crd = "CustomResourceDefinition"
    want_res = {(t["group"], t["kind"], t["namespace"], t["name"]) for t in truth
                if t["kind"] != crd}
    want_crd = {(t["group"], t["kind"], t["namespace"], t["name"]) for t in truth
                if t["kind"] == crd}
    assert len(want_res) == 373 and len(want_crd) == 41
    assert _keys(kubeflow_broken_findings, "shared-resource") == want_res
    assert _keys(kubeflow_broken_findings, "shared-crd") == want_crd
    # one finding per app that shows the warning, naming the other app
    shared = kubeflow_broken_findings[kubeflow_broken_findings["slug"] == "shared-resource"]
    assert len(shared) == 2 * 373
    apps = {(t["group"], t["kind"], t["namespace"], t["name"]): set(t["apps"]) for t in truth}
    for r in shared.itertuples(index=False):
        assert {bare(r.app), *map(bare, r.related_apps)} == \
            apps[(r.group, r.kind, r.namespace, r.name)]
        assert r.argocd_condition == "SharedResourceWarning"


def test_shared_resource_message_is_argocds(kubeflow_broken_findings):
    f = kubeflow_broken_findings
    row = f[(f["slug"] == "shared-resource") & (f["name"] == "katib-config") &
            (f["app"] == NS + "kubeflow-common-services")].iloc[0]
    assert row["message"] == ("ConfigMap/katib-config is part of applications "
                              "argocd/kubeflow-common-services and kubeflow-katib")


def test_differing_shared_key_is_jobset_crd_only(kubeflow_broken_findings, ground_truth):
    f = kubeflow_broken_findings
    shared = f[f["slug"].isin(["shared-resource", "shared-crd"])]
    differ = set(shared.loc[shared["detail"].str.startswith("manifests differ"), "name"])
    truth = {t["name"] for t in ground_truth["variants"]["broken"]["sharedResources"]["items"]
             if not t["identicalManifests"]}
    assert differ == truth == {"jobsets.jobset.x-k8s.io"}


def test_pairs_match_ground_truth(kubeflow_broken_findings, ground_truth):
    f = kubeflow_broken_findings
    shared = f[f["slug"].isin(["shared-resource", "shared-crd"]) &
               (f["app"] == NS + "kubeflow-common-services")]
    pairs = shared.assign(other=shared["related_apps"].map(lambda t: bare(t[0]))) \
        .groupby("other").size().to_dict()
    want = {k.split(" + ")[1]: v for k, v in
            ground_truth["summary"]["broken"]["sharedResourcesByAppPair"].items()}
    assert pairs == want


def test_no_invalid_spec_error_and_no_error_at_all(kubeflow_broken_findings,
                                                   kubeflow_fixed_findings):
    for f in (kubeflow_broken_findings, kubeflow_fixed_findings):
        assert not (f["argocd_condition"] == "InvalidSpecError").any()
        assert not (f["severity"] == "error").any(), f[f["severity"] == "error"].head()


def test_fixed_has_no_shared_key(kubeflow_fixed_findings):
    slugs = set(kubeflow_fixed_findings["slug"])
    assert not slugs & {"shared-resource", "shared-crd", "repeated-resource"}


def test_instance_labels_match_ground_truth(kubeflow_broken, kubeflow_broken_findings,
                                            ground_truth):
    from gitops_analysis import run_rules
    from gitops_analysis.load.argocdcm import ArgoCDSettings

    # Argo CD 3.x tracks by annotation: the labels matter only where argocd-cm selects labels
    assert not (kubeflow_broken_findings["slug"] == "instance-label-collision").any()
    f = run_rules(kubeflow_broken, settings=ArgoCDSettings(tracking_method="label"),
                  select=["instance-label-collision"])
    got = f[(f["slug"] == "instance-label-collision") & (f["app"] == NS + "kubeflow-common-services")]
    want = ground_truth["variants"]["broken"]["preexistingInstanceLabel"][
        "kubeflow-common-services"]["count"]
    assert len(got) == want == 141


def test_web_apps_depends_on_common_services(kubeflow_broken, kubeflow_broken_findings):
    g = wave_graph(kubeflow_broken, kubeflow_broken_findings)
    edge = g.edges[NS + "kubeflow-common-services", NS + "kubeflow-web-apps"]
    crds = {r for r in edge["reasons"] if r.startswith("crd:")}
    assert crds == {"crd:networking.istio.io/DestinationRule",
                    "crd:networking.istio.io/VirtualService",
                    "crd:security.istio.io/AuthorizationPolicy"}
    assert edge["order"] == "ok"
    # nothing fails in 26.03, but if common-services failed, web-apps would fall with it
    assert all(d["status"] == "ok" for _, d in g.nodes(data=True))
    radius = blast_radius(g, NS + "kubeflow-common-services")
    assert NS + "kubeflow-web-apps" in radius and len(radius) == 12


def test_custom_kind_providers_match_ground_truth(kubeflow_broken, ground_truth):
    from gitops_analysis.analysis.dependencies import needs

    n = needs(kubeflow_broken)
    crd_needs = n[n["need"] == "crd"]
    crd_needs = crd_needs.assign(app=crd_needs["app"].map(bare),
                                 providers=crd_needs["providers"].map(lambda p: tuple(map(bare, p))))
    truth = ground_truth["variants"]["broken"]["customKindDependencies"]
    assert len(truth) >= 10  # the loop below checks something
    assert set(crd_needs["app"]) <= set(truth)  # no app needs a CRD the truth does not know of
    for app, deps in truth.items():
        got = crd_needs[crd_needs["app"] == app]
        want = {f"crd:{d['group']}/{d['kind']}" for d in deps}
        assert set(got["reason"]) == want, app
        for d in deps:
            row = got[got["reason"] == f"crd:{d['group']}/{d['kind']}"].iloc[0]
            providers = {p["app"] for p in d["crdProvidedBy"]} - {app}
            assert set(row["providers"]) == providers, (app, d)
            assert row["self_provided"] == any(p["app"] == app for p in d["crdProvidedBy"])
