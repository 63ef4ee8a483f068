"""The command line: formats, exit codes, generated docs kept current."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, application, write_dataset
from gitops_analysis.cli.main import main
from gitops_analysis.rules import all_rules, rules_markdown
from gitops_analysis.core.schema import frames_markdown


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_generated_docs_are_current():
    assert (ROOT / "docs" / "rules.md").read_text() == rules_markdown(), \
        "docs/rules.md is stale: run `make docs`"
    assert (ROOT / "docs" / "frames.md").read_text() == frames_markdown(), \
        "docs/frames.md is stale: run `make docs`"


def test_every_rule_is_documented_and_unique():
    rules = all_rules()
    assert len({r.id for r in rules}) == len({r.slug for r in rules}) == len(rules) >= 12
    for r in rules:
        assert r.severity in ("error", "warning", "info")
        for part in (r.what, r.why, r.example, r.remediation, r.summary):
            assert part.strip(), r.slug


def test_not_a_dataset_exits_2(capsys, tmp_path):
    for cmd in ("inventory", "check", "report"):
        code, out, err = run(capsys, cmd, str(tmp_path / "missing"))
        assert code == 2 and err.count("\n") == 1
        assert "not a folder" in err or "dataset folder not found" in err


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["check"])
    assert exc.value.code == 2


@pytest.fixture
def failing(tmp_path):
    apps = {"a": application("a", namespace="")}
    rendered = {"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"}
    return write_dataset(tmp_path, apps, rendered)


def test_check_exit_codes_and_formats(capsys, failing):
    code, out, _ = run(capsys, "check", str(failing))
    assert code == 1 and "Namespace for c /v1, Kind=ConfigMap is missing." in out
    assert "apps that will fail: a" in out
    assert run(capsys, "check", str(failing), "--fail-on", "never")[0] == 0
    code, out, _ = run(capsys, "check", str(failing), "--format", "json")
    doc = json.loads(out)
    assert set(doc) == {"inputs", "coverage", "summary", "findings", "silenced"}
    assert doc["silenced"] == {"total": 0, "by_reason": {}, "by_rule": {}}
    assert doc["coverage"] == {"apps": 1, "analysed": 1, "partial": [], "not_analysed": [],
                               "not_expanded": [], "unreachable": []}
    f = doc["findings"][0]
    assert list(f) == ["rule", "slug", "severity", "argocd_condition", "app", "cluster", "group",
                       "version", "kind", "namespace", "name", "message", "detail",
                       "related_apps", "blocked_by", "chain", "confidence", "could_come_from", "file",
                       "line", "origin"]
    assert (f["slug"], f["argocd_condition"], f["file"], f["line"]) == \
        ("namespace-missing", "InvalidSpecError", "rendered/a.yaml", 1)
    code, out, _ = run(capsys, "check", str(failing), "--format", "sarif")
    sarif = json.loads(out)
    assert sarif["version"] == "2.1.0"
    result = sarif["runs"][0]["results"][0]
    assert result["ruleId"] == "GA201" and result["level"] == "error"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 1


def test_check_output_is_deterministic(capsys, failing):
    first = run(capsys, "check", str(failing), "--format", "json")[1]
    assert run(capsys, "check", str(failing), "--format", "json")[1] == first
    assert str(failing) not in first  # no absolute paths in outputs


def test_inventory_json(capsys, failing):
    code, out, _ = run(capsys, "inventory", str(failing), "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert doc["accounting"]["documents"] == 1 and doc["apps"][0]["kinds"] == {"ConfigMap": 1}


def test_argocd_cm_silences_app_health(capsys, tmp_path):
    cm_a = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
    ds = write_dataset(tmp_path / "d", {"a": application("a", wave="0", namespace="default"),
                                        "b": application("b", wave="1", namespace="default")},
                       {"a.yaml": cm_a, "b.yaml": cm_a.replace("name: x", "name: y")})
    code, out, _ = run(capsys, "check", str(ds), "--format", "json")
    assert [f["slug"] for f in json.loads(out)["findings"]] == ["app-health-missing"]
    cm = tmp_path / "argocd-cm.yaml"
    cm.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\ndata:\n"
                  "  resource.customizations.health.argoproj.io_Application: |\n"
                  "    hs = {}\n    return hs\n")
    code, out, _ = run(capsys, "check", str(ds), "--format", "json", "--argocd-cm", str(cm))
    assert json.loads(out)["findings"] == []


def test_cluster_api_declares_existing_kinds(capsys, tmp_path):
    ds = write_dataset(tmp_path / "d", {"a": application("a", namespace="default")}, {
        "a.yaml": "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\n"
                  "metadata:\n  name: m\n"})
    code, out, _ = run(capsys, "check", str(ds), "--format", "json")
    assert {f["slug"] for f in json.loads(out)["findings"]} == {"crd-missing", "unknown-scope"}
    api = tmp_path / "api.txt"
    api.write_text(
        "NAME              SHORTNAMES   APIVERSION                    NAMESPACED   KIND"
        "             VERBS\n"
        "configmaps        cm           v1                            true         ConfigMap"
        "        [create delete]\n"
        "servicemonitors   smon         monitoring.coreos.com/v1      true         "
        "ServiceMonitor   [get list]\n")
    code, out, _ = run(capsys, "check", str(ds), "--format", "json", "--cluster-api", str(api))
    assert json.loads(out)["findings"] == [] and code == 0


def test_console_script_is_installed():
    exe = Path(sys.executable).with_name("gitops-analysis")
    proc = subprocess.run([str(exe), "rules"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "shared-resource" in proc.stdout


def test_check_cache_gives_the_same_answer_and_sees_changes(capsys, failing):
    cold = run(capsys, "check", str(failing), "--no-cache")
    first = run(capsys, "check", str(failing))
    warm = run(capsys, "check", str(failing))
    assert cold[:2] == first[:2] == warm[:2] and warm[0] == 1
    assert run(capsys, "check", str(failing), "--fail-on", "never")[0] == 0
    # a changed input is a new key
    (failing / "rendered" / "a.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: default\n")
    code, out, _ = run(capsys, "check", str(failing))
    assert code == 0 and "Namespace for c" not in out
