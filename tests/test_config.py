"""The configuration (``.gitops-analysis.toml`` or ``[tool.gitops-analysis]``) and what it
silences, on a real dataset: apps ``a`` and ``b`` both deploy ConfigMap ``default/foo``, so Argo
CD warns on both (GA101, ``ConfigMap/foo is part of applications argocd/a and b`` and the same
from ``b``'s side, docs/rules.md), and nothing else (namespace ``default`` is always there)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import application, write_dataset
from gitops_analysis.cli.main import main
from gitops_analysis.core.errors import InputError
from gitops_analysis.load.config import Config, config_for, find_config, load_config
from gitops_analysis.load.dataset import load_dataset
from gitops_analysis.rules import run_rules
from gitops_analysis.rules.policy import apply_policy, policy_from

FOO = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: foo\n  namespace: default\ndata:\n" \
      "  k: v\n"
WARN_A = "ConfigMap/foo is part of applications argocd/a and b"
WARN_B = "ConfigMap/foo is part of applications argocd/b and a"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("config") / "ds"
    return write_dataset(root, {"a": application("a", namespace="default"),
                                "b": application("b", namespace="default")},
                         {"a.yaml": FOO, "b.yaml": FOO})


def _findings(dataset: Path, config: Config):
    ds = load_dataset(dataset)
    return apply_policy(run_rules(ds), ds, policy_from(config))


def _toml(folder: Path, text: str, name: str = ".gitops-analysis.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder / name


def test_without_configuration_both_warnings(dataset):
    kept, silenced = _findings(dataset, Config())
    assert list(zip(kept["rule"], kept["app"], kept["message"])) == \
        [("GA101", "argocd/a", WARN_A), ("GA101", "argocd/b", WARN_B)]
    assert silenced.total == 0 and silenced.line() == ""


def test_every_key_is_read_and_paths_are_relative_to_the_file(tmp_path):
    (tmp_path / "cluster").mkdir()
    path = _toml(tmp_path, """
select = ["GA101", "crd-late"]
ignore = "GA401"
cluster-api = "cluster/api.txt"
cluster-namespaces = "cluster/ns.txt"
control-plane-namespace = "gitops"
repo-map = {"https://git.example/charts.git" = "../charts"}

[severity]
shared-resource = "error"

[per-app-ignores]
"argocd/legacy-*" = ["GA101"]

