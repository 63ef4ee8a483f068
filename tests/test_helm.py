"""Helm sources rendered the way Argo CD renders them, with no ``helm`` binary: the Helm Go
library of helm-python-sdk, driven as the helm CLI drives it.

Every expectation is written by hand from Helm's and Argo CD's documented semantics and source
(the charts and the expected objects: tests/fixtures/helm-charts/README.md; the texts:
docs/notes/helm.md), never copied from this project's output. The Helm repository of the
remote tests is real: an ``index.yaml`` and packaged charts served over HTTP on 127.0.0.1 by
the test itself, with no mock of the client.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import threading
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, wall_clock_limit

from gitops_analysis.render.helm import find_helm
from gitops_analysis.render.helm_engine import run as helm_run
from gitops_analysis.render.helm_plan import envsubst
from gitops_analysis.render.helm_semver import admits
from gitops_analysis.render.run import render_repository

helm_python = pytest.importorskip("helm_python")

CHARTS = FIXTURES / "helm-charts"
URL = "https://git.example.com/fixture-org/helm-fixtures.git"
HOOK = "helm.sh/hook"
DEBUG_HINT = "\n\nUse --debug flag to render out invalid YAML"


def _render(out: Path, apps: list[Path] | None = None, repo: Path = CHARTS, **kw):
    kw.setdefault("use_cache", False)
    kw.setdefault("helm", "helm-python-sdk")
    return render_repository(repo, out, apps_paths=apps or [repo / "apps"],
                             repo_map={URL: repo}, **kw)


def _by_name(report) -> dict:
    return {a.name.rsplit("/", 1)[-1]: a for a in report.apps}


def _status(out: Path) -> dict:
    apps = json.loads((out / "render-status.json").read_text())["apps"]
    return {k.rsplit("/", 1)[-1]: v for k, v in apps.items()}


def _rendered(out: Path, app: str) -> str:
    found = sorted((out / "rendered").rglob(f"{app}.yaml"))
    assert len(found) == 1, found
    return found[0].read_text()


def _objects(out: Path, app: str) -> dict[tuple[str, str], dict]:
    """(kind, name) -> object."""
    docs = [d for d in yaml.safe_load_all(_rendered(out, app)) if d]
    objs = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    assert len(objs) == len(docs), "an object twice"
    return objs


def _ns(obj: dict) -> str:
    return obj["metadata"].get("namespace", "-")


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    out = tmp_path_factory.mktemp("helm") / "ds"
    report = _render(out, jobs=2)
    return _by_name(report), out


# --- the renderer --------------------------------------------------------------------------

def test_without_a_binary_the_library_renders_and_says_so(fixtures, monkeypatch):
    apps, out = fixtures
    assert apps["demo"].status == "ok"
    entry = _status(out)["demo"]
    assert entry["renderer"] == "helm"
    assert entry["version"] == "v4.2.3 (helm-python-sdk 0.2.2)"
    monkeypatch.setenv("PATH", "/nonexistent")
    helm = find_helm("auto")
    assert helm is not None and helm.engine == "helm-python-sdk"
    helm.close()


def test_a_helm_binary_on_path_stays_preferred(tmp_path, monkeypatch):
    fake = tmp_path / "helm"
    fake.write_text("#!/bin/sh\necho v3.19.4+gfake\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    helm = find_helm("auto")
    assert helm is not None and (helm.engine, helm.version) == ("binary", "v3.19.4+gfake")


# --- showcase: S1..S7 of the fixtures README ---------------------------------------------

S1 = {("CustomResourceDefinition", "widgets.example.com"): "-", ("Service", "demo-cache"): "-",
      ("ConfigMap", "demo-vendored"): "team-a", ("ConfigMap", "demo-settings"): "-",
      ("Deployment", "demo-web"): "team-a", ("PodDisruptionBudget", "demo-web"): "-",
      ("Job", "demo-migrate"): "-", ("Secret", "demo-creds"): "-",
      ("Pod", "demo-test-connection"): "-", ("Widget", "demo-widget"): "-"}


def test_s1_defaults_release_name_is_the_app_name(fixtures):
    _, out = fixtures
    objs = _objects(out, "demo")
    assert {k: _ns(o) for k, o in objs.items()} == S1
    assert objs["Service", "demo-cache"]["spec"]["ports"][0]["port"] == 6379
    assert objs["Service", "demo-cache"]["metadata"]["labels"]["team"] == "platform"
    assert objs["ConfigMap", "demo-vendored"]["data"] == {
        "greeting": "hello-from-parent", "chartVersion": "1.2.3", "team": "platform"}
    settings = objs["ConfigMap", "demo-settings"]["data"]
    assert settings == {"greeting": "Hello demo in team-a", "releaseName": "demo",
                        "releaseNamespace": "team-a", "isInstall": "true",
                        "kubeVersion": "v1.36.0", "hasServiceMonitor": "false",
                        "hasAppsV1": "true", "team": "platform"}
    web = objs["Deployment", "demo-web"]["spec"]
    assert (web["replicas"], web["template"]["spec"]["containers"][0]["image"]) == \
        (2, "nginx:1.25")
    assert objs["PodDisruptionBudget", "demo-web"]["apiVersion"] == "policy/v1"
    assert objs["Job", "demo-migrate"]["metadata"]["annotations"] == {
        HOOK: "pre-install,pre-upgrade", "helm.sh/hook-weight": "-5",
        "helm.sh/hook-delete-policy": "before-hook-creation,hook-succeeded"}
    assert objs["Secret", "demo-creds"]["data"] == {  # lookup found nothing: the defaults
        "password": "ZGVmYXVsdC1wYXNzd29yZA==", "source": "ZGVmYXVsdA=="}
    assert objs["Pod", "demo-test-connection"]["metadata"]["annotations"] == {HOOK: "test"}
    assert objs["Widget", "demo-widget"]["apiVersion"] == "example.com/v1"
    text = _rendered(out, "demo")
    assert "NOTES" not in text and "probes.example.com" not in text


def test_s2_kube_version_reaches_capabilities(fixtures):
    _, out = fixtures
    objs = _objects(out, "s2-kube-version")
    assert set(objs) == set(S1)
    assert objs["PodDisruptionBudget", "demo-web"]["apiVersion"] == "policy/v1beta1"
    assert objs["ConfigMap", "demo-settings"]["data"]["kubeVersion"] == "v1.20.0"


def test_s3_api_versions_add_to_helms_own(fixtures):
    _, out = fixtures
    objs = _objects(out, "s3-api-versions")
    assert set(objs) == set(S1) | {("ServiceMonitor", "demo-web")}
    assert objs["ServiceMonitor", "demo-web"]["spec"]["endpoints"][0]["port"] == "http"
    data = objs["ConfigMap", "demo-settings"]["data"]
    assert (data["hasServiceMonitor"], data["hasAppsV1"]) == ("true", "true")


def test_s4_tags_and_conditions_from_values(fixtures):
    _, out = fixtures
    objs = _objects(out, "s4-tags-conditions")
    assert set(objs) == (set(S1) - {("Service", "demo-cache")}) | {
        ("ConfigMap", "demo-metrics"), ("CustomResourceDefinition", "probes.example.com")}
    assert objs["ConfigMap", "demo-metrics"]["data"]["interval"] == "30s"


def test_s5_skip_crds_and_tests(fixtures):
    _, out = fixtures
    assert set(_objects(out, "s5-skips")) == set(S1) - {
        ("CustomResourceDefinition", "widgets.example.com"), ("Pod", "demo-test-connection"),
        ("Job", "demo-migrate")}


def test_helm_namespace_overrides_the_destination(fixtures):
    _, out = fixtures
    objs = _objects(out, "namespace-override")
    assert objs["ConfigMap", "demo-settings"]["data"]["releaseNamespace"] == "team-b"
    assert _ns(objs["Deployment", "demo-web"]) == "team-b"


def test_s6_missing_dependency_is_helms_error(tmp_path):
    chart = tmp_path / "showcase"
    shutil.copytree(CHARTS / "showcase", chart)
    (chart / "charts" / "vendored-1.2.3.tgz").unlink()
    code, out, err = helm_run(["template", ".", "--name-template", "demo"], str(chart))
    assert (code, out) == (1, "")
    assert err == ("Error: an error occurred while checking for chart dependencies. You may need "
                   "to run 'helm dependency build' to fetch missing dependencies: found in "
                   "Chart.yaml, but missing in charts/ directory: vendored\n")


def test_s6_missing_dependency_offline_is_remote(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(CHARTS, repo)
    (repo / "showcase" / "charts" / "vendored-1.2.3.tgz").unlink()
    report = _render(tmp_path / "ds", [repo / "apps" / "showcase.yaml"], repo)
    demo = _by_name(report)["demo"]
    assert demo.status == "remote"
    assert "dependency vendored from https://charts.example.com/stable is not in charts/" in \
        demo.message


def test_s7_packaged_chart_renders_like_the_folder(tmp_path):
    archive = helm_python.package(str(CHARTS / "showcase"), destination=str(tmp_path))
    args = ["--name-template", "demo", "--namespace", "team-a", "--include-crds"]
    code, packed, _ = helm_run(["template", os.path.basename(archive), *args], str(tmp_path))
    code2, folder, _ = helm_run(["template", ".", *args], str(CHARTS / "showcase"))
    assert (code, code2) == (0, 0)
    assert [d for d in yaml.safe_load_all(packed) if d] == \
        [d for d in yaml.safe_load_all(folder) if d]


def test_output_is_helm_templates_layout():
    """CRDs first, manifests in Helm's install order by kind, hooks last; each under its
    ``# Source:`` line (pkg/action/action.go renderResources, pkg/cmd/template.go)."""
    code, out, err = helm_run(["template", ".", "--name-template", "demo", "--namespace",
                               "team-a", "--include-crds"], str(CHARTS / "showcase"))
    assert (code, err) == (0, "")
    sources = [line.split(": ", 1)[1] for line in out.splitlines()
               if line.startswith("# Source: ")]
    assert sources == [
        "showcase/crds/widgets.example.com.yaml",
        "showcase/templates/pdb.yaml",  # PodDisruptionBudget
        "showcase/templates/secret.yaml",  # Secret
        "showcase/charts/vendored/templates/configmap.yaml",  # ConfigMap, by file path
        "showcase/templates/configmap.yaml",
        "showcase/charts/cache/templates/service.yaml",  # Service
        "showcase/templates/deployment.yaml",  # Deployment
        "showcase/templates/widget.yaml",  # a kind Helm does not know: after the known ones
        "showcase/templates/tests/test-connection.yaml",  # hooks: Pod before Job
        "showcase/templates/pre-install-job.yaml"]
    assert out.startswith("---\n# Source: showcase/crds/")


