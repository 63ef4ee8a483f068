"""The incident write-up, read as an engineer reads it.

Every expectation is derived by hand: the demo's from ``data/demo/README.md`` (its story, its
"What a correct analysis finds"), Kubeflow's from the team's ``ground_truth.json`` and the
README beside it, the small datasets' from what is written into them here. The validation block
of the demo write-up is run for real: it must render the fixed repository and check it clean.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DEMO, FIXTURES, ROOT, application, write_dataset

from gitops_analysis import load_dataset, run_rules, wave_graph
from gitops_analysis.views.writeup import incident_markdown

BIN = Path(sys.executable).parent
ISE = "Namespace for default-install-config-4ct9bg6t8b /v1, Kind=ConfigMap is missing."
IMAGE = "ghcr.io/kubeflow/trainer/trainer-controller-manager"


@pytest.fixture(scope="module")
def demo():
    ds = load_dataset(DEMO / "broken")
    findings = run_rules(ds)
    graph = wave_graph(ds, findings)
    from gitops_analysis.fix.proof import make_fix

    fix = make_fix(ds, findings=findings, repo=DEMO / "repo")
    text = incident_markdown(ds, findings, graph, dataset_label="data/demo/broken",
                             repo="data/demo/repo", fix=fix, fix_dir="fix")
    return ds, findings, graph, fix, text


def section(text: str, title: str) -> str:
    """The body of ``## title`` up to the next ``## ``."""
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0].strip("\n")


