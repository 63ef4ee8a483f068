"""``gitops-analysis render``: the real renderers, Argo CD's decisions, offline and safe.

The fixture repository (tests/fixtures/repo, see its README) has one app of each kind. Rendered
output is compared with what the renderer itself prints for the same path (pykustomize called
directly, origin annotations aside), or with the files themselves for a plain directory.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import DEMO, FIXTURES
from conftest import wall_clock_limit
from gitops_analysis import load_dataset
from gitops_analysis.cli.main import main
from gitops_analysis.core.errors import GitopsAnalysisError, InputError, UsageError
from gitops_analysis.core.globs import glob_match
from gitops_analysis.render.helm import NO_HELM
from gitops_analysis.render.kustomize import kustomize_build
from gitops_analysis.render.repositories import url_key
from gitops_analysis.render.run import render_repository

REPO = FIXTURES / "repo"
URL = "https://git.example.com/fixture-org/fixture-gitops.git"
ORIGIN = "config.kubernetes.io/origin"
APPS = [REPO / "apps", REPO / "app-of-apps" / "root.yaml"]

pykustomize = pytest.importorskip("pykustomize")
#: a Helm renderer: a helm binary on PATH, else helm-python-sdk (make install)
HELM = bool(shutil.which("helm") or importlib.util.find_spec("helm_python"))


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for rel, data in _tree(folder).items():
        h.update(rel.encode() + b"\0" + data)
    return h.hexdigest()


def _kustomize(path: Path) -> str:
    """The renderer's own output for a path (no origin annotations: the user's files)."""
    return asyncio.run(pykustomize.build(str(path))).yaml


def _docs(text: str) -> list[dict]:
    """Documents with the origin annotation taken out (and annotations left empty by it)."""
    out = []
    for d in yaml.safe_load_all(text):
        if d is None:
            continue
        meta = d.get("metadata") or {}
        ann = meta.get("annotations") or {}
        ann.pop(ORIGIN, None)
        if "annotations" in meta and not ann:
            del meta["annotations"]
        out.append(d)
    return out


def _origins(text: str) -> list[str | None]:
    return [(d.get("metadata", {}).get("annotations") or {}).get(ORIGIN)
            for d in yaml.safe_load_all(text) if d]


def _parts(text: str) -> list[tuple[str, str]]:
    """(path, text) of each "# Source:" part of a multi-source render."""
    out = []
    for chunk in text.split("# Source: ")[1:]:
        path, _, body = chunk.partition("\n")
        out.append((path, body))
    return out


@pytest.fixture(scope="module")
def fixture_render(tmp_path_factory):
    out = tmp_path_factory.mktemp("render") / "ds"
    before = _digest(REPO)
    started = time.monotonic()
    report = render_repository(REPO, out, apps_paths=APPS, repo_map={URL: REPO},
                               use_cache=False, kustomize="pykustomize")
    seconds = time.monotonic() - started
    assert _digest(REPO) == before, "the user's files were written"
    return report, out, seconds


def _rendered(out: Path, app: str) -> str:
    return (out / "rendered" / f"{app}.yaml").read_text()


def test_every_app_gets_its_status(fixture_render):
    report, out, _ = fixture_render
    got = {a.name: a.status for a in report.apps}
    assert got == {
        "argocd/shop": "ok", "argocd/plain": "ok", "argocd/multi": "ok", "argocd/root": "ok",
        "argocd/child-guestbook": "ok", "argocd/child-plain": "ok",
        "argocd/shop-helm": "ok" if HELM else "unsupported",
        "argocd/remote": "remote", "argocd/escape": "escaped", "argocd/broken": "failed", "argocd/elsewhere": "external",
        "argocd/jsonnet": "unsupported", "argocd/plugin": "unsupported"}
    assert report.exit_code == 1
    status = json.loads((out / "render-status.json").read_text())["apps"]
    assert sorted(status) == sorted(got)
    for name, entry in status.items():
        assert set(entry) - {"failure"} == {"status", "renderer", "version", "message",
                                            "source_types"}
        # only a failure Argo CD's repo server makes too carries the ComparisonError text
        assert ("failure" in entry) == (name == "argocd/broken"), name
        assert entry["status"] == got[name]
        assert (entry["message"] == "") == (entry["status"] == "ok"), name
    assert status["argocd/shop"]["renderer"] == "kustomize"
    assert "pykustomize" in status["argocd/shop"]["version"]
    assert status["argocd/multi"]["source_types"] == ["kustomize", "directory", "unknown"]
    assert status["argocd/plugin"]["source_types"] == ["plugin"]
    assert status["argocd/jsonnet"]["source_types"] == ["directory"]
    # rendered files exactly for the apps that rendered
    # (named by instance name: these apps live in the control-plane namespace)
    assert sorted("argocd/" + p.stem for p in (out / "rendered").glob("*.yaml")) == \
        sorted(n for n, s in got.items() if s == "ok")
    assert sorted("argocd/" + p.stem for p in (out / "apps").glob("*.yaml")) == sorted(got)


def test_the_loader_reads_the_dataset(fixture_render):
    report, out, _ = fixture_render
    ds = load_dataset(out)
    assert ds.accounting.load_errors == 0 and ds.accounting.app_load_errors == 0
    st = dict(zip(ds.apps["app"], ds.apps["render_status"]))
    assert st == {a.name: a.status for a in report.apps}
    msg = dict(zip(ds.apps["app"], ds.apps["render_message"]))
    assert "missing.yaml" in msg["argocd/broken"]
    types = ds.sources[ds.sources["app"] == "argocd/shop"]["type"].tolist()
    assert types == ["kustomize"]


def test_kustomize_overlay_is_the_renderers_output_with_origins(fixture_render):
    _, out, _ = fixture_render
    text = _rendered(out, "shop")
    assert _docs(text) == _docs(_kustomize(REPO / "kustomize" / "overlays" / "prod"))
    origins = _origins(text)
    assert all(origins), "every resource carries its origin"
    assert "path: ../../components/monitoring/podmonitor.yaml\n" in origins
    assert any("kind: ConfigMapGenerator" in o for o in origins)
    kinds = {(d["kind"], d["metadata"].get("namespace")) for d in _docs(text)}
    assert ("PodMonitor", "shop") in kinds and ("ConfigMap", "shop") in kinds


def test_origin_annotation_is_the_only_difference(fixture_render):
    """Taking the origin lines out gives the renderer's bytes back."""
    _, out, _ = fixture_render
    lines = _rendered(out, "child-guestbook").splitlines(keepends=True)
    kept, i = [], 0
    while i < len(lines):
        if lines[i] == "  annotations:\n" and lines[i + 1].startswith(f"    {ORIGIN}: |"):
            i += 2
            while i < len(lines) and lines[i].startswith("      "):
                i += 1
            continue
        kept.append(lines[i])
        i += 1
    assert "".join(kept) == _kustomize(REPO / "kustomize" / "base")