# --- values precedence: P0..P5 -------------------------------------------------------------

P = {  # layer, fromFileA, fromFileB, fromValues, removable, count, countKind, list, override,
    # banner  (fromChart is "chart" and nestedKeep "chart" everywhere)
    "p0-defaults": ("chart-default", "absent", "absent", "absent", "present", "2", "float64",
                    '["chart"]', "chart", "none"),
    "p1-files": ("file-b", "a", "b", "absent", "absent", "2", "float64", '["a"]', "file-b",
                 "none"),
    "p2-files-reversed": ("file-a", "a", "b", "absent", "absent", "2", "float64", '["a"]',
                          "file-a", "none"),
    "p3-values-object": ("values-object", "a", "b", "inline", "absent", "2", "float64",
                         '["a"]', "values-object", "none"),
    "p3-values-string": ("values-object", "a", "b", "inline", "absent", "2", "float64",
                         '["a"]', "values-object", "none"),
    # Helm says int64 for --set count=3; the library takes values as JSON: float64 (README)
    "p4-parameters": ("parameter", "a", "b", "inline", "absent", "3", "float64", '["a"]',
                      "parameter", "none"),
    "p5-force-string": ("parameter", "a", "b", "inline", "absent", "3", "string", '["a"]',
                        "parameter", "banner from a file"),
    "p-ignore-missing": ("file-a", "a", "absent", "absent", "present", "2", "float64",
                         '["a"]', "file-a", "none"),
    "p-ref": ("from-ref", "a", "absent", "ref-file", "present", "2", "float64", '["a"]',
              "file-a", "none"),
}