def prose(text: str) -> str:
    """The text without code blocks and tables: what reads as sentences."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    return "\n".join(line for line in text.splitlines() if not line.startswith("|"))


def shell_block(body: str) -> str:
    return body.split("```sh\n", 1)[1].split("```", 1)[0]


# -- the demo ------------------------------------------------------------------------------

def test_header_has_a_date_from_the_data_and_a_status(demo):
    text = demo[4]
    head = text.split("\n## ", 1)[0].splitlines()
    assert head[0] == "# Incident analysis: argocd/common-services"
    # no export in the demo: not dated, never the clock
    assert head[2].startswith("- **Date:** not dated")
    assert head[3] == ("- **Issue:** 9 apps cannot sync because `argocd/common-services` "
                       "(wave 0) fails with `InvalidSpecError`")
    assert head[4].startswith("- **Status:** open")
    assert head[5] == "- **Scope:** 10 apps, all analysed; 393 resources read"


def test_failures_are_counted_by_cause(demo):
    # README: the Istio and cert-manager kinds of profiles, pipelines, jupyter, katib, kserve and
    # web-apps have their CRDs only in common-services; tensorboard and spark use only
    # namespace kubeflow from it, trainer only kubeflow-system
    summary = section(demo[4], "Executive summary")
    assert "`argocd/web-apps` (wave 4) fails to sync with:" in summary
    assert 'Make sure the "VirtualService" CRD is installed on the destination cluster.' in summary
    assert ISE in summary
    assert "9 apps fall with it:" in summary
    assert ("- 6 need CRDs that only it installs: `argocd/profiles`, `argocd/jupyter`, "
            "`argocd/katib`, `argocd/pipelines`, `argocd/kserve` and `argocd/web-apps`;"
            in summary)
    assert ("- 3 need a namespace that only it creates: `argocd/tensorboard` and `argocd/spark` "
            "(namespace `kubeflow`); `argocd/trainer` (namespace `kubeflow-system`)."
            in summary)
    assert "fail this way" not in demo[4]


def test_shared_resources_are_counted_once_as_keys(demo):
    # README: 40 shared keys (trainer 24 with 4 CRDs, spark 16 with 2): 34 are not CRDs
    text = demo[4]
    assert "so 40 resources are deployed by it and by another app" in text
    issue = text.split("`SharedResourceWarning`, 40 resources that other apps deploy too")[1]
    assert ("40 resources of `argocd/common-services` are deployed by another app too (each "
            "resource counted once, whichever apps deploy it). Argo CD warns about 34 of them; "
            "the other 6 are CRDs") in issue
    # a finding per app and resource would be 68 + 12: never a count of the write-up
    for number in ("68", "80"):
        assert not re.search(rf"\b{number} (shared )?resources\b", text)
    header = ("| shared with | wave | shared resources | of them CRDs | renders differ |\n"
              "|---|---|---|---|---|\n")
    rows = issue.split(header, 1)[1].split("\n\n", 1)[0].splitlines()
    assert rows == ["| `argocd/trainer` | 3 | 24 | 4 | 1 |", "| `argocd/spark` | 5 | 16 | 2 | 0 |"]


def test_the_differing_resource_says_how_it_differs(demo):
    # README: the only difference is the container image, v2.0.0 in common-services (the
    # images: pin of example/) and v2.0.1 in trainer
    text = demo[4]
    line = next(x for x in text.splitlines() if x.startswith("- Deployment `kubeflow-system/"
                                                             "kubeflow-trainer-controller-manager`"))
    assert line == ("- Deployment `kubeflow-system/kubeflow-trainer-controller-manager`: "
                    "`spec.template.spec.containers[manager].image` is "
                    f"`{IMAGE}:v2.0.0` in `argocd/common-services` and `{IMAGE}:v2.0.1` in "
                    "`argocd/trainer` (the `images:` pin of `example/kustomization.yaml` sets it; "
                    "the fix drops the pin)")


def test_the_generated_kustomization_has_no_stale_pin(demo):
    plan = demo[3][0]
    k = plan.kustomizations["argocd/common-services"]
    body = k["text"]
    assert "images:" not in body.replace("# images:", "")
    assert k["dropped_images"] == [IMAGE]
    # README, fixed: the generator gets namespace kubeflow; trainer and spark are not included
    assert "- name: default-install-config\n  namespace: kubeflow\n" in body
    assert "# - ../../applications/trainer   (dropped: owned by argocd/trainer)" in body
    assert "# - ../../applications/spark   (dropped: owned by argocd/spark)" in body
    solution = section(demo[4], "Solution")
    assert body.rstrip() in solution
    assert (f"The `images:` pin of `{IMAGE}` is left out: none of the resources it keeps runs "
            "that image.") in solution
    # README: 154 resources broken, 114 fixed; trainer takes 24 over, spark 16
    assert "`argocd/common-services` keeps the 114 of its 154 resources" in solution
    assert "| `argocd/trainer` | 24 |\n| `argocd/spark` | 16 |" in solution
    assert "path: argocd/common-services  # was: example" in solution


def test_no_step_only_restates_a_finding(demo):
    text = demo[4]
    steps = re.findall(r"^### Step \d+: (.*)$", text, flags=re.M)
    assert steps == ["`argocd/common-services` deploys only what no other app deploys",
                     "point the Application at it", "let the waves wait for healthy apps"]
    from gitops_analysis.rules import all_rules

    said = prose(text)
    for rule in all_rules():
        assert rule.slug not in said, rule.slug
    for machine in ("app(s)", "resource(s)", "error(s)", "1 apps", "1 resources"):
        assert machine not in text


def test_files_to_change_are_real_files(demo):
    files = section(demo[4], "Files to change")
    assert "the source of" not in files
    assert ("- **new** `argocd/common-services/kustomization.yaml` in "
            "`https://github.com/example-org/platform-gitops.git`") in files
    assert "(written as `fix/kustomization/common-services/kustomization.yaml`)" in files
    assert "`spec.source.path` `example` -> `argocd/common-services`" in files
    # every repository path named exists in the demo repository (or is the new file)
    repo = DEMO / "repo"
    named = re.findall(r"`((?:applications|common|example)(?:/[^`]*)?|argocd/[^`]*\.yaml)`", files)
    assert "example" in named
    for path in named:
        assert (repo / path).exists() or path == "argocd/common-services/kustomization.yaml", \
            path


def test_deployment_syncs_by_wave_and_waits_for_health(demo):
    body = shell_block(section(demo[4], "Deployment"))
    syncs = [line.split()[3:] for line in body.splitlines()
             if line.startswith("argocd app sync ")]
    waits = [line for line in body.splitlines() if line.startswith("argocd app wait ")]
    # README waves: common-services 0, profiles 1, pipelines/jupyter/katib 2,
    # kserve/trainer/tensorboard 3, web-apps 4, spark 5
    assert syncs == [["argocd/common-services"], ["argocd/profiles"],
                     ["argocd/jupyter", "argocd/katib", "argocd/pipelines"],
                     ["argocd/kserve", "argocd/tensorboard", "argocd/trainer"],
                     ["argocd/web-apps"], ["argocd/spark"]]
    assert len(waits) == len(syncs) and all("--health" in w for w in waits)
    assert "argocd app set argocd/common-services --path argocd/common-services" in body
    assert "git add argocd/common-services/kustomization.yaml" in body
    # common-services never synced: nothing to take over, no policy change
    assert "--sync-policy none" not in body
    for title in ("Expected results", "Monitoring", "Troubleshooting"):
        assert f"\n## {title}\n" in demo[4]


def test_validation_checks_the_fixed_render_and_passes(demo, tmp_path):
    body = section(demo[4], "Validation")
    assert body.startswith("Applied to the analysis, the fix leaves 0 errors (36 before) and "
                           "0 shared resources (40 before).")
    script = shell_block(body)
    assert 'gitops-analysis check "$WORK/fixed"' in script
    assert "check data/demo/broken" not in script and 'check "$DATASET"' not in script
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "TMPDIR": str(tmp_path)}
    proc = subprocess.run(["bash", "-e", "-c", script], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout.splitlines()
    # README, fixed: 353 resources in 10 apps, no finding; the 5 Istio and cert-manager CRDs
    # that other apps use stay in common-services
    assert "no findings in what was analysed (353 resources of 10 apps)" in out
    assert out[-1] == "5"
    assert "argocd/common-services: ok: 114 documents (kustomize)" in out


def test_same_input_same_bytes(demo):
    ds, findings, graph, fix, text = demo
    again = incident_markdown(ds, findings, graph, dataset_label="data/demo/broken",
                              repo="data/demo/repo", fix=fix, fix_dir="fix")
    assert again == text
    assert str(ROOT) not in text
    # a URL outside code would become a link to the network in the HTML page
    assert not re.search(r"(?<!`)https?://", prose(text))


def test_the_export_dates_the_writeup(tmp_path):
    root = tmp_path / "broken"
    shutil.copytree(DEMO / "broken", root)
    (root / "live").mkdir()
    shutil.copy(FIXTURES / "live" / "demo-broken.json", root / "live" / "export.json")
    ds = load_dataset(root)
    findings = run_rules(ds)
    text = incident_markdown(ds, findings, wave_graph(ds, findings), dataset_label="broken")
    # the latest time in the export: reconciledAt of the last reconciled app
    assert ("- **Date:** 2026-03-09 (the latest time in the Argo CD export `live/export.json`: "
            "2026-03-09T08:29:58Z)") in text
    assert ", given" not in text and "- **Date:** 2026-03-09" in text
    dated = incident_markdown(ds, findings, wave_graph(ds, findings), dataset_label="broken",
                              date="2026-04-01")
    assert "- **Date:** 2026-04-01\n" in dated


# -- coverage ------------------------------------------------------------------------------

CERT = ("apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: web\n"
        "  namespace: team\nspec: {}\n")
NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n"
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"


def _gap_dataset(tmp_path: Path) -> Path:
    """base (wave 0, no destination namespace) creates namespace team and a ConfigMap without
    a namespace; web (wave 1) uses a cert-manager Certificate in team; cert-manager's chart is
    remote, so it was not rendered."""
    apps = {"web": application("web", wave="1"), "cert-manager": application("cert-manager"),
            "base": application("base", namespace="")}
    root = write_dataset(tmp_path, apps, {"web.yaml": CERT,
                                          "base.yaml": NAMESPACE + "---\n" + CONFIGMAP})
    (root / "render-status.json").write_text(json.dumps({"apps": {
        "argocd/web": {"status": "ok"}, "argocd/base": {"status": "ok"},
        "argocd/cert-manager": {"status": "remote", "message": "chart from a Helm repository"}}}))
    return root


def test_an_app_not_analysed_is_never_ok_and_unproven_findings_are_possible(tmp_path):
    ds = load_dataset(_gap_dataset(tmp_path))
    findings = run_rules(ds)
    text = incident_markdown(ds, findings, wave_graph(ds, findings), dataset_label="ds")
    assert "- **Scope:** 3 apps, 2 fully analysed, 1 not (see below); 3 resources read" in text
    gaps = section(text, "What was not analysed")
    assert ("| `argocd/cert-manager` | 0 | not analysed | remote | chart from a Helm "
            "repository |") in gaps
    # the Certificate's CRD might come from the unrendered chart: possible, naming it
    assert ("- `argocd/web` may fail (`SyncError`), unless `argocd/cert-manager` supplies it: "
            "`The Kubernetes API could not find cert-manager.io/Certificate") in gaps
    waves = section(text, "Problem analysis")
    assert "| 0 | `argocd/cert-manager` | team | - | not analysed (remote) |" in waves
    # web's only blocking findings are unproven: not shown as certainly blocked
    assert "| 1 | `argocd/web` | team | 1 | possibly blocked |" in waves
    assert "cert-manager` (wave 0, " not in text  # nothing said about what it deploys
    assert not re.search(r"cert-manager`[^\n]*(renders|deploys) \d", text)


def test_no_incident_says_how_much_was_looked_at(tmp_path):
    apps = {"web": application("web", wave="1"), "cert-manager": application("cert-manager")}
    root = write_dataset(tmp_path, apps, {"web.yaml": NAMESPACE + "---\n" + CERT})
    (root / "render-status.json").write_text(json.dumps({"apps": {
        "argocd/web": {"status": "ok"},
        "argocd/cert-manager": {"status": "failed", "message": "kustomize build failed"}}}))
    ds = load_dataset(root)
    findings = run_rules(ds)
    text = incident_markdown(ds, findings, wave_graph(ds, findings), dataset_label="ds")
    assert text.startswith("# No incident in ")
    assert "(2 apps, 1 fully analysed; 2 resources read)" in text
    assert "- `argocd/cert-manager`: render failed (kustomize build failed)" in text
    assert ("- `argocd/web`, unless `argocd/cert-manager` supplies it: `The Kubernetes API "
            "could not find cert-manager.io/Certificate") in text


def _failed_render_dataset(tmp_path):
    """api (wave 0) and jobs (wave 2): their renders fail as Argo CD's would (the path does not
    exist); web (wave 1) renders one ConfigMap."""
    apps = {"api": application("api"), "web": application("web", wave="1"),
            "jobs": application("jobs", wave="2")}
    root = write_dataset(tmp_path, apps, {"web.yaml": CONFIGMAP})
    desc = "failed to generate manifest for source 1 of 1: rpc error: code = Unknown desc = "
    (root / "render-status.json").write_text(json.dumps({"apps": {
        "argocd/web": {"status": "ok"},
        "argocd/api": {"status": "failed", "message": "api: app path does not exist",
                       "failure": {"source": 0, "kind": "path",
                                   "message": desc + "api: app path does not exist"}},
        "argocd/jobs": {"status": "failed", "message": "jobs: app path does not exist",
                        "failure": {"source": 0, "kind": "path",
                                    "message": desc + "jobs: app path does not exist"}}}}))
    return root


def test_a_fix_that_leaves_errors_never_says_it_clears_them(tmp_path):
    # the fix cannot change a path that does not exist: the two ComparisonErrors stay after it,
    # one of the incident (resolved by hand) and one of another app (outside the incident)
    from gitops_analysis.fix.proof import make_fix

    ds = load_dataset(_failed_render_dataset(tmp_path))
    findings = run_rules(ds)
    assert sorted(findings.loc[findings["severity"] == "error", "app"]) == \
        ["argocd/api", "argocd/jobs"]
    fix = make_fix(ds, findings=findings)
    text = incident_markdown(ds, findings, wave_graph(ds, findings), app="argocd/api",
                             dataset_label="ds", fix=fix)
    assert "clears every error" not in text and "clear all" not in text
    assert "exits 0 with no error;" not in text and "every app `ok`" not in text
    assert ("- **Status:** open: predicted from the rendered manifests of `ds`; the fix below "
            "clears what it can change; left: 1 error to resolve by hand and 1 error of another "
            "app, outside this incident (see Validation)") in text
    solution = section(text, "Solution")
    assert ("Applied to the analysis, these steps leave 2 errors of the 2 predicted: 1 error of "
            "`argocd/api` that only the steps to do by hand resolve") in solution
    validation = section(text, "Validation")
    assert "What remains:" in validation
    assert "- `argocd/jobs`: `Failed to load target state: " in validation
    assert ("`render` reports `ok` for the 1 app it rendered before and for `argocd/api` once "
            "its manifests generate") in validation
    assert "`check` still reports the 1 error of another app, outside this incident" in validation
    expected = section(text, "Expected results")
    # api was never rendered: nothing is claimed about what it deploys
    assert ("| `argocd/api` | fails: `ComparisonError` | Synced and Healthy once its manifests "
            "generate (what it deploys was not read) |") in expected


def test_several_candidates_are_alternatives(tmp_path):
    apps = {"web": application("web", wave="1"), "cert-manager": application("cert-manager"),
            "issuers": application("issuers")}
    root = write_dataset(tmp_path, apps, {"web.yaml": NAMESPACE + "---\n" + CERT})
    (root / "render-status.json").write_text(json.dumps({"apps": {
        "argocd/web": {"status": "ok"},
        "argocd/cert-manager": {"status": "remote", "message": "chart from a Helm repository"},
        "argocd/issuers": {"status": "remote", "message": "chart from a Helm repository"}}}))
    ds = load_dataset(root)
    findings = run_rules(ds)
    text = incident_markdown(ds, findings, wave_graph(ds, findings), dataset_label="ds")
    # either app may supply the CRD: one of them is enough ("supplies", not "supply")
    assert re.search(r"unless one of `argocd/(cert-manager|issuers)` and "
                     r"`argocd/(cert-manager|issuers)` supplies it", text), text


# -- Kubeflow ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def kubeflow(kubeflow_broken, kubeflow_broken_findings):
    ds, findings = kubeflow_broken, kubeflow_broken_findings
    from gitops_analysis.fix.proof import make_fix

    fix = make_fix(ds, findings=findings)
    text = incident_markdown(ds, findings, wave_graph(ds, findings), dataset_label="broken",
                             fix=fix, fix_dir="fix")
    return ds, fix, text


def test_kubeflow_writeup(kubeflow, ground_truth):
    ds, fix, text = kubeflow
    summary = ground_truth["summary"]["broken"]
    assert summary["invalidSpecErrors"] == {}
    pairs = summary["sharedResourcesByAppPair"]
    keys, crds = summary["sharedResources"], 41  # README: 373 ordinary + 41 CRDs
    assert text.startswith("# Incident analysis: argocd/kubeflow-common-services\n")
    head = section("\n## x\n" + text, "x")
    assert (f"- **Issue:** `argocd/kubeflow-common-services` (wave 0) deploys {keys} resources "
            f"that {len(pairs)} other apps deploy too; no app fails to sync yet") in head
    assert (f"Argo CD marks the {keys - crds} that are not CRDs with `SharedResourceWarning`"
            in text)
    # the one differing key: the JobSet CRD, by a certificate annotation
    (differing,) = summary["nonIdenticalSharedResources"]
    assert differing.startswith("apiextensions.k8s.io/CustomResourceDefinition/"
                                "jobsets.jobset.x-k8s.io")
    line = next(x for x in text.splitlines()
                if x.startswith("- CustomResourceDefinition `jobsets.jobset.x-k8s.io`: "))
    assert "`metadata.annotations[cert-manager.io/inject-ca-from]` is " in line
    assert "in `argocd/kubeflow-common-services` and " in line
    assert line.endswith(" in `argocd/kubeflow-trainer`")
    # README, fixed: common-services keeps 261 resources; the ground truth: 675 broken
    total = ground_truth["variants"]["broken"]["apps"]["kubeflow-common-services"]
    assert total["resourceCount"] - keys == 261
    assert f"keeps the 261 of its {total['resourceCount']} resources" in text


def test_kubeflow_validation_and_deployment(kubeflow):
    text = kubeflow[2]
    script = shell_block(section(text, "Validation"))
    # no repository given, and a render without origin annotations: render again first
    assert "REPO=path/to/checkout   # set this: a checkout of https://github.com/kubeflow/" \
           "manifests.git" in script
    assert 'gitops-analysis render "$REPO" --apps "$DATASET/apps" --out "$WORK/broken"' in script
    assert 'gitops-analysis check "$WORK/fixed"' in script
    deploy = shell_block(section(text, "Deployment"))
    lines = deploy.splitlines()
    # common-services syncs itself and prunes: it stops first, the owners sync, then it
    stop = lines.index("argocd app set argocd/kubeflow-common-services --sync-policy none")
    push = lines.index("git push")
    root_sync = lines.index("argocd app sync argocd/kubeflow-common-services")
    first_owner = next(i for i, x in enumerate(lines) if x.startswith("argocd app sync "))
    assert stop < push < first_owner < root_sync
    assert lines[-1].startswith("argocd app set argocd/kubeflow-common-services "
                                "--sync-policy automated")


def test_kubeflow_apps_that_change_are_only_those_whose_counts_change(kubeflow):
    from gitops_analysis.fix.document import fix_markdown

    ds, (plan, proof), _ = kubeflow
    doc = fix_markdown(ds, plan, proof)
    table = doc.split("Resource counts of the apps that change\n\n", 1)[1].split("\n\n", 1)[0]
    assert table.splitlines()[2:] == ["| `argocd/kubeflow-common-services` | 675 | 261 |"]
    assert "Counted in findings (one per app and resource" in doc


def test_no_incident_lists_every_possible_problem_or_says_how_many_more(tmp_path):
    # 22 apps whose Certificates' CRD may come from cert-manager, not rendered: 22 unproven
    # findings, 20 shown and the rest counted; the dataset-wide one names no app in backticks
    apps = {f"web{i:02d}": application(f"web{i:02d}", wave=str(i % 2)) for i in range(22)}
    apps["cert-manager"] = application("cert-manager")
    rendered = {f"web{i:02d}.yaml": CERT.replace("name: web", f"name: web{i:02d}")
                for i in range(22)}
    root = write_dataset(tmp_path, apps, rendered)
    status = {f"argocd/web{i:02d}": {"status": "ok"} for i in range(22)}
    status["argocd/cert-manager"] = {"status": "remote", "message": "chart from a Helm repo"}
    (root / "render-status.json").write_text(json.dumps({"apps": status}))
    ds = load_dataset(root)
    findings = run_rules(ds)
    text = incident_markdown(ds, findings, wave_graph(ds, findings), dataset_label="ds")
    assert text.startswith("# No incident in ")
    unproven = int((findings["confidence"] == "unproven").sum())
    # by hand: per web app, its Certificate's CRD and its namespace team (nobody creates it) may
    # come from cert-manager (44); the kind's unknown scope (1); the health check (waves 0, 1)
    assert unproven == 46
    assert f"- and {unproven - 20} more (`gitops-analysis check` lists them all)" in text
    assert "- ``" not in text


def test_on_openshift_gitops_the_health_check_goes_into_the_argocd_resource(tmp_path):
    # argocd-operator writes argocd-cm from its ArgoCD resource and undoes other changes
    # (argoproj-labs/argocd-operator controllers/argocd/configmap.go): the write-up must not
    # patch argocd-cm there
    import yaml as pyyaml

    from gitops_analysis.fix.proof import make_fix

    apps = {n: application(n, wave=w).replace("namespace: argocd", "namespace: openshift-gitops")
            for n, w in (("a", "0"), ("b", "1"))}
    root = write_dataset(tmp_path, apps, {"openshift-gitops_a.yaml": CONFIGMAP,
                                          "openshift-gitops_b.yaml": CONFIGMAP})
    ds = load_dataset(root, argocd_namespace="openshift-gitops")
    findings = run_rules(ds)
    fix = make_fix(ds, findings=findings)
    text = incident_markdown(ds, findings, wave_graph(ds, findings), dataset_label="ds", fix=fix)
    assert "patch configmap argocd-cm" not in text
    solution = section(text, "Solution")
    assert "from the `ArgoCD` resource `openshift-gitops` (namespace `openshift-gitops`)" in \
        solution
    block = solution.split("```yaml\n", 1)[1].split("```", 1)[0]
    entry = pyyaml.safe_load(block)["spec"]["resourceHealthChecks"][0]
    assert (entry["group"], entry["kind"]) == ("argoproj.io", "Application")
    assert entry["check"].startswith('hs = {}\nhs.status = "Progressing"\n')
    assert "kubectl -n openshift-gitops edit argocd openshift-gitops" in \
        section(text, "Deployment")
