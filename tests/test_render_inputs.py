"""Which Application files ``render`` reads, which copy of a name the dataset holds and what it
says about the others, and what the Applications written to ``apps/`` hold.

Every repository here is written by the test; the expectations follow from the layout by hand
(README "Which apps render": from the roots, an app is followed in the version its parent's
output holds; files no root reaches are unreachable).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import yaml

from gitops_analysis.core.errors import InputError
from gitops_analysis.render.run import render_repository

pytest.importorskip("pykustomize")

URL = "https://git.example.com/org/inputs.git"
ORIGIN = "config.kubernetes.io/origin"


def _app(name: str, path: str, namespace: str = "demo") -> dict:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": name, "namespace": "argocd"},
            "spec": {"project": "default",
                     "source": {"repoURL": URL, "path": path, "targetRevision": "HEAD"},
                     "destination": {"server": "https://kubernetes.default.svc",
                                     "namespace": namespace}}}


def _write(root: Path, files: dict[str, object]) -> Path:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return root


def _render(repo: Path, out: Path, **kw):
    log = io.StringIO()
    report = render_repository(repo, out, repo_map={URL: repo}, use_cache=False,
                               kustomize="pykustomize", progress=log, **kw)
    warnings = [line for line in log.getvalue().splitlines()
                if not re.match(r"render: \d+ apps? in ", line)]  # all but the summary
    return report, warnings


CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}


# --- B4: --apps FOLDER with a Helm chart in it ------------------------------------------------

def test_apps_folder_skips_chart_files_and_warns_about_other_broken_files(tmp_path):
    repo = _write(tmp_path / "repo", {
        "m/cm.yaml": CM,
        "apps/app.yaml": _app("a", "m"),
        "apps/chart/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
        # a Helm template: no YAML until Helm renders it
        "apps/chart/templates/cm.yaml": "data:\n{{- include \"x\" . | nindent 4 }}\n  k: v\n",
        "apps/broken.yaml": "a: [1, 2\nb: c\n"})
    report, warnings = _render(repo, tmp_path / "ds", apps_paths=[repo / "apps"])
    assert [(a.name, a.status) for a in report.apps] == [("argocd/a", "ok")]
    assert not [w for w in warnings if "/apps/chart/" in w]
    broken = [w for w in warnings if "broken.yaml" in w]
    assert len(broken) == 1
    assert broken[0].startswith(f"render: {repo / 'apps' / 'broken.yaml'}:")
    assert broken[0].split(": ")[1].rsplit(":", 1)[1].isdigit()  # file:line
    assert ": skipped" in broken[0]

    # a file named on its own that does not parse stays an error
    with pytest.raises(InputError, match="broken.yaml"):
        _render(repo, tmp_path / "ds2", apps_paths=[repo / "apps" / "broken.yaml"])


# --- B7: the copy of a name the dataset holds --------------------------------------------------

def test_the_warning_names_the_copy_the_dataset_holds(tmp_path):
    repo = _write(tmp_path / "repo", {
        "m/cm.yaml": CM,
        "a-standalone/c.yaml": _app("c", "m", "demo1"),
        "z-parent/parent.yaml": _app("parent", "z-children", "argocd"),
        "z-children/c.yaml": _app("c", "m", "demo2")})
    report, warnings = _render(repo, tmp_path / "ds")
    assert sorted(a.name for a in report.apps) == ["argocd/c", "argocd/parent"]
    # the root is the app-of-apps; its output's copy of c is the one followed and written
    held = yaml.safe_load((tmp_path / "ds" / "apps" / "c.yaml").read_text())
    assert held["spec"]["destination"]["namespace"] == "demo2"
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("render: a-standalone/c.yaml:1: Application argocd/c: not "
                                  "rendered: the dataset holds its copy rendered by "
                                  "argocd/parent")
    assert "z-children/c.yaml" not in warnings[0]


def test_copies_no_root_reaches_are_unreachable_without_a_warning(tmp_path):
    repo = _write(tmp_path / "repo", {
        "m/cm.yaml": CM,
        "parent.yaml": _app("parent", "children", "argocd"),
        "children/a.yaml": _app("a", "m"),
        "x/dup.yaml": _app("dup", "m", "one"),
        "y/dup.yaml": _app("dup", "m", "two")})
    report, warnings = _render(repo, tmp_path / "ds")
    assert sorted(a.name for a in report.apps) == ["argocd/a", "argocd/parent"]
    assert warnings == []
    assert [(u.file, u.name) for u in report.unreachable] == \
        [("x/dup.yaml", "argocd/dup"), ("y/dup.yaml", "argocd/dup")]
    status = json.loads((tmp_path / "ds" / "render-status.json").read_text())
    assert [u["file"] for u in status["unreachable"]] == ["x/dup.yaml", "y/dup.yaml"]


# --- R9: apps/ without the annotations render added --------------------------------------------

def test_apps_written_from_a_kustomize_parent_carry_no_origin_annotation_of_ours(tmp_path):
    child = _app("child", "m")
    child["metadata"]["annotations"] = {"team": "a"}
    repo = _write(tmp_path / "repo", {
        "m/cm.yaml": CM,
        "parent.yaml": _app("parent", "children", "argocd"),
        "children/kustomization.yaml": {"resources": ["child.yaml"]},
        "children/child.yaml": child})
    report, _ = _render(repo, tmp_path / "ds")
    assert {a.name: a.status for a in report.apps} == {"argocd/child": "ok",
                                                      "argocd/parent": "ok"}
    written = yaml.safe_load((tmp_path / "ds" / "apps" / "child.yaml").read_text())
    assert written["metadata"]["annotations"] == {"team": "a"}
    # the parent's rendered output keeps it: where each resource comes from
    rendered = yaml.safe_load((tmp_path / "ds" / "rendered" / "parent.yaml").read_text())
    assert rendered["metadata"]["annotations"][ORIGIN] == "path: child.yaml\n"


def test_an_origin_annotation_the_source_asks_for_is_kept(tmp_path):
    repo = _write(tmp_path / "repo", {
        "m/cm.yaml": CM,
        "parent.yaml": _app("parent", "children", "argocd"),
        "children/kustomization.yaml": {"resources": ["child.yaml"],
                                        "buildMetadata": ["originAnnotations"]},
        "children/child.yaml": _app("child", "m")})
    _render(repo, tmp_path / "ds")
    written = yaml.safe_load((tmp_path / "ds" / "apps" / "child.yaml").read_text())
    assert written["metadata"]["annotations"][ORIGIN] == "path: child.yaml\n"


# --- B8: the control-plane namespace render was given, recorded --------------------------------

def test_the_argocd_namespace_render_is_given_is_recorded(tmp_path, monkeypatch):
    from gitops_analysis.cli.main import main

    app = _app("a", "m")
    del app["metadata"]["namespace"]  # it lives in the control-plane namespace
    repo = _write(tmp_path / "repo", {"m/cm.yaml": CM, "app.yaml": app})
    monkeypatch.chdir(tmp_path)

    def recorded(*flags: str) -> dict:
        out = tmp_path / "ds"
        main(["render", str(repo), "--out", str(out), "--repo-map", f"{URL}={repo}",
              "--no-cache", *flags])
        return json.loads((out / "render-status.json").read_text())

    assert "argocd_namespace" not in recorded()  # not given: the readers' default applies
    doc = recorded("--argocd-namespace", "openshift-gitops")
    assert doc["argocd_namespace"] == "openshift-gitops"
    assert list(doc["apps"]) == ["openshift-gitops/a"]
    # from the configuration file of the repository
    (repo / ".gitops-analysis.toml").write_text('control-plane-namespace = "gitops"\n')
    assert recorded()["argocd_namespace"] == "gitops"
    assert recorded("--argocd-namespace", "flag")["argocd_namespace"] == "flag"


def test_with_apps_the_first_copy_is_held_and_the_warning_says_so(tmp_path):
    repo = _write(tmp_path / "repo", {"m/cm.yaml": CM, "apps/a.yaml": _app("c", "m", "one"),
                                      "apps/b.yaml": _app("c", "m", "two")})
    _, warnings = _render(repo, tmp_path / "ds", apps_paths=[repo / "apps"])
    held = yaml.safe_load((tmp_path / "ds" / "apps" / "c.yaml").read_text())
    assert held["spec"]["destination"]["namespace"] == "one"  # apps/a.yaml, read first
    assert warnings == [f"render: {repo / 'apps' / 'b.yaml'}:1: Application argocd/c: skipped, "
                        "a second one: the dataset holds the copy at "
                        f"{repo / 'apps' / 'a.yaml'}:1; give each one of a namespace its own "
                        "name"]