@pytest.mark.parametrize("app", sorted(P))
def test_values_precedence(fixtures, app):
    _, out = fixtures
    objs = _objects(out, app)
    assert list(objs) == [("ConfigMap", "demo-precedence")]
    cm = objs["ConfigMap", "demo-precedence"]
    assert _ns(cm) == "team-a"
    d = cm["data"]
    assert (d["fromChart"], d["nestedKeep"]) == ("chart", "chart")
    assert (d["layer"], d["fromFileA"], d["fromFileB"], d["fromValues"], d["removable"],
            d["count"], d["countKind"], d["list"], d["nestedOverride"], d["banner"]) == P[app]


def test_a_missing_values_file_fails_like_helm(fixtures):
    apps, out = fixtures
    assert apps["p-missing"].status == "failed"
    assert apps["p-missing"].message == \
        "Error: open precedence/missing.yaml: no such file or directory"


# --- failures and Argo CD's ComparisonError --------------------------------------------------

REQUIRED = "execution error at (strict/templates/configmap.yaml:6:11): database.host is required"


def test_required_fails_with_helms_message_and_argocds_condition(fixtures):
    apps, out = fixtures
    r1 = apps["r1-required"]
    assert r1.status == "failed"
    assert r1.message == f"Error: {REQUIRED} Use --debug flag to render out invalid YAML"
    assert _status(out)["r1-required"]["failure"] == {
        "source": 0, "kind": "helm",
        "message": "failed to generate manifest for source 1 of 1: rpc error: code = Unknown "
                   "desc = failed to execute helm template command: failed running helm: "
                   "`helm template . --name-template demo --namespace team-a --include-crds` "
                   f"failed exit status 1: Error: {REQUIRED}{DEBUG_HINT}"}
    assert "failure" not in _status(out)["r2-required-given"]
    cm = _objects(out, "r2-required-given")["ConfigMap", "demo-db"]
    assert cm["data"] == {"host": "db.local", "port": "5432"}