def test_plain_directory_is_argo_cds_selection_of_files(fixture_render):
    _, out, _ = fixture_render
    chosen = ["a-namespace.yaml", "b-config.yml", "c-service.json", "sub/d-serviceaccount.yaml"]
    want = [d for f in chosen for d in yaml.safe_load_all((REPO / "plain" / f).read_text()) if d]
    text = _rendered(out, "plain")
    assert list(yaml.safe_load_all(text)) == want
    assert "draft-excluded" not in text and "never-rendered" not in text
    assert "greeting" not in text  # a YAML file that is no manifest is skipped
    child = _rendered(out, "child-plain")  # include: 'b-*'
    assert list(yaml.safe_load_all(child)) == list(
        yaml.safe_load_all((REPO / "plain" / "b-config.yml").read_text()))


def test_multi_source_parts_in_spec_order(fixture_render):
    _, out, _ = fixture_render
    parts = _parts(_rendered(out, "multi"))
    assert [p for p, _ in parts] == ["kustomize/base", "plain"]  # the ref source renders nothing
    assert _docs(parts[0][1]) == _docs(_kustomize(REPO / "kustomize" / "base"))
    assert [d for d in yaml.safe_load_all(parts[1][1]) if d] == \
        [yaml.safe_load((REPO / "plain" / "a-namespace.yaml").read_text())]
    ds = load_dataset(out)
    multi = ds.resources[ds.resources["app"] == "argocd/multi"]
    assert sorted(set(multi["source"])) == ["kustomize/base", "plain"]


