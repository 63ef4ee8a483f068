"""What Argo CD reports: reading exports (load_live, import-live) and reconcile."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from conftest import DEMO, FIXTURES, ROOT
from gitops_analysis import InputError
from gitops_analysis import load_dataset
from gitops_analysis import run_rules
from gitops_analysis.cli.main import main
from gitops_analysis.load.live_export import (ARGOCD_CONDITION_TYPES, LIVE_FRAMES, LiveState,
                                  application_manifest, import_live, live_frames_markdown,
                                  load_live, load_live_dir)
from gitops_analysis.core.messages import crd_missing, namespace_not_found
from gitops_analysis.live.reconcile import (REASONS, ReconcileResult, reconcile, reconcile_json,
                                       reconcile_markdown, reconcile_text)

LIVE = FIXTURES / "live"
EXPORT = LIVE / "demo-broken.json"
WEBHOOK = "validator.clustertrainingruntime.trainer.kubeflow.org"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def broken():
    return load_dataset(DEMO / "broken")


@pytest.fixture(scope="module")
def findings(broken):
    return run_rules(broken)


@pytest.fixture(scope="module")
def live():
    return load_live(EXPORT)


@pytest.fixture(scope="module")
def result(broken, findings, live):
    return reconcile(broken, findings, live)


def export_data() -> dict:
    return json.loads(EXPORT.read_text())


def write(tmp_path, data, name="export.json", indent=4):
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=indent) if not isinstance(data, str) else data)
    return path


def item(data: dict, app: str) -> dict:
    return next(i for i in data["items"] if i["metadata"]["name"] == app)


# ------------------------------------------------------------------------------ the fixtures


def test_fixture_exports_are_current():
    proc = subprocess.run([sys.executable, str(LIVE / "make_exports.py"), "--check"],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    assert proc.returncode == 0, "tests/fixtures/live is stale: run make_exports.py: " + \
        proc.stderr


# ------------------------------------------------------------------------------ load_live


def test_load_live_frames_have_typed_columns(live):
    assert isinstance(live, LiveState)
    for frame, cols in LIVE_FRAMES.items():
        df = getattr(live, frame)
        assert list(df.columns) == [c.name for c in cols], frame
        for c in cols:
            assert str(df[c.name].dtype) == {"string": "string", "int64": "int64",
                                             "bool": "bool"}[c.dtype], (frame, c.name)
    assert "## `live_apps`" in live_frames_markdown()


def test_load_live_reads_every_app_and_its_status(live, broken):
    assert live.app_names() == sorted(broken.apps["name"])
    assert live.live_apps["has_status"].all()
    assert set(live.live_apps["sync_status"]) == {"OutOfSync"}
    assert set(live.live_apps["health_status"]) == {"Missing"}
    assert len(live.live_resources) == len(broken.resources) == 393
    assert len(live.operations) == 10 and (live.operations["retry_count"] == 5).all()
    web = live.live_apps.set_index("app").loc["web-apps"]
    assert web["revision"].count(",") == 2  # three sources: status.sync.revisions
    # apps comes from spec, read as the loader reads apps/
    cols = ["name", "app_namespace", "project", "wave", "destination_namespace", "cluster",
            "sync_options", "automated", "source_count", "source_paths"]
    pd.testing.assert_frame_equal(live.apps[cols], broken.apps[cols])
    assert len(live.sources) == len(broken.sources)


def test_omitted_fields_take_go_zero_values(live):
    r = live.live_resources
    cm = r[(r["app"] == "common-services") & (r["kind"] == "ConfigMap")].iloc[0]
    assert cm["group"] == "" and cm["namespace"] == ""  # omitempty core group, no namespace
    assert (r["sync_wave"] == 0).all() and not r["hook"].any() and not r["requires_pruning"].any()
    crd = r[(r["app"] == "trainer") & (r["kind"] == "CustomResourceDefinition")].iloc[0]
    assert (crd["status"], crd["health"]) == ("Synced", "Healthy")
    role = r[(r["app"] == "trainer") & (r["kind"] == "ClusterRole")].iloc[0]
    assert (role["status"], role["health"]) == ("Synced", "")  # no health check for the kind


def test_conditions_operations_and_sync_results(live):
    c = live.conditions
    assert c["known"].all() and set(c["type"]) <= set(ARGOCD_CONDITION_TYPES)
    cs = c[c["app"] == "common-services"]
    assert list(cs["type"].value_counts().sort_index().items()) == [
        ("InvalidSpecError", 1), ("SharedResourceWarning", 21), ("SyncError", 1)]
    assert (c[c["type"] == "SyncError"]["app"].tolist() == sorted(live.app_names()))
    ops = live.operations.set_index("app")
    assert ops.loc["common-services", "phase"] == "Error"
    assert ops.loc["common-services", "message"].startswith("InvalidSpecError: Namespace for")
    assert ops.loc["web-apps", "message"] == \
        "one or more synchronization tasks are not valid (retried 5 times)."
    sr = live.sync_results
    web = sr[sr["app"] == "web-apps"]
    assert len(web) == 9 and set(web["status"]) == {"SyncFailed"}
    vs = web[(web["kind"] == "VirtualService") & (web["name"] == "centraldashboard")].iloc[0]
    assert vs["message"] == crd_missing("networking.istio.io", "VirtualService", "kubeflow",
                                       "centraldashboard")
    assert (vs["sync_phase"], vs["hook_phase"], vs["hook_type"]) == ("Sync", "", "")
    sa = sr[(sr["app"] == "trainer") & (sr["kind"] == "ServiceAccount")].iloc[0]
    assert (sa["status"], sa["hook_phase"], sa["message"]) == \
        ("SyncFailed", "Failed", namespace_not_found("kubeflow-system"))


@pytest.mark.parametrize("name", ["demo-broken-subset.yaml", "demo-broken-app-list.json",
                                  "demo-broken-app-get-web-apps.json"])
def test_every_export_form_reads_the_same_rows(live, name):
    other = load_live(LIVE / name)
    apps = other.app_names()
    assert apps and set(apps) < set(live.app_names())
    for frame in ("live_resources", "conditions", "operations", "sync_results"):
        mine = getattr(other, frame)
        ref = getattr(live, frame)
        ref = ref[ref["app"].isin(apps)].reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, ref, obj=f"{name} {frame}")
    cols = ["name", "wave", "source_paths", "destination_namespace", "sync_options"]
    pd.testing.assert_frame_equal(
        other.apps[cols], live.apps[live.apps["name"].isin(apps)][cols].reset_index(drop=True))
    assert other.live_apps["line"].is_unique


def test_yaml_items_carry_their_lines():
    other = load_live(LIVE / "demo-broken-subset.yaml")
    lines = (LIVE / "demo-broken-subset.yaml").read_text().split("\n")
    for line in other.live_apps["line"]:
        assert lines[line - 1].startswith("- apiVersion: argoproj.io/v1alpha1")


def test_app_without_status_and_unknown_condition_types_are_kept():
    odd = load_live(LIVE / "odd-rows.json")
    la = odd.live_apps.set_index("app")
    assert not la.loc["just-created", "has_status"]
    assert la.loc["odd-conditions", "has_status"]
    assert list(odd.apps["name"]) == ["just-created", "odd-conditions"]
    c = odd.conditions.set_index("type")
    assert not c.loc["MadeUpWarning", "known"] and c.loc["OrphanedResourceWarning", "known"]
    assert c.loc["OrphanedResourceWarning", "last_transition_time"] == ""
    r = odd.live_resources.set_index("name")
    assert r.loc["migrate", "hook"] and r.loc["migrate", "sync_wave"] == -1
    assert r.loc["migrate", "status"] == "" and r.loc["migrate", "group"] == "batch"
    assert r.loc["web", "requires_pruning"] and r.loc["web", "health"] == "Degraded"
    assert r.loc["settings", "group"] == ""
    assert len(odd.warnings) == 2
    assert any("just-created has no status" in w for w in odd.warnings)
    assert any("MadeUpWarning" in w and "known=False" in w for w in odd.warnings)


# ------------------------------------------------------------------------------ bad exports


def assert_input_error(path, *parts):
    with pytest.raises(InputError) as exc:
        load_live(path)
    text = str(exc.value)
    for part in parts:
        assert part in text, text
    assert text.count(": ") >= 2  # file:line: what is wrong: what to do
    return text


def test_truncated_json_is_an_input_error(tmp_path):
    text = EXPORT.read_text()
    path = write(tmp_path, text[: len(text) // 3], "cut.json")
    msg = assert_input_error(path, "cut.json:", "not valid JSON", "cut short", "export it again")
    line = int(msg.split(":")[1])
    assert 1 < line <= text[: len(text) // 3].count("\n") + 1


def test_wrong_types_name_the_field_and_the_application(tmp_path):
    data = export_data()
    item(data, "katib")["status"]["resources"][3]["syncWave"] = "1"
    path = write(tmp_path, data)
    msg = assert_input_error(path, "Application katib: status.resources[3].syncWave is a string",
                             "not an integer")
    line = int(msg.split(":")[1])
    assert '"name": "katib"' in "\n".join(path.read_text().split("\n")[line - 1:line + 40])
    cases = [
        (("status", "conditions"), "oops", "status.conditions is a string"),
        (("status", "operationState", "retryCount"), "5", "retryCount is a string"),
        (("status", "operationState", "retryCount"), 5.5, "not an integer"),
        (("status", "resources"), {"a": 1}, "status.resources is an object"),
        (("status", "sync", "status"), 3, "status.sync.status is a number"),
        (("status",), ["x"], "status is a list"),
    ]
    for keys, value, text in cases:
        data = export_data()
        target = item(data, "web-apps")
        for k in keys[:-1]:
            target = target[k]
        target[keys[-1]] = value
        assert_input_error(write(tmp_path, data), "Application web-apps", text)
    data = export_data()
    item(data, "web-apps")["status"]["resources"][0]["hook"] = "true"
    assert_input_error(write(tmp_path, data), "status.resources[0].hook", "not true or false")
    data = export_data()
    item(data, "web-apps")["status"]["operationState"]["syncResult"]["resources"][2] = "x"
    assert_input_error(write(tmp_path, data), "syncResult.resources[2] is a string")


def test_other_bad_exports(tmp_path):
    assert_input_error(write(tmp_path, "", "empty.json"), "empty file")
    assert_input_error(write(tmp_path, "42", "n.json"), "the export is a number")
    assert_input_error(tmp_path / "missing.json", "no such file")
    assert_input_error(write(tmp_path, {"kind": "List", "items": "x"}), "'items'", "not a list")
    data = export_data()
    item(data, "spark").update(kind="Pod", apiVersion="v1")
    assert_input_error(write(tmp_path, data), 'a "Pod"', "not an argoproj.io Application")
    data = export_data()
    data["items"][3] = copy.deepcopy(data["items"][2])
    assert_input_error(write(tmp_path, data), "a second Application named")
    data = export_data()
    del item(data, "spark")["metadata"]["name"]
    assert_input_error(write(tmp_path, data), "metadata.name")
    data = export_data()
    data["items"][0] = ["not", "an", "object"]
    assert_input_error(write(tmp_path, data), "item 0 of the export is a list")
    (tmp_path / "bytes.json").write_bytes(b'{"items": ["\xff"]}')
    assert_input_error(tmp_path / "bytes.json", "not UTF-8")
    assert_input_error(write(tmp_path, "items:\n- metadata: {name: a\n", "bad.yaml"),
                       "bad.yaml:", "YAML")


def test_duplicate_keys_and_odd_files_are_said(tmp_path):
    data = export_data()
    text = json.dumps(data["items"][0], indent=2).replace(
        '"name": "common-services"', '"name": "x",\n    "name": "common-services"', 1)
    live = load_live(write(tmp_path, text, "dup.json"))
    assert live.app_names() == ["common-services"]
    assert any("duplicate key 'name'" in w for w in live.warnings)
    assert_input_error(tmp_path, "is a folder")


def test_yaml_is_read_safely(tmp_path):
    marker = tmp_path / "pwned"
    text = ("apiVersion: v1\nkind: List\nitems:\n"
            f"- !!python/object/apply:os.system [\"touch {marker}\"]\n")
    assert_input_error(write(tmp_path, text, "evil.yaml"), "evil.yaml:")
    assert not marker.exists()


def test_bad_export_exits_2_with_one_line(capsys, tmp_path):
    text = EXPORT.read_text()
    path = write(tmp_path, text[:5000], "cut.json")
    code, out, err = run(capsys, "import-live", path, "--out", tmp_path / "ds")
    assert code == 2 and out == "" and err.count("\n") == 1 and "cut.json:" in err
    assert not (tmp_path / "ds").exists()
    code, _, err = run(capsys, "reconcile", DEMO / "broken", "--live", path)
    assert code == 2 and err.count("\n") == 1


# ------------------------------------------------------------------------------ import-live


def test_import_live_writes_the_dataset_layout(tmp_path, capsys, broken):
    out = tmp_path / "ds"
    code, stdout, err = run(capsys, "import-live", EXPORT, "--out", out)
    assert code == 0 and err == "" and "wrote 10 Application(s)" in stdout
    assert sorted(p.name for p in (out / "apps").iterdir()) == \
        [f"{n}.yaml" for n in sorted(broken.apps["name"])]
    assert (out / "live" / EXPORT.name).read_bytes() == EXPORT.read_bytes()
    doc = yaml.safe_load((out / "apps" / "trainer.yaml").read_text())
    assert set(doc) == {"apiVersion", "kind", "metadata", "spec"}
    assert set(doc["metadata"]) == {"name", "namespace", "annotations", "finalizers"}
    original = yaml.safe_load((DEMO / "broken" / "apps" / "trainer.yaml").read_text())
    assert doc["spec"] == original["spec"]
    # the dataset loader reads the written apps/ as it reads the demo's
    ds = load_dataset(out)
    cols = ["name", "app_namespace", "wave", "source_paths", "destination_namespace",
            "sync_options", "automated", "cluster"]
    pd.testing.assert_frame_equal(ds.apps[cols], broken.apps[cols])
    assert (ds.apps["render_status"] == "missing").all()
    live = load_live_dir(out)
    assert live is not None and live.path == f"live/{EXPORT.name}"
    # the same again is fine; another export is refused without --force, replaced with it
    assert run(capsys, "import-live", EXPORT, "--out", out)[0] == 0
    code, _, err = run(capsys, "import-live", LIVE / "demo-broken-subset.yaml", "--out", out)
    assert code == 2 and "--force" in err and err.count("\n") == 1
    code, _, _ = run(capsys, "import-live", LIVE / "demo-broken-subset.yaml", "--out", out,
                     "--force")
    assert code == 0 and [p.name for p in (out / "live").iterdir()] == \
        ["demo-broken-subset.yaml"]


def test_import_live_is_deterministic_across_export_forms(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    import_live(EXPORT, a)
    import_live(LIVE / "demo-broken-subset.yaml", b)
    import_live(LIVE / "demo-broken-app-get-web-apps.json", b, force=True)  # no kind
    for p in (b / "apps").iterdir():
        assert p.read_text() == (a / "apps" / p.name).read_text(), p.name
    first = (a / "apps" / "web-apps.yaml").read_text()
    import_live(EXPORT, a, force=True)
    assert (a / "apps" / "web-apps.yaml").read_text() == first


def test_import_live_keeps_apps_without_status(tmp_path, capsys):
    code, out, err = run(capsys, "import-live", LIVE / "odd-rows.json", "--out", tmp_path / "ds")
    assert code == 0
    assert "1 with status, 1 without" in out
    assert "just-created has no status" in err and "MadeUpWarning" in err
    assert (tmp_path / "ds" / "apps" / "just-created.yaml").exists()


def test_application_manifest_drops_server_fields():
    raw = item(export_data(), "spark")
    raw["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = "{}"
    doc = application_manifest(raw)
    assert "status" not in doc and "uid" not in doc["metadata"]
    assert "kubectl.kubernetes.io/last-applied-configuration" not in doc["metadata"]["annotations"]
    assert doc["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "5"


def test_load_live_dir(tmp_path):
    assert load_live_dir(tmp_path) is None
    (tmp_path / "live").mkdir()
    assert load_live_dir(tmp_path) is None
    (tmp_path / "live" / "a.json").write_text(EXPORT.read_text())
    assert load_live_dir(tmp_path).path == "live/a.json"
    (tmp_path / "live" / "b.yaml").write_text("x: 1\n")
    with pytest.raises(InputError, match="2 exports in live/"):
        load_live_dir(tmp_path)


# ------------------------------------------------------------------------------ reconcile


def test_reconcile_demo_every_condition_is_explained(result):
    assert isinstance(result, ReconcileResult)
    obs = result.observations
    assert obs[obs["source"] == "condition"]["explained"].all()
    assert obs[obs["source"] == "operation"]["explained"].all()
    s = result.summary
    assert s["observed"] == 94 and s["observed_explained"] == 94
    assert s["observed_by_source"] == {"condition": 32, "sync_result": 52, "operation": 10}
    assert s["predictions"] == 126
    assert s["matched"] + s["predicted_only"] == 126


def test_reconcile_demo_webhook_failure_is_predicted(result):
    """trainer's validating webhook, whose Service is in the namespace that never comes, refuses
    its ClusterTrainingRuntimes on every retry: webhook-unavailable predicts both sync results
    character for character, so every observation is explained and reconcile exits 0."""
    assert result.exit_code == 0 and result.summary["exit_code"] == 0
    assert result.observed_only.empty
    m = result.matched[result.matched["slug"] == "webhook-unavailable"]
    assert list(m["name"]) == ["deepspeed-distributed", "torch-distributed"]
    assert set(m["app"]) == {"trainer"} and set(m["match"]) == {"exact"}
    assert m["predicted_message"].str.contains(WEBHOOK).all()
    assert (m["predicted_message"] == m["observed_message"]).all()
    for row in m.to_dict(orient="records"):
        assert {o["source"] for o in row["observed"]} == {"sync_result", "operation",
                                                           "condition"}
    # common-services carries the same ClusterTrainingRuntimes, but never gets to apply them
    po = result.predicted_only[result.predicted_only["slug"] == "webhook-unavailable"]
    assert set(po["app"]) == {"common-services"} and set(po["reason"]) == {"masked"}


def test_reconcile_demo_matches(result):
    m = result.matched.set_index(["app", "argocd_condition", "kind", "name"])
    ise = m.loc[("common-services", "InvalidSpecError", "ConfigMap",
                 "default-install-config-4ct9bg6t8b")]
    assert ise["match"] == "exact" and ise["observed_count"] == 3
    assert ise["predicted_message"] == ise["observed_message"] == \
        "Namespace for default-install-config-4ct9bg6t8b /v1, Kind=ConfigMap is missing."
    assert {o["source"] for o in ise["observed"]} == {"condition", "operation"}
    srw = result.matched[result.matched["argocd_condition"] == "SharedResourceWarning"]
    assert len(srw) == 21 and set(srw["app"]) == {"common-services"}
    assert (srw["match"] == "exact").all()
    assert (srw["predicted_message"] == srw["observed_message"]).all()
    # web-apps: one prediction per missing CRD kind, explaining its three resources
    web = result.matched[result.matched["app"] == "web-apps"]
    assert sorted(web["kind"]) == ["AuthorizationPolicy", "DestinationRule", "VirtualService"]
    for row in web.to_dict(orient="records"):
        kinds = [(o["source"], o["match"]) for o in row["observed"]]
        assert kinds.count(("sync_result", "exact")) == 1
        assert kinds.count(("sync_result", "same-cause")) == 2
        assert ("operation", "same-cause") in kinds
    # trainer's missing namespace: its eight sync results, the operation and the SyncError
    ns = m.loc[("trainer", "SyncError", "Namespace", "kubeflow-system")]
    assert ns["match"] == "same-cause" and ns["observed_count"] == 10


def test_reconcile_demo_predicted_only_reasons(result):
    po = result.predicted_only
    assert set(po["reason"]) <= set(REASONS)
    by = result.summary["predicted_only_by_reason"]
    assert by == {"other-side": 21, "not-live": 26, "masked": 8, "silent": 22}
    other = po[po["reason"] == "other-side"]
    assert set(other["app"]) == {"trainer", "spark"}
    row = other[other["name"] == "kubeflow-trainer-admin"].iloc[0]
    assert row["predicted_message"] == \
        "ClusterRole/kubeflow-trainer-admin is part of applications argocd/trainer and " \
        "common-services"
    assert row["observed_message"] == \
        "ClusterRole/kubeflow-trainer-admin is part of applications argocd/common-services and " \
        "trainer"
    masked = po[po["reason"] == "masked"]
    ns = masked[masked["kind"] == "Namespace"]
    assert sorted(ns["app"]) == ["jupyter", "katib", "kserve", "pipelines", "profiles",
                                 "web-apps"]
    # common-services' copies of trainer's ClusterTrainingRuntimes: refused by InvalidSpecError
    other = masked[masked["kind"] != "Namespace"]
    assert set(other["app"]) == {"common-services"} and \
        set(other["slug"]) == {"webhook-unavailable"} and len(other) == 2
    assert set(po[po["reason"] == "silent"]["argocd_condition"]) == {""}
    assert set(po[po["reason"] == "not-live"]["kind"]) == \
        {"ServiceAccount", "Secret", "Service", "Deployment"}


def test_reconcile_exit_0_when_everything_observed_is_explained(tmp_path, capsys, broken,
                                                                findings):
    data = export_data()
    op = item(data, "trainer")["status"]["operationState"]
    op["syncResult"]["resources"] = [r for r in op["syncResult"]["resources"]
                                     if r["kind"] != "ClusterTrainingRuntime"]
    path = write(tmp_path, data)
    res = reconcile(broken, findings, load_live(path))
    assert res.exit_code == 0 and len(res.observed_only) == 0
    assert run(capsys, "reconcile", DEMO / "broken", "--live", path)[0] == 0


def test_reconcile_observed_only_export_exits_1(capsys):
    code, out, _ = run(capsys, "reconcile", DEMO / "fixed", "--live",
                       LIVE / "demo-fixed-orphaned.json", "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert [(r["app"], r["type"], r["observed_message"]) for r in doc["observed_only"]] == \
        [("web-apps", "OrphanedResourceWarning", "Application has 1 orphaned resources")]
    assert "no rule predicts OrphanedResourceWarning" in doc["observed_only"][0]["note"]
    assert doc["matched"] == []
    assert doc["summary"]["apps"]["only_in_dataset"] == [
        "common-services", "jupyter", "katib", "kserve", "pipelines", "profiles", "spark",
        "tensorboard", "trainer"]


def test_reconcile_unknown_condition_type_is_observed_only(broken, findings):
    res = reconcile(broken, findings, load_live(LIVE / "odd-rows.json"))
    oo = res.observed_only.set_index("type")
    assert not oo.loc["MadeUpWarning", "known"]
    assert "not one Argo CD defines" in oo.loc["MadeUpWarning", "note"]
    assert res.summary["apps"]["without_status"] == 1
    assert set(res.predicted_only["reason"]) <= {"app-not-in-export", "silent"}


def test_type_shown_is_not_counted_as_a_match(tmp_path, broken, findings):
    """A condition type shown on the app with another message does not match a prediction."""
    data = export_data()
    status = item(data, "common-services")["status"]
    keep = "ClusterRole/kubeflow-trainer-admin is part of applications argocd/common-services " \
           "and trainer"
    status["conditions"] = [c for c in status["conditions"]
                            if c["type"] != "SharedResourceWarning" or c["message"] == keep]
    res = reconcile(broken, findings, load_live(write(tmp_path, data)))
    srw = res.matched[res.matched["argocd_condition"] == "SharedResourceWarning"]
    assert list(srw["predicted_message"]) == [keep]
    po = res.predicted_only
    shown = po[(po["app"] == "common-services") & (po["reason"] == "type-shown")]
    assert len(shown) == 20 and (shown["observed_message"] == keep).all()
    assert (po[(po["app"] == "common-services")
               & (po["argocd_condition"] == "SharedResourceWarning")]["reason"]
            .isin(["type-shown", "not-live"])).all()


def test_reconcile_other_export_forms(broken, findings):
    web = reconcile(broken, findings, load_live(LIVE / "demo-broken-app-get-web-apps.json"))
    assert web.exit_code == 0
    assert sorted(web.matched["kind"]) == ["AuthorizationPolicy", "DestinationRule",
                                           "VirtualService"]
    assert web.summary["predicted_only_by_reason"]["masked"] == 1
    lst = reconcile(broken, findings, load_live(LIVE / "demo-broken-app-list.json"))
    assert lst.exit_code == 0 and lst.observed_only.empty
    assert set(lst.predicted_only["reason"]) >= {"other-app-not-in-export", "not-live"}
    sub = reconcile(broken, findings, load_live(LIVE / "demo-broken-subset.yaml"))
    assert sub.summary["predicted_only_by_reason"]["other-side"] == 21


def test_reconcile_export_of_other_apps_is_an_input_error(tmp_path, capsys):
    path = write(tmp_path, {"apiVersion": "v1", "kind": "List", "items": []})
    code, out, err = run(capsys, "reconcile", DEMO / "broken", "--live", path)
    assert code == 2 and out == "" and "none of the export's 0 Application(s)" in err
    code, _, err = run(capsys, "reconcile", DEMO / "broken", "--live", LIVE / "odd-rows.json")
    assert code == 2 and err.count("\n") == 1


def test_reconcile_without_live_uses_the_kept_export(tmp_path, capsys):
    code, _, err = run(capsys, "reconcile", DEMO / "broken")
    assert code == 2 and "import-live" in err and err.count("\n") == 1
    ds = tmp_path / "ds"
    import_live(EXPORT, ds)
    import shutil

    shutil.copytree(DEMO / "broken" / "rendered", ds / "rendered")
    code, out, _ = run(capsys, "reconcile", ds, "--format", "json")
    assert code == 0 and json.loads(out)["summary"]["export"] == "live/demo-broken.json"


def test_reconcile_json_and_text(capsys, result):
    code, out, err = run(capsys, "reconcile", DEMO / "broken", "--live", EXPORT, "--format",
                         "json")
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert list(doc) == ["summary", "matched", "predicted_only", "observed_only"]
    assert doc == json.loads(reconcile_json(result))
    for key in ("matched", "predicted_only", "observed_only"):
        for row in doc[key]:
            assert "predicted_message" in row and "observed_message" in row
    code, out, _ = run(capsys, "reconcile", DEMO / "broken", "--live", EXPORT)
    assert code == 0 and out == reconcile_text(result)
    assert out.index("OBSERVED ONLY (0)") < out.index("MATCHED (49)") < \
        out.index("PREDICTED ONLY (77)")
    assert "predicted: Namespace for default-install-config-4ct9bg6t8b" in out


def test_reconcile_markdown(result):
    md = reconcile_markdown(result)
    assert md.startswith("## Predicted versus observed\n")
    assert "| app | Argo CD condition | matched | predicted only | observed only |" in md
    assert "| common-services | SharedResourceWarning | 21 | 13 | 0 |" in md
    assert "| trainer | SyncError | 3 | 0 | 0 |" in md
    assert "### Reported by Argo CD, predicted by no rule" not in md
    assert "| masked | 8 |" in md
    for line in md.splitlines():
        if line.startswith("|"):
            assert line.count("|") - line.count("\\|") in (5, 8, 4), line


def test_reconcile_is_deterministic(broken, findings, live, result):
    again = reconcile(broken, findings, load_live(EXPORT))
    assert again.to_dict() == result.to_dict()
    shuffled = findings.sample(frac=1, random_state=3).reset_index(drop=True)
    assert reconcile(broken, shuffled, live).to_dict() == result.to_dict()
