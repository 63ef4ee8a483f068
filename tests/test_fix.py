"""The fix: ownership split, narrowed kustomization rendered for real, waves, and its proof."""

from __future__ import annotations

import yaml
from conftest import DEMO, application, write_dataset

from gitops_analysis import load_dataset, run_rules
from gitops_analysis.fix.apply import apply_fix
from gitops_analysis.fix.document import write_fix
from gitops_analysis.fix.plan import plan_fix
from gitops_analysis.fix.proof import make_fix, prove, shared_key_count
from gitops_analysis.load.manifests import ORIGIN_ANNOTATION

KEY = ["cluster", "group", "kind", "namespace", "name"]


def _keys(ds, app):
    r = ds.resources[ds.resources["app"] == app]
    return set(map(tuple, r[KEY].astype(str).to_numpy()))


def test_kubeflow_fix_matches_the_hand_made_fix(kubeflow_broken, kubeflow_broken_findings,
                                               kubeflow_fixed):
    plan = plan_fix(kubeflow_broken, kubeflow_broken_findings)
    assert len(plan.ownership) == 414
    assert (plan.ownership["losers"].map(tuple) == ("argocd/kubeflow-common-services",)).all()
    after = apply_fix(kubeflow_broken, plan)
    app = "argocd/kubeflow-common-services"
    assert _keys(after, app) == _keys(kubeflow_fixed, app)
    assert len(_keys(after, app)) == 261
    proof = prove(kubeflow_broken, kubeflow_broken_findings, plan)
    assert proof.ok
    assert shared_key_count(run_rules(after)) == 0
    assert proof.before["shared-resource:warning"] == 746 and \
        "shared-resource:warning" not in proof.after


def _docs_without_origin(text: str) -> list[dict]:
    docs = []
    for d in yaml.safe_load_all(text):
        if not d:
            continue
        ann = d.get("metadata", {}).get("annotations") or {}
        ann.pop(ORIGIN_ANNOTATION, None)
        if not ann and "annotations" in d.get("metadata", {}):
            del d["metadata"]["annotations"]
        docs.append(d)
    return sorted(docs, key=lambda d: (d["kind"], d["metadata"].get("namespace", ""),
                                       d["metadata"]["name"]))


def test_demo_fix_writes_a_kustomization_that_renders_to_the_fixed_variant(tmp_path):
    # the committed demo is rendered by `gitops-analysis render`, origin annotations included
    ds = load_dataset(DEMO / "broken")
    plan, proof = make_fix(ds, repo=str(DEMO / "repo"))
    write_fix(tmp_path / "fix", ds, plan, proof)
    assert plan.ownership["reason"].str.contains("only aggregates it").all()
    proposal = plan.kustomizations["argocd/common-services"]
    assert proposal["status"] == "written"
    assert proposal["dropped"] == ["../../applications/trainer", "../../applications/spark"]
    assert "  namespace: kubeflow\n" in proposal["text"]
    assert proof.ok and proof.rendered["argocd/common-services"]["ok"]
    got = _docs_without_origin(proof.rendered["argocd/common-services"]["text"])
    want = _docs_without_origin((DEMO / "fixed" / "rendered" / "common-services.yaml").read_text())
    assert got == want
    out = tmp_path / "fix"
    assert (out / "kustomization" / "common-services" / "kustomization.yaml").read_text() == \
        proposal["text"]
    patch = yaml.safe_load((out / "patches" / "common-services-source.yaml").read_text())
    assert patch["spec"]["source"]["path"] == "argocd/common-services"
    text = (out / "fix.md").read_text()
    assert "| `argocd/common-services` | 154 | 114 |" in text
    assert "No shared resource, missing namespace, late dependency or blocked app remains." in text
    # the user's repository is untouched
    assert not (DEMO / "repo" / "argocd" / "common-services" / "kustomization.yaml").read_text() \
        .startswith("# Generated")


def test_wave_changes_order_providers_first(tmp_path):
    crd = ("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
           "  name: widgets.example.com\nspec:\n  group: example.com\n  scope: Namespaced\n"
           "  names: {kind: Widget, plural: widgets}\n  versions: [{name: v1, served: true}]\n")
    ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n"
    widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w{i}\n"
    apps = {"platform": application("platform", wave="5"),
            **{f"c{i}": application(f"c{i}", wave=str(i)) for i in range(1, 4)}}
    rendered = {"platform.yaml": crd + "---\n" + ns,
                **{f"c{i}.yaml": widget.format(i=i) for i in range(1, 4)}}
    ds = load_dataset(write_dataset(tmp_path, apps, rendered))
    findings = run_rules(ds)
    assert (findings["slug"] == "crd-late").sum() == 3
    plan = plan_fix(ds, findings)
    # lowering the one provider beats raising three consumers
    assert plan.wave_changes[["app", "old_wave", "new_wave"]].values.tolist() == \
        [["argocd/platform", 5, 0]]
    proof = prove(ds, findings, plan)
    assert proof.ok and "crd-late:error" not in proof.after


def test_fix_cli_exit_codes(tmp_path, capsys):
    from gitops_analysis.cli.main import main

    assert main(["fix", str(DEMO / "broken"), "--out", str(tmp_path / "f")]) == 0
    out = capsys.readouterr().out
    assert "40 shared keys given an owner" in out and "errors 36 -> 0" in out
    assert main(["fix", str(tmp_path / "nope"), "--out", str(tmp_path / "g")]) == 2


def test_the_wave_fix_never_puts_a_parent_after_its_children(tmp_path):
    """An app-of-apps parent (wave 0) renders its child Application c1 (wave 1); c1 needs a CRD
    from platform (wave 5). Lowering platform to 0 orders the CRD before c1; the parent, which
    creates c1, must stay at or before c1's wave whatever moves."""
    crd = ("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
           "  name: widgets.example.com\nspec:\n  group: example.com\n  scope: Namespaced\n"
           "  names: {kind: Widget, plural: widgets}\n  versions: [{name: v1, served: true}]\n")
    child = application("c1", wave="1")
    apps = {"root": application("root", wave="2"), "c1": child,
            "platform": application("platform", wave="5")}
    rendered = {"root.yaml": child, "platform.yaml": crd,
                "c1.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"}
    ds = load_dataset(write_dataset(tmp_path, apps, rendered))
    plan = plan_fix(ds, run_rules(ds))
    waves = dict(zip(ds.apps["app"], ds.apps["wave"]))
    waves.update(dict(zip(plan.wave_changes["app"], plan.wave_changes["new_wave"])))
    assert waves["argocd/platform"] < waves["argocd/c1"]
    assert waves["argocd/root"] < waves["argocd/c1"]


def test_a_shared_resource_without_any_crd_is_fixed(tmp_path):
    # no app deploys a CRD: the dataset's CRD frame is empty, and stays a frame with its
    # columns after the fix (an empty list used as a filter selected zero columns)
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n  namespace: team\n"
    root = write_dataset(tmp_path, {"b": application("b"), "c": application("c", wave="1")},
                         {"b.yaml": cm, "c.yaml": cm})
    ds = load_dataset(root)
    assert ds.crds.empty
    plan, proof = make_fix(ds)
    # by hand: one ConfigMap in two apps -> one owner keeps it, GA101 on both apps goes away
    assert proof.before.get("shared-resource:warning") == 2
    assert "shared-resource:warning" not in proof.after
    assert list(apply_fix(ds, plan).crds.columns) == list(ds.crds.columns)