def test_app_of_apps_adds_children_once(fixture_render):
    report, out, _ = fixture_render
    apps = report.by_name()
    assert apps["argocd/child-guestbook"].parent == apps["argocd/child-plain"].parent == "argocd/root"
    assert apps["argocd/root"].parent == ""  # its own manifest in its output: the cycle ends there
    assert yaml.safe_load((out / "apps" / "child-guestbook.yaml").read_text()) == \
        yaml.safe_load((REPO / "app-of-apps" / "child-guestbook.yaml").read_text())
    assert _docs(_rendered(out, "child-guestbook")) == \
        _docs(_kustomize(REPO / "kustomize" / "base"))
    # the Applications are resources of the root app too
    kinds = [d["kind"] for d in yaml.safe_load_all(_rendered(out, "root")) if d]
    assert kinds == ["Application"] * 3
    # apps/ files of --apps are copied as they are
    assert (out / "apps" / "shop.yaml").read_bytes() == (REPO / "apps" / "shop.yaml").read_bytes()


def test_refusals_say_what_and_what_to_do(fixture_render):
    report, out, _ = fixture_render
    apps = report.by_name()
    assert apps["argocd/remote"].message.startswith("remote-base/kustomization.yaml:5: ")
    assert "https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v5.0.0" in \
        apps["argocd/remote"].message and "--allow-remote" in apps["argocd/remote"].message
    assert apps["argocd/escape"].message.startswith("escape/kustomization.yaml:5: ")
    assert "leaves the repository" in apps["argocd/escape"].message
    assert "other-repo.git" in apps["argocd/elsewhere"].message
    assert "--repo-map" in apps["argocd/elsewhere"].message
    assert "main.jsonnet" in apps["argocd/jsonnet"].message
    assert "sops-decrypt" in apps["argocd/plugin"].message
    if not HELM:
        assert apps["argocd/shop-helm"].message == NO_HELM
        assert apps["argocd/shop-helm"].source_types == ["helm"]


def test_a_failing_render_is_recorded_and_the_others_render(fixture_render):
    report, out, _ = fixture_render
    broken = report.by_name()["argocd/broken"]
    assert broken.renderer == "kustomize"
    assert "missing.yaml" in broken.message
    assert "/tmp" not in broken.message and str(REPO) not in broken.message


def test_outputs_are_deterministic_and_relative(fixture_render, tmp_path):
    report, out, seconds = fixture_render
    again = render_repository(REPO, tmp_path / "again", apps_paths=APPS, repo_map={URL: REPO},
                              use_cache=False, kustomize="pykustomize", jobs=1)
    assert _tree(tmp_path / "again") == _tree(out)
    assert again.lines() == report.lines()
    for rel, data in _tree(out).items():
        for path in (str(REPO.resolve()), str(tmp_path), "gitops-analysis-render-"):
            assert path.encode() not in data, (rel, path)
    assert seconds < wall_clock_limit(20)


def test_remote_base_is_refused_at_once(tmp_path):
    started = time.monotonic()
    report = render_repository(REPO, tmp_path / "ds", apps_paths=[REPO / "apps" / "remote.yaml"],
                               use_cache=False)
    assert time.monotonic() - started < wall_clock_limit(10)
    assert [a.status for a in report.apps] == ["remote"]
    assert not (tmp_path / "ds" / "rendered" / "remote.yaml").exists()


def _app(name: str, path: str, url: str = URL, extra: str = "") -> str:
    return (f"apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n"
            f"spec:\n  source:\n    repoURL: {url}\n    path: {path}\n{extra}"
            "  destination:\n    namespace: team\n")