[per-path-ignores]
"apps/old/*" = ["*"]
""")
    cfg = load_config(path)
    assert cfg.select == ("GA101", "crd-late")
    assert cfg.ignore == ("GA401",)
    assert cfg.cluster_api == str(tmp_path / "cluster" / "api.txt")
    assert cfg.cluster_namespaces == str(tmp_path / "cluster" / "ns.txt")
    assert cfg.control_plane_namespace == "gitops"
    assert cfg.repo_map == (("https://git.example/charts.git", str(tmp_path / "../charts")),)
    assert cfg.severity == (("shared-resource", "error"),)
    assert cfg.per_app_ignores == (("argocd/legacy-*", ("GA101",)),)
    assert cfg.per_path_ignores == (("apps/old/*", ("*",)),)
    policy = policy_from(cfg)
    assert policy.select == {"GA101", "GA302"} and policy.severity == (("GA101", "error"),)
    path.write_text("cluster-namespaces = ['kube-system', 'istio-system', 'kube-system']\n")
    assert load_config(path).cluster_namespaces == ("istio-system", "kube-system")


def test_pyproject_table_and_discovery(tmp_path):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert find_config(repo / "sub") is None  # a pyproject.toml without the table is not ours
    (repo / "pyproject.toml").write_text("[project]\nname = 'x'\n\n[tool.gitops-analysis]\n"
                                         "ignore = ['GA402']\n")
    (repo / "apps" / "deep").mkdir(parents=True)
    assert find_config(repo / "apps" / "deep") == repo / "pyproject.toml"
    assert config_for(repo / "apps", None).ignore == ("GA402",)
    # the dedicated file wins in the same folder; the search stops at the checkout's root
    _toml(repo, "ignore = ['GA101']\n")
    assert config_for(repo, None).ignore == ("GA101",)
    _toml(tmp_path, "ignore = ['GA303']\n")
    (repo / ".gitops-analysis.toml").unlink()
    (repo / "pyproject.toml").unlink()
    assert find_config(repo) is None


@pytest.mark.parametrize(("text", "line", "what"), [
    ("select = [\n  'GA101',\n  oops\n]\n", 3, "not valid TOML"),
    ("ignore = ['GA101']\nselct = ['GA101']\n", 2, "unknown key 'selct'"),
    ("[severity]\nGA101 = 'fatal'\n", 2, "severity of GA101 is 'fatal'"),
    ("ignore = 3\n", 1, "ignore is not a list of strings"),
])
def test_errors_name_the_file_and_line(tmp_path, text, line, what):
    path = _toml(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}:{line}: {what}")
    assert str(err.value).count(": ") >= 2  # file:line: what is wrong: what to do


def test_an_unknown_rule_is_an_error_at_its_line(tmp_path):
    path = _toml(tmp_path, "select = ['GA101']\n\n[per-app-ignores]\n'argocd/x' = ['GA1O1']\n")
    with pytest.raises(InputError) as err:
        policy_from(load_config(path))
    assert str(err.value) == (f"{path}:4: unknown rule 'GA1O1' in per-app-ignores.argocd/x: use "
                              "a rule id or slug that 'gitops-analysis rules' lists")


def test_flags_win_over_the_file(tmp_path):
    cfg = load_config(_toml(tmp_path, "select = ['GA101']\nignore = ['GA102']\n"))
    out = cfg.with_flags(select=["GA301,crd-late", "GA201"], ignore=None)
    assert out.select == ("GA301", "crd-late", "GA201") and out.ignore == ("GA102",)
    assert cfg.with_flags(ignore=["GA101"]).ignore == ("GA101",)


@pytest.mark.parametrize(("toml", "kept", "reason", "count"), [
    ("ignore = ['shared-resource']", [], "ignore", 2),
    ("select = ['GA102']", [], "select", 2),
    ("[per-app-ignores]\n'argocd/b' = ['GA101']", ["argocd/a"], "per-app", 1),
    ("[per-app-ignores]\n'argocd/*' = ['*']", [], "per-app", 2),
    ("[per-app-ignores]\n'argocd/b' = ['GA102']", ["argocd/a", "argocd/b"], None, 0),
    # the apps' source paths are a and b (conftest.application)
    ("[per-path-ignores]\n'a' = ['GA101']", ["argocd/b"], "per-path", 1),
])
def test_what_the_configuration_silences_is_counted(dataset, tmp_path, toml, kept, reason,
                                                    count):
    kept_frame, silenced = _findings(dataset, load_config(_toml(tmp_path, toml + "\n")))
    assert list(kept_frame["app"]) == kept
    assert silenced.total == count
    if reason:
        assert silenced.as_dict()["by_reason"] == {reason: count}
        assert silenced.line() == f"silenced: {count} finding{'s' if count > 1 else ''} " \
                                  f"({count} by {reason})"


def test_severity_override(dataset, tmp_path):
    kept, _ = _findings(dataset, load_config(_toml(tmp_path, "[severity]\nGA101 = 'error'\n")))
    assert list(kept["severity"].astype(str)) == ["error", "error"]
    assert list(kept["message"]) == [WARN_A, WARN_B]  # Argo CD's words stay


def test_check_reads_the_configuration_and_counts_what_it_silenced(dataset, tmp_path,
                                                                   monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    _toml(tmp_path, "[per-app-ignores]\n'argocd/b' = ['shared-resource']\n")
    code = main(["check", str(dataset), "--format", "json", "--fail-on", "warning"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    assert [(f["app"], f["message"]) for f in doc["findings"]] == [("argocd/a", WARN_A)]
    assert doc["silenced"] == {"total": 1, "by_reason": {"per-app": 1}, "by_rule": {"GA101": 1}}
    # --ignore on the command line wins, --config names another file
    other = _toml(tmp_path / "other", "select = ['GA102']\n")
    assert main(["check", str(dataset), "--config", str(other), "--fail-on", "warning"]) == 0
    text = capsys.readouterr().out
    assert "silenced: 2 findings (2 by select)" in text
    assert main(["check", str(dataset), "--ignore", "GA101", "--fail-on", "warning"]) == 0
    assert "silenced: 2 findings (2 by ignore)" in capsys.readouterr().out


def _unnamespaced(root: Path, status: dict) -> Path:
    """One Application without metadata.namespace: it lives in the control-plane namespace, so
    its key (<namespace>/web) shows which namespace was taken."""
    app = application("web", namespace="default").replace("  namespace: argocd\n", "")
    write_dataset(root, {"web": app}, {"web.yaml": "apiVersion: v1\nkind: ConfigMap\n"
                                                   "metadata:\n  name: c\n  namespace: default\n"})
    (root / "render-status.json").write_text(json.dumps(status))
    return root


def _inventory_apps(capsys, *argv) -> list[str]:
    assert main(["inventory", *argv, "--format", "json"]) == 0
    return [a["app"] for a in json.loads(capsys.readouterr().out)["apps"]]


def test_the_namespace_render_recorded_is_the_default(tmp_path, monkeypatch, capsys):
    """flag > configuration > render-status.json's argocd_namespace > argocd."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()  # no configuration above
    ok = {"web": {"status": "ok", "message": ""}}
    recorded = str(_unnamespaced(tmp_path / "rec", {"argocd_namespace": "gitops", "apps": ok}))
    plain = str(_unnamespaced(tmp_path / "plain", {"apps": ok}))
    assert _inventory_apps(capsys, recorded) == ["gitops/web"]
    assert _inventory_apps(capsys, plain) == ["argocd/web"]
    assert _inventory_apps(capsys, recorded, "--argocd-namespace", "flag") == ["flag/web"]
    assert main(["check", "--no-cache", recorded, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["coverage"]["analysed"] == 1
    assert main(["check", "--no-cache", recorded]) == 0
    assert capsys.readouterr().out.startswith("rec: 1 of 1 app analysed\n")
    from gitops_analysis.views.notebook import prepare

    assert prepare(recorded).ds.argocd_namespace == "gitops"  # report's notebooks
    from argparse import Namespace

    from gitops_analysis.cli.common import load

    # what fix and reconcile load (their options, none given)
    assert load(Namespace(dataset=recorded, argocd_namespace=None, cluster_api=None,
                          cluster_namespaces=None)).argocd_namespace == "gitops"
    # the configuration wins over what render recorded, the flag over both
    _toml(tmp_path, 'control-plane-namespace = "cfg"\n')
    assert _inventory_apps(capsys, recorded) == ["cfg/web"]
    assert _inventory_apps(capsys, recorded, "--argocd-namespace", "flag") == ["flag/web"]


def test_a_recorded_namespace_that_is_not_one_is_an_input_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    root = _unnamespaced(tmp_path / "bad", {"argocd_namespace": 3, "apps": {}})
    assert main(["inventory", str(root)]) == 2
    err = capsys.readouterr().err
    assert "render-status.json: argocd_namespace 3 is not a namespace: render the repository " \
           "again, or pass --argocd-namespace NS" in err
    assert main(["inventory", str(root), "--argocd-namespace", "argocd"]) == 0
