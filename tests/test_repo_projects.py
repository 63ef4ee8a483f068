"""An AppProject written beside the root Application and applied by hand with it (no app
deploys it): the project Argo CD will have, that the dataset does not. A missing project is then
unproven, naming the file; with ``--projects`` that file, it is found."""

from __future__ import annotations

import json

from gitops_analysis import load_dataset, run_rules
from gitops_analysis.load.projects import read_projects_file
from gitops_analysis.render.run import render_repository

URL = "https://git.example.com/platform/cluster.git"
ROOT = f"""apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {{name: root, namespace: argocd}}
spec:
  project: platform
  source: {{repoURL: {URL}, path: apps, targetRevision: main}}
  destination: {{server: https://kubernetes.default.svc, namespace: argocd}}
"""
PROJECT = """apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata: {name: platform, namespace: argocd}
spec:
  sourceRepos: ['*']
  destinations: [{server: https://kubernetes.default.svc, namespace: '*'}]
  clusterResourceWhitelist: [{group: '*', kind: '*'}]
"""
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: argocd}\n"
# the root deploys another project: the dataset knows projects (it does not guess them all)
TEAM = PROJECT.replace("name: platform", "name: team")


def _render(tmp_path):
    repo = tmp_path / "repo"
    (repo / "apps").mkdir(parents=True)
    (repo / "root.yaml").write_text(ROOT)
    (repo / "project.yaml").write_text("# applied with root.yaml\n" + PROJECT)
    (repo / "apps" / "settings.yaml").write_text(CM + "---\n" + TEAM)
    render_repository(repo, tmp_path / "ds", repo_map={URL: str(repo)}, use_cache=False,
                      helm="none")
    return repo, tmp_path / "ds"


def test_render_records_where_the_projects_are_written(tmp_path):
    _, ds = _render(tmp_path)
    status = json.loads((ds / "render-status.json").read_text())
    assert status["repository_projects"] == [
        {"name": "platform", "namespace": "argocd", "file": "project.yaml", "line": 2},
        {"name": "team", "namespace": "argocd", "file": "apps/settings.yaml", "line": 5}]


def test_a_project_written_but_not_deployed_is_unproven_and_named(tmp_path):
    repo, ds = _render(tmp_path)
    found = run_rules(load_dataset(ds))
    missing = found[found["slug"] == "project-missing"]
    assert missing["app"].tolist() == ["argocd/root"]
    assert (missing["severity"].iloc[0], missing["confidence"].iloc[0]) == ("warning",
                                                                             "unproven")
    assert missing["detail"].iloc[0] == (
        "AppProject platform is written at project.yaml:2, but no app deploys it: if it is "
        "applied by hand, pass that file with --projects")
    # with the file given, Argo CD's project is known: nothing is missing
    again = run_rules(load_dataset(ds), projects=read_projects_file(repo / "project.yaml"))
    assert not (again["slug"] == "project-missing").any()


def test_without_the_file_the_project_is_certainly_missing(tmp_path):
    repo, ds = _render(tmp_path)
    (repo / "project.yaml").unlink()
    render_repository(repo, ds, repo_map={URL: str(repo)}, use_cache=False, helm="none")
    missing = run_rules(load_dataset(ds))
    missing = missing[missing["slug"] == "project-missing"]
    assert (missing["severity"].iloc[0], missing["confidence"].iloc[0]) == ("error", "certain")