def _copy(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(REPO, repo, symlinks=True)
    return repo


def test_symbolic_links_and_paths_that_leave_the_repository(tmp_path):
    repo = _copy(tmp_path)
    outside = tmp_path / "secret.yaml"
    outside.write_text("apiVersion: v1\nkind: Secret\nmetadata:\n  name: stolen\n")
    (repo / "kustomize" / "base" / "leak.yaml").symlink_to(outside)
    (repo / "plain" / "sub" / "leak.yaml").symlink_to(outside)
    (repo / "linked-dir").symlink_to(tmp_path)
    apps = tmp_path / "apps"
    apps.mkdir()
    (apps / "a.yaml").write_text(_app("link-in-base", "kustomize/overlays/prod"))
    (apps / "b.yaml").write_text(_app("link-in-dir", "plain", extra="    directory:\n"
                                                                    "      recurse: true\n"))
    (apps / "c.yaml").write_text(_app("dotdot", "../outside"))
    (apps / "d.yaml").write_text(_app("linked-path", "linked-dir"))
    report = render_repository(repo, tmp_path / "ds", apps_paths=[apps], use_cache=False)
    got = {a.name: (a.status, a.message) for a in report.apps}
    assert {n: s for n, (s, _) in got.items()} == dict.fromkeys(got, "escaped")
    assert got["argocd/link-in-base"][1].startswith("kustomize/base/leak.yaml: symbolic link")
    assert "stolen" not in "".join(p.read_text() for p in (tmp_path / "ds").rglob("*.yaml"))


def test_git_checkout_origin_decides_what_is_local(tmp_path):
    repo = _copy(tmp_path)
    (repo / ".git").mkdir()
    (repo / ".git" / "config").write_text(
        '[core]\n\tbare = false\n[remote "upstream"]\n\turl = https://x.example/other.git\n'
        '[remote "origin"]\n\turl = git@git.example.com:fixture-org/fixture-gitops.git\n'
        '\tfetch = +refs/heads/*:refs/remotes/origin/*\n')
    apps = [repo / "apps" / "shop.yaml", repo / "apps" / "elsewhere.yaml"]
    report = render_repository(repo, tmp_path / "ds", apps_paths=apps, use_cache=False)
    assert {a.name: a.status for a in report.apps} == {"argocd/shop": "ok", "argocd/elsewhere": "external"}


def test_single_repo_url_is_the_repository_and_several_are_not(tmp_path):
    one = render_repository(REPO, tmp_path / "one", apps_paths=[REPO / "apps" / "shop.yaml"],
                            use_cache=False)
    assert one.apps[0].status == "ok"
    two = render_repository(REPO, tmp_path / "two", apps_paths=[REPO / "apps" / "shop.yaml",
                                                                REPO / "apps" / "elsewhere.yaml"],
                            use_cache=False)
    assert {a.name: a.status for a in two.apps} == {"argocd/shop": "external", "argocd/elsewhere": "external"}


def test_default_starts_from_the_roots(tmp_path):
    # issue 15, item 5: app-of-apps/root.yaml yields Applications and no app reaches it: the
    # one root; it reaches itself and its two children; the 10 files under apps/ are reached
    # by no root: listed as unreachable, not rendered, not written
    out = tmp_path / "ds"
    report = render_repository(REPO, out, repo_map=[f"{URL}={REPO}"], use_cache=False)
    assert [a.name for a in report.apps] == ["argocd/child-guestbook", "argocd/child-plain",
                                             "argocd/root"]
    assert {a.name: a.parent for a in report.apps} == {
        "argocd/child-guestbook": "argocd/root", "argocd/child-plain": "argocd/root",
        "argocd/root": ""}
    files = sorted(p.name for p in (REPO / "apps").glob("*.yaml"))
    assert [(u.kind, u.file) for u in report.unreachable] == \
        [("Application", f"apps/{f}") for f in files]
    assert sorted(p.name for p in (out / "apps").iterdir()) == \
        ["child-guestbook.yaml", "child-plain.yaml", "root.yaml"]
    status = json.loads((out / "render-status.json").read_text())
    assert [u["file"] for u in status["unreachable"]] == [f"apps/{f}" for f in files]
    assert any(line.startswith("apps/shop.yaml:1: Application argocd/shop: unreachable")
               for line in report.lines())


def test_without_app_of_apps_every_application_file_is_a_root(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(REPO, repo)
    shutil.rmtree(repo / "app-of-apps")
    report = render_repository(repo, tmp_path / "ds", repo_map=[f"{URL}={repo}"],
                               use_cache=False)
    assert len(report.apps) == 10 and report.unreachable == []
    assert all(a.parent == "" for a in report.apps)


def test_cache_renders_an_unchanged_app_once(tmp_path, monkeypatch):
    monkeypatch.setenv("GITOPS_ANALYSIS_CACHE", str(tmp_path / "cache"))
    repo = _copy(tmp_path)
    apps = [repo / "apps" / "shop.yaml", repo / "app-of-apps" / "child-guestbook.yaml",
            repo / "apps" / "broken.yaml"]
    first = render_repository(repo, tmp_path / "a", apps_paths=apps, repo_map={URL: repo})
    assert not any(a.cached for a in first.apps)
    assert any((tmp_path / "cache" / "render").iterdir())  # the one cache, kind "render"
    second = render_repository(repo, tmp_path / "b", apps_paths=apps, repo_map={URL: repo})
    assert all(a.cached for a in second.apps)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    # a changed overlay file: only the app that reads it renders again
    patch = repo / "kustomize" / "overlays" / "prod" / "replicas.yaml"
    patch.write_text(patch.read_text().replace("replicas: 3", "replicas: 4"))
    third = render_repository(repo, tmp_path / "c", apps_paths=apps, repo_map={URL: repo})
    assert {a.name: a.cached for a in third.apps} == \
        {"argocd/shop": False, "argocd/child-guestbook": True, "argocd/broken": True}
    assert "replicas: 4" in (tmp_path / "c" / "rendered" / "shop.yaml").read_text()
    nocache = render_repository(repo, tmp_path / "d", apps_paths=apps, repo_map={URL: repo},
                                use_cache=False)
    assert not any(a.cached for a in nocache.apps)


def _fake(bin_dir: Path, name: str, script: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    p = bin_dir / name
    p.write_text("#!/bin/sh\n" + script)
    p.chmod(p.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.mark.skipif(os.name != "posix", reason="fake renderer binaries are shell scripts")
def test_helm_binary_gets_argo_cds_options(tmp_path, monkeypatch):
    """A stand-in `helm` prints the command it was given: the options Argo CD passes."""
    _fake(tmp_path / "bin", "helm",
          'case "$1" in\n  version) echo v3.18.4+gfake ;;\n'
          '  template) ls Chart.yaml templates/deployment.yaml >/dev/null || exit 3\n'
          '    for v in "$@"; do case "$v" in /*) cat "$v" >/dev/null || exit 4;; esac; done\n'
          '    printf "apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: args\\n'
          'data:\\n  args: |\\n"\n    for a in "$@"; do printf "    %s\\n" "$a"; done ;;\n'
          '  *) exit 2 ;;\nesac\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    report = render_repository(REPO, tmp_path / "ds", apps_paths=[REPO / "apps" / "shop-helm.yaml"],
                               use_cache=False)
    app = report.apps[0]
    assert (app.status, app.renderer, app.version) == ("ok", "helm", "v3.18.4+gfake")
    args = yaml.safe_load(_rendered(tmp_path / "ds", "shop-helm"))["data"]["args"].split("\n")
    assert args[:6] == ["template", ".", "--name-template", "shop", "--namespace", "shop"]
    assert "--include-crds" in args
    sets = [args[i + 1] for i, a in enumerate(args) if a in ("--set", "--set-string")]
    assert sets == ["replicaCount=2", "image.tag=1.4"]
    values = [args[i + 1] for i, a in enumerate(args) if a == "--values"]
    assert [v.endswith(s) for v, s in zip(values, ("helm/shop-chart/values-prod.yaml",
                                                    "helm/values/common.yaml",
                                                    "values-from-spec.yaml"))] == [True] * 3


@pytest.mark.skipif(not shutil.which("helm"), reason="no helm binary on PATH")
def test_helm_chart_is_helm_templates_output(fixture_render, tmp_path):
    _, out, _ = fixture_render
    chart = REPO / "helm" / "shop-chart"
    extra = tmp_path / "values.yaml"
    extra.write_text("podAnnotations:\n  team: checkout\n")
    want = subprocess.run(
        ["helm", "template", ".", "--name-template", "shop", "--namespace", "shop",
         "--set", "replicaCount=2", "--set-string", "image.tag=1.4",
         "--values", str(chart / "values-prod.yaml"), "--values",
         str(REPO / "helm" / "values" / "common.yaml"), "--values", str(extra),
         "--include-crds"], cwd=chart, capture_output=True, text=True, check=True).stdout
    assert _rendered(out, "shop-helm") == want


@pytest.mark.skipif(os.name != "posix", reason="fake renderer binaries are shell scripts")
def test_kustomize_binary_is_preferred_and_time_limited(tmp_path, monkeypatch):
    _fake(tmp_path / "bin", "kustomize",
          'case "$1" in\n  version) echo v5.7.1 ;;\n'
          '  build) case "$2" in *broken) exec sleep 30;; esac; cat "$2/kustomization.yaml" ;;\n'
          'esac\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    started = time.monotonic()
    report = render_repository(REPO, tmp_path / "ds", apps_paths=[REPO / "apps" / "shop.yaml",
                                                                  REPO / "apps" / "broken.yaml"],
                               use_cache=False, timeout=1)
    assert time.monotonic() - started < wall_clock_limit(10, below=25)  # it cut a 30 s sleep
    apps = report.by_name()
    assert (apps["argocd/shop"].status, apps["argocd/shop"].version) == ("ok", "v5.7.1")
    # the binary built a copy whose kustomization asks for origin annotations
    assert _rendered(tmp_path / "ds", "shop").endswith("buildMetadata: [originAnnotations]\n")
    assert "buildMetadata" not in (REPO / "kustomize/overlays/prod/kustomization.yaml").read_text()
    assert apps["argocd/broken"].status == "failed"
    assert apps["argocd/broken"].message.startswith("timed out after 1 s")


@pytest.mark.skipif(os.name != "posix", reason="fake renderer binaries are shell scripts")
def test_the_one_kustomize_entry_point_has_a_time_limit(tmp_path, monkeypatch):
    """What fix's proof calls: the binary on PATH, ended at the time limit."""
    _fake(tmp_path / "bin", "kustomize", 'case "$1" in\n  version) echo v5.7.1 ;;\n'
                                         '  build) exec sleep 30 ;;\nesac\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="timed out after 1 s"):
        kustomize_build(str(REPO / "kustomize" / "base"), timeout=1)
    assert time.monotonic() - started < wall_clock_limit(10, below=25)  # it cut a 30 s sleep


@pytest.mark.parametrize("variant", ["broken", "fixed"])
def test_demo_rendering_reproduces_the_committed_dataset(variant, tmp_path):
    out = tmp_path / variant
    report = render_repository(DEMO / "repo", out, apps_paths=[DEMO / variant / "apps"],
                               use_cache=False, kustomize="pykustomize", helm="none")
    assert report.exit_code == 0
    assert _tree(out) == _tree(DEMO / variant)


def test_cli_exit_codes_and_one_line_errors(tmp_path, capsys):
    assert main(["render", str(tmp_path / "nope"), "--out", str(tmp_path / "ds")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    # one message, folded within 120 columns over indented continuation lines
    assert max(map(len, err)) <= 120 and all(line.startswith("    ") for line in err[1:])
    assert " ".join(line.strip() for line in err) == \
        f"gitops-analysis render: {tmp_path / 'nope'}: no such folder: pass the repository's " \
        "folder as REPO"
    assert main(["render", str(REPO), "--out", str(REPO / "ds")]) == 2
    assert "inside the repository" in capsys.readouterr().err
    assert main(["render", str(REPO), "--apps", str(tmp_path / "none.yaml"),
                 "--out", str(tmp_path / "ds")]) == 2
    assert main(["render", str(REPO), "--out", str(tmp_path / "ds"), "--no-cache",
                 "--apps", str(REPO / "apps" / "shop.yaml"),
                 str(REPO / "apps" / "remote.yaml")]) == 1
    cap = capsys.readouterr()
    out = cap.out.replace("\n    ", " ").splitlines()  # continuation lines joined
    assert out[0] == "argocd/remote: remote: remote-base/kustomization.yaml:5: remote " \
        "resources entry https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?" \
        "ref=v5.0.0: not fetched (offline): pass --allow-remote to fetch it"
    assert out[1].startswith("argocd/shop: ok: 5 documents (kustomize)")
    assert "render: 2 apps in" in cap.err
    assert main(["render", str(DEMO / "repo"), "--out", str(tmp_path / "demo"), "--no-cache",
                 "--apps", str(DEMO / "broken" / "apps"), "--jobs", "2"]) == 0
    capsys.readouterr()
    assert main(["render", str(REPO), "--out", str(tmp_path / "x"), "--jobs", "0"]) == 2


def test_a_dataset_folder_is_replaced_but_nothing_else(tmp_path):
    out = tmp_path / "ds"
    (out / "apps").mkdir(parents=True)
    (out / "apps" / "stale.yaml").write_text("old: app\n")
    (out / "notes.md").write_text("kept\n")
    render_repository(REPO, out, apps_paths=[REPO / "apps" / "shop.yaml"], use_cache=False)
    assert sorted(p.name for p in (out / "apps").iterdir()) == ["shop.yaml"]
    assert (out / "notes.md").read_text() == "kept\n"
    (out / "rendered" / "keep.txt").write_text("not yaml")
    with pytest.raises(UsageError, match="not YAML"):
        render_repository(REPO, out, apps_paths=[REPO / "apps" / "shop.yaml"], use_cache=False)


def test_input_errors_are_gitops_analysis_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: [\n")
    with pytest.raises(InputError) as exc:
        render_repository(REPO, tmp_path / "ds", apps_paths=[bad])
    assert exc.value.file == str(bad) and exc.value.line >= 3
    assert isinstance(exc.value, GitopsAnalysisError)
    with pytest.raises(UsageError, match="URL=DIR"):
        render_repository(REPO, tmp_path / "ds", apps_paths=APPS, repo_map=["no-equals"])


@pytest.mark.parametrize("pattern,text,match", [
    ("*.yaml", "a.yaml", True), ("*.yaml", "sub/a.yaml", True),  # '*' crosses '/'
    ("{config.json,env-usw2/*}", "env-usw2/x.yaml", True),
    ("{config.json,env-usw2/*}", "config.json", True), ("{a,b}*", "c.yaml", False),
    ("drafts/*", "drafts/e.yaml", True), ("b-*", "b-config.yml", True),
    ("[ab]-*.yaml", "c-x.yaml", False), ("[!c]-*.yaml", "a-x.yaml", True), ("{a", "a", False),
])
def test_argo_cd_glob(pattern, text, match):
    assert glob_match(pattern, text) is match


def test_repository_urls_compare_across_forms():
    assert url_key("git@github.com:Org/Repo.git") == url_key("https://github.com/org/repo") == \
        url_key("ssh://git@github.com:22/org/repo.git/") == "github.com/org/repo"
    assert url_key("https://github.com/org/repo") != url_key("https://github.com/org/other")


# --- hostile Application files: the hardened reader, one-line errors, never a crash ---------------

EXE = str(Path(sys.executable).with_name("gitops-analysis"))
DEEP = 200_000  # PyYAML's C composer recursed 10,000 levels fine, 100,000 crashed


def _deep_app(name: str) -> str:
    return (f"apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n"
            "spec: " + "[" * DEEP + "\n")


def _render_cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, "render", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=300, check=False)


def test_deeply_nested_application_file_is_an_input_error_not_a_crash(tmp_path):
    """200,000 brackets deep: refused by the reader's depth limit (exit 2, one line), where a
    bare CSafeLoader dies with a segmentation fault (exit 139)."""
    deep = tmp_path / "deep.yaml"
    deep.write_text(_deep_app("deep"))
    proc = _render_cli(REPO, "--apps", deep, "--out", tmp_path / "ds", "--no-cache",
                       cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr[-2000:]  # not -11 (a signal) nor 139
    assert proc.stderr.replace("\n    ", " ").splitlines() == [  # folded lines joined
        f"gitops-analysis render: {deep}:5: nested more than 500 levels deep: refused; "
        "Kubernetes objects never nest this deep, fix the document"]
    assert not (tmp_path / "ds").exists()  # nothing written


def test_deeply_nested_documents_under_the_repository_are_refused_per_app(tmp_path):
    """Found by the scan of REPO, the deep Application file is skipped (it cannot be read); as a
    manifest of a plain directory, it fails only the app that deploys it."""
    repo = tmp_path / "repo"
    for folder in ("apps", "manifests", "deep"):
        (repo / folder).mkdir(parents=True)
    (repo / "apps" / "plain.yaml").write_text(_app("plain", "manifests"))
    (repo / "apps" / "nested.yaml").write_text(_app("nested", "deep"))
    (repo / "manifests" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n")
    (repo / "deep" / "app.yaml").write_text(_deep_app("deep"))
    proc = _render_cli(repo, "--out", tmp_path / "ds", "--no-cache", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert proc.stdout.splitlines() == [
        "argocd/nested: failed: deep/app.yaml:5: Failed to unmarshal 'app.yaml': nested more than 500 "
        "levels deep: fix the file",
        "argocd/plain: ok: 1 document (directory)"]


def test_application_names_follow_the_api_servers_rule(tmp_path, capsys):
    """metadata.name must be a lowercase DNS subdomain, as the API server validates it."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(_app("Shop_1", "kustomize/base"))
    with pytest.raises(InputError) as exc:
        render_repository(REPO, tmp_path / "ds", apps_paths=[bad])
    assert (exc.value.file, exc.value.line) == (str(bad), 1)
    assert "valid metadata.name (a DNS subdomain" in exc.value.what
    repo = tmp_path / "repo"
    (repo / "apps").mkdir(parents=True)
    (repo / "apps" / "bad.yaml").write_text(_app("Shop_1", "."))
    (repo / "apps" / "good.yaml").write_text(_app("carts.shop", "."))
    report = render_repository(repo, tmp_path / "ds", use_cache=False, progress=sys.stderr)
    assert [a.name for a in report.apps] == ["argocd/carts.shop"]
    assert "render: apps/bad.yaml:1: Application without a valid metadata.name" in \
        capsys.readouterr().err


def test_several_applications_in_one_file_each_get_their_own_apps_file(tmp_path):
    both = tmp_path / "both.yaml"
    both.write_text("# two apps\n" + _app("one", "plain") + "---\n" + _app("two", "plain"))
    out = tmp_path / "ds"
    report = render_repository(REPO, out, apps_paths=[both], use_cache=False)
    assert [(a.name, a.status, a.where) for a in report.apps] == \
        [("argocd/one", "ok", f"{both}:2"), ("argocd/two", "ok", f"{both}:13")]
    for name in ("one", "two"):
        assert yaml.safe_load((out / "apps" / f"{name}.yaml").read_text()) == \
            yaml.safe_load(_app(name, "plain"))
    assert load_dataset(out).accounting.app_load_errors == 0


def test_a_path_missing_from_a_repo_only_guessed_to_be_the_source_is_no_finding(tmp_path):
    # REPO has no origin remote and no --repo-map is given: the one repoURL is taken to be REPO.
    # The app's path is not in it: the guess is wrong, not Argo CD's render (external, no GA001)
    import json

    from gitops_analysis import load_dataset, run_rules
    from gitops_analysis.render.run import render_repository

    repo = tmp_path / "repo"
    (repo / "apps").mkdir(parents=True)
    (repo / "apps" / "web.yaml").write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: web, namespace: "
        "argocd}\nspec:\n  project: default\n  source: {repoURL: https://git.example/else.git, "
        "path: web, targetRevision: main}\n  destination: {server: "
        "https://kubernetes.default.svc, namespace: team}\n")
    render_repository(repo, tmp_path / "ds", use_cache=False, helm="none")
    status = json.loads((tmp_path / "ds" / "render-status.json").read_text())
    assert status["apps"]["argocd/web"]["status"] == "external"
    assert "not in REPO, which was taken for https://git.example/else.git" in \
        status["apps"]["argocd/web"]["message"]
    assert not (run_rules(load_dataset(tmp_path / "ds"))["slug"] == "comparison-error").any()
    # once the guess is right (a folder web), the same app renders from REPO
    (repo / "web").mkdir()
    (repo / "web" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    render_repository(repo, tmp_path / "ds", use_cache=False, helm="none")
    status = json.loads((tmp_path / "ds" / "render-status.json").read_text())
    assert status["apps"]["argocd/web"]["status"] == "ok"