def test_the_condition_names_parameters_and_values_files_as_argocd_does(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(CHARTS, repo)
    app = yaml.safe_load((CHARTS / "apps" / "strict.yaml").read_text().split("---")[0])
    app["metadata"]["name"] = "r3"
    app["spec"]["source"]["helm"] = {
        "releaseName": "demo", "valueFiles": ["values.yaml"], "values": "x: 1\n",
        "parameters": [{"name": "a", "value": "1,2"}], "apiVersions": ["v1/Pod"]}
    path = tmp_path / "r3.yaml"
    path.write_text(yaml.safe_dump(app))
    _render(tmp_path / "ds", [path], repo)
    failure = _status(tmp_path / "ds")["r3"]["failure"]
    assert failure["message"].startswith(
        "failed to generate manifest for source 1 of 1: rpc error: code = Unknown desc = failed "
        "to execute helm template command: failed running helm: `helm template . --name-template"
        " demo --namespace team-a --set a=1\\,2 --values <path to cached source>/strict/values"
        ".yaml --values <temp file with values from source.helm.values/valuesObject> "
        "<api versions removed> --include-crds` failed exit status 1: Error: ")


def test_schema_and_type_failures(fixtures):
    apps, out = fixtures
    assert apps["typed-schema"].status == "failed"
    # the schema is checked before rendering: no --debug hint (rel is nil)
    assert _status(out)["typed-schema"]["failure"]["message"].endswith(
        "Error: values don't meet the specifications of the schema(s) in the following "
        "chart(s):\ntyped:\n- at '/port': got string, want integer")
    assert _objects(out, "typed-skip-schema")["ConfigMap", "demo-typed"]["data"] == \
        {"port": "abc"}
    bad = apps["typed-bad-type"]
    assert bad.status == "failed"
    assert "typed/templates/service.yaml:7:" in bad.message
    assert "range can't iterate over 8080" in bad.message
    assert _status(out)["typed-bad-type"]["failure"]["message"].endswith(DEBUG_HINT)
    assert apps["typed-kube-version"].message == (
        "Error: chart requires kubeVersion: >=1.21.0-0 which is incompatible with Kubernetes "
        "v1.20.0 Use --debug flag to render out invalid YAML")


def test_a_hook_helm_does_not_know_is_left_out(fixtures):
    _, out = fixtures
    assert set(_objects(out, "typed")) == {("Service", "demo-typed"), ("ConfigMap", "demo-typed")}


# --- kustomize helmCharts -------------------------------------------------------------------

def test_kustomize_helm_charts_render_through_the_same_helm(fixtures):
    apps, out = fixtures
    app = apps["kustomize-helm"]
    assert (app.status, app.renderer) == ("ok", "kustomize")
    assert "helm v4.2.3 (helm-python-sdk 0.2.2)" in app.version
    cm = _objects(out, "kustomize-helm")["ConfigMap", "demo-db"]
    assert cm["data"] == {"host": "from-kustomize.local", "port": "5432"}
    assert "HelmChartInflationGenerator" in \
        cm["metadata"]["annotations"]["config.kubernetes.io/origin"]


# --- same input, same bytes; the cache; the time limit ---------------------------------------

def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_input_same_bytes(fixtures, tmp_path):
    _, out = fixtures
    _render(tmp_path / "again", jobs=1)
    assert _tree(tmp_path / "again") == _tree(out)


def test_render_cache_keys_on_chart_bytes_and_values(tmp_path, monkeypatch):
    monkeypatch.setenv("GITOPS_ANALYSIS_CACHE", str(tmp_path / "cache"))
    repo = tmp_path / "repo"
    shutil.copytree(CHARTS, repo)
    apps = [repo / "apps" / "precedence.yaml", repo / "apps" / "strict.yaml"]
    first = _by_name(_render(tmp_path / "a", apps, repo, use_cache=True))
    second = _by_name(_render(tmp_path / "b", apps, repo, use_cache=True))
    assert not first["p1-files"].cached and second["p1-files"].cached
    assert _rendered(tmp_path / "a", "p1-files") == _rendered(tmp_path / "b", "p1-files")
    (repo / "precedence" / "values-b.yaml").write_text("layer: changed\n")
    third = _by_name(_render(tmp_path / "c", apps, repo, use_cache=True))
    assert not third["p1-files"].cached
    assert '"changed"' in _rendered(tmp_path / "c", "p1-files")
    # every file of the chart is the chart's (templates read them through .Files): all of the
    # precedence chart's apps render again, the strict chart's come from the cache
    assert not third["p0-defaults"].cached
    assert third["r2-required-given"].cached


def test_a_render_that_hangs_is_stopped_at_the_time_limit(tmp_path):
    repo = tmp_path / "repo"
    (repo / "slow" / "templates").mkdir(parents=True)
    (repo / "slow" / "Chart.yaml").write_text("apiVersion: v2\nname: slow\nversion: 0.1.0\n")
    (repo / "slow" / "templates" / "cm.yaml").write_text(
        "{{- range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}\n")
    app = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
           "metadata": {"name": "slow"},
           "spec": {"destination": {"namespace": "x"},
                    "source": {"repoURL": URL, "path": "slow"}}}
    (repo / "app.yaml").write_text(yaml.safe_dump(app))
    report = _render(tmp_path / "ds", [repo / "app.yaml"], repo, timeout=1)
    slow = _by_name(report)["slow"]
    assert slow.status == "failed" and "timed out after 1 s" in slow.message
    assert report.seconds < wall_clock_limit(5, below=60)


# --- remote charts: a real Helm repository on 127.0.0.1 ---------------------------------------

class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def helm_repository():
    handler = functools.partial(_Quiet, directory=str(CHARTS / "http-repo"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state = {"server": server, "url": f"http://127.0.0.1:{server.server_address[1]}"}

    def stop():
        if state["server"] is not None:
            state["server"].shutdown()
            state["server"].server_close()
            thread.join(5)
            state["server"] = None
    state["stop"] = stop
    yield state
    stop()


def _chart_app(tmp_path: Path, repo_url: str) -> Path:
    app = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
           "metadata": {"name": "remote-strict", "namespace": "argocd"},
           "spec": {"destination": {"namespace": "team-a"},
                    "source": {"repoURL": repo_url, "chart": "strict", "targetRevision": "0.1.0",
                               "helm": {"releaseName": "demo", "parameters": [
                                   {"name": "database.host", "value": "db.local"}]}}}}
    path = tmp_path / "remote-strict.yaml"
    path.write_text(yaml.safe_dump(app))
    return path


def test_remote_chart_pulled_then_rendered_offline_from_the_chart_cache(tmp_path,
                                                                        helm_repository):
    cache = tmp_path / "charts"
    app = _chart_app(tmp_path, helm_repository["url"])
    first = _by_name(_render(tmp_path / "a", [app], allow_remote=True, chart_cache=cache))
    assert first["remote-strict"].status == "ok", first["remote-strict"].message
    cm = _objects(tmp_path / "a", "remote-strict")["ConfigMap", "demo-db"]
    assert cm["data"] == {"host": "db.local", "port": "5432"}
    kept = sorted(p.name for p in cache.rglob("*.tgz"))
    assert kept == ["strict-0.1.0.tgz"]
    assert next(cache.rglob("*.tgz")).read_bytes() == \
        (CHARTS / "http-repo" / "strict-0.1.0.tgz").read_bytes()

    helm_repository["stop"]()
    second = _by_name(_render(tmp_path / "b", [app], chart_cache=cache))  # no --allow-remote
    assert second["remote-strict"].status == "ok"
    assert _rendered(tmp_path / "b", "remote-strict") == _rendered(tmp_path / "a", "remote-strict")

    offline = _by_name(_render(tmp_path / "c", [app]))["remote-strict"]
    assert offline.status == "remote" and "--allow-remote" in offline.message
    gone = _by_name(_render(tmp_path / "d", [app], allow_remote=True))["remote-strict"]
    # our fetch failed (connection refused), not the repository: a coverage gap
    assert gone.status == "fetch-failed" and gone.failure is None
    assert f'looks like "{helm_repository["url"]}" is not a valid chart repository or cannot ' \
           "be reached" in gone.message


def test_a_chart_version_the_repository_lacks(tmp_path, helm_repository):
    app = _chart_app(tmp_path, helm_repository["url"])
    app.write_text(app.read_text().replace("targetRevision: 0.1.0", "targetRevision: 9.9.9"))
    bad = _by_name(_render(tmp_path / "a", [app], allow_remote=True))["remote-strict"]
    assert bad.status == "failed"
    assert f'chart "strict" version "9.9.9" not found in {helm_repository["url"]} repository' \
        in bad.message
    # the repository answered: Argo CD's repo server fails the same way (ExtractChart, Fetch):
    # a ComparisonError, not a gap of ours
    url = helm_repository["url"]
    assert bad.failure == {"source": 0, "kind": "helm", "message": (
        "failed to generate manifest for source 1 of 1: rpc error: code = Unknown desc = error "
        "fetching chart: failed to fetch chart: failed running helm: `helm pull --destination "
        f"{bad.failure['message'].split('--destination ')[1].split(' ')[0]} --version 9.9.9 "
        f"--repo {url} strict` failed exit status 1: Error: chart \"strict\" version \"9.9.9\" "
        f"not found in {url} repository")}
    assert bad.failure["message"].split("--destination ")[1].startswith("/tmp/")


# --- pieces with their own rules --------------------------------------------------------------

@pytest.mark.parametrize("constraint,admitted", [
    (">=1.19.0-0", True), (">= 1.16.0-0 < 1.30.0-0", False), ("~1.36", True), ("~1.35", False),
    ("^1.20", True), ("1.36.x", True), ("1.35.x", False), ("<1.20", False),
    (">=1.20, <1.25 || >=1.30", True), ("1.10 - 1.40", True), ("!=1.36.0", False),
    ("banana", False)])
def test_kube_version_constraints_as_masterminds_semver(constraint, admitted):
    assert admits(constraint, (1, 36, 0)) is admitted


def test_envsubst_as_go_os_expand():
    env = {"ARGOCD_APP_NAME": "demo", "X": "x"}
    assert envsubst("$ARGOCD_APP_NAME-${X}", env) == "demo-x"
    assert envsubst("pa$$word $UNKNOWN.", env) == "pa$word ."
    assert envsubst("cost: 5$", env) == "cost: 5$"


def test_the_cli_offers_the_helm_renderers_and_the_chart_cache():
    import argparse

    from gitops_analysis.cli.render import add_commands
    from gitops_analysis.render.helm import HELM_CHOICES

    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers())
    args = parser.parse_args(["render", "repo", "--out", "ds", "--helm", "helm-python-sdk",
                              "--chart-cache", "charts"])
    assert (args.helm, args.chart_cache) == ("helm-python-sdk", "charts")
    helm_action = next(a for a in parser._subparsers._group_actions[0].choices["render"]._actions
                       if a.dest == "helm")
    assert tuple(helm_action.choices) == HELM_CHOICES


def test_helm_kube_version_is_normalized_as_argocd_does(tmp_path):
    """Argo CD's parseKubeVersion: the ``v`` and a vendor suffix go before ``--kube-version``."""
    app = yaml.safe_load((CHARTS / "apps" / "showcase.yaml").read_text().split("---")[1])
    assert app["metadata"]["name"] == "s2-kube-version"
    app["spec"]["source"]["helm"]["kubeVersion"] = "v1.20.0-eks.1"
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(app))
    _render(tmp_path / "ds", [path])
    objs = _objects(tmp_path / "ds", "s2-kube-version")
    assert objs["ConfigMap", "demo-settings"]["data"]["kubeVersion"] == "v1.20.0"
