"""Remote references of kustomizations and charts: pulled with ``--allow-remote``, read from
``--chart-cache`` without it, and a fetch that fails here told apart from a failure Argo CD's
repo server would hit too.

The Helm repository is real: the ``index.yaml`` and packaged charts of
tests/fixtures/helm-charts/http-repo served over HTTP on 127.0.0.1 (test_helm.py's server).
Expectations are written by hand: the ``strict`` chart renders a ConfigMap ``<release>-db``
whose ``host`` is ``database.host`` (tests/fixtures/helm-charts/README.md); a failed fetch is a
coverage gap (render status ``fetch-failed``, no ``failure``), a version the reachable
repository lacks is Helm's error as a ComparisonError (``failure``).
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
from pathlib import Path

import pytest
import yaml
from test_helm import CHARTS, helm_repository  # noqa: F401  (a fixture)

from gitops_analysis.render.run import render_repository

pytest.importorskip("helm_python")
pytest.importorskip("pykustomize")

URL = "https://git.example.com/org/remote.git"


def _repo(tmp_path: Path, chart_repo: str, version: str = "0.1.0") -> Path:
    repo = tmp_path / "repo"
    (repo / "base").mkdir(parents=True)
    (repo / "base" / "kustomization.yaml").write_text(yaml.safe_dump({"helmCharts": [{
        "name": "strict", "repo": chart_repo, "version": version, "releaseName": "demo",
        "namespace": "team-a", "valuesInline": {"database": {"host": "db.remote"}}}]}))
    (repo / "app.yaml").write_text(yaml.safe_dump({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "pulled", "namespace": "argocd"},
        "spec": {"project": "default", "destination": {"namespace": "team-a"},
                 "source": {"repoURL": URL, "path": "base", "targetRevision": "main"}}}))
    return repo


def _render(repo: Path, out: Path, **kw):
    kw.setdefault("use_cache", False)
    return render_repository(repo, out, apps_paths=[repo / "app.yaml"], repo_map={URL: repo},
                             helm="helm-python-sdk", kustomize="pykustomize", **kw)


def _entry(out: Path) -> dict:
    return json.loads((out / "render-status.json").read_text())["apps"]["argocd/pulled"]


def _configmap(out: Path) -> dict:
    docs = [d for d in yaml.safe_load_all((out / "rendered" / "pulled.yaml").read_text()) if d]
    return next(d for d in docs if d["kind"] == "ConfigMap")


def test_kustomize_helm_charts_are_pulled_then_read_from_the_chart_cache_offline(
        tmp_path, helm_repository):  # noqa: F811
    cache = tmp_path / "charts"
    repo = _repo(tmp_path, helm_repository["url"])
    first = _render(repo, tmp_path / "a", allow_remote=True, chart_cache=cache)
    assert first.apps[0].status == "ok", first.apps[0].message
    cm = _configmap(tmp_path / "a")
    assert (cm["metadata"]["name"], cm["data"]) == ("demo-db", {"host": "db.remote",
                                                               "port": "5432"})
    kept = list(cache.rglob("*.tgz"))
    assert [p.name for p in kept] == ["strict-0.1.0.tgz"]
    assert kept[0].read_bytes() == (CHARTS / "http-repo" / "strict-0.1.0.tgz").read_bytes()

    helm_repository["stop"]()
    # the chart is in the cache: it renders with no network and no --allow-remote, as a chart
    # source does
    second = _render(repo, tmp_path / "b", chart_cache=cache)
    assert second.apps[0].status == "ok", second.apps[0].message
    assert _configmap(tmp_path / "b") == cm

    offline = _render(repo, tmp_path / "c").apps[0]
    assert offline.status == "remote"
    assert "base/kustomization.yaml:" in offline.message
    assert "--allow-remote" in offline.message and "--chart-cache" in offline.message


def test_a_pull_that_cannot_connect_is_a_coverage_gap_not_a_comparison_error(tmp_path):
    with socket.socket() as s:  # a port nothing listens on: connection refused
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    repo = _repo(tmp_path, url)
    app = _render(repo, tmp_path / "a", allow_remote=True).apps[0]
    assert app.status == "fetch-failed"
    assert app.failure is None
    entry = _entry(tmp_path / "a")
    assert entry["status"] == "fetch-failed" and "failure" not in entry
    assert entry["message"].startswith("fetch failed: connection refused: ")
    assert "--chart-cache" in entry["message"]
    # kustomize's "(is 'helm' installed?)" blames the user for a helm that ran
    assert "installed?" not in entry["message"] and "env=" not in entry["message"]


def test_a_version_the_reachable_repository_lacks_stays_a_comparison_error(
        tmp_path, helm_repository):  # noqa: F811
    repo = _repo(tmp_path, helm_repository["url"], version="9.9.9")
    app = _render(repo, tmp_path / "a", allow_remote=True).apps[0]
    assert app.status == "failed"
    helm_says = f'chart "strict" version "9.9.9" not found in {helm_repository["url"]} repository'
    assert helm_says in app.message
    assert app.failure is not None and helm_says in app.failure["message"]
    assert "installed?" not in app.message


class _Deny(http.server.BaseHTTPRequestHandler):
    """A server that answers every request with 401, as a private repository does to a client
    without credentials."""

    def do_GET(self):  # noqa: N802
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="private"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def denying_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Deny)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def _remote_base_repo(tmp_path: Path, base_url: str) -> Path:
    repo = tmp_path / "repo"
    (repo / "base").mkdir(parents=True)
    (repo / "base" / "kustomization.yaml").write_text(yaml.safe_dump({"resources": [base_url]}))
    (repo / "app.yaml").write_text((_repo(tmp_path / "x", "")).joinpath("app.yaml").read_text())
    return repo


def test_a_remote_base_that_refuses_the_connection_is_a_coverage_gap(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/org/repo//deploy?ref=main"
    repo = _remote_base_repo(tmp_path, url)
    offline = _render(repo, tmp_path / "o").apps[0]
    assert offline.status == "remote" and "--allow-remote" in offline.message
    app = _render(repo, tmp_path / "a", allow_remote=True).apps[0]
    assert (app.status, app.failure) == ("fetch-failed", None), app.message
    assert app.message.startswith("fetch failed: connection refused: ")
    assert "--chart-cache" not in app.message  # no chart here: the cache cannot help


def test_a_remote_base_answered_with_401_is_a_coverage_gap(tmp_path, denying_server):
    repo = _remote_base_repo(tmp_path, f"{denying_server}/org/private//deploy?ref=main")
    app = _render(repo, tmp_path / "a", allow_remote=True).apps[0]
    assert (app.status, app.failure) == ("fetch-failed", None), app.message
    assert app.message.startswith("fetch failed: authentication required (401): ")


def test_render_prints_no_line_over_120_columns_and_cuts_nothing(tmp_path, capsys):
    from gitops_analysis.cli.main import main

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/org/{'long-name-' * 12}//deploy?ref=main"
    repo = _remote_base_repo(tmp_path, url)
    code = main(["render", str(repo), "--apps", str(repo / "app.yaml"), "--out",
                 str(tmp_path / "ds"), "--repo-map", f"{URL}={repo}", "--allow-remote",
                 "--no-cache", "--kustomize", "pykustomize"])
    out, err = capsys.readouterr()
    assert code == 1
    lines = (out + err).splitlines()
    assert max(map(len, lines)) <= 120
    # continuation lines are indented; joined back, the whole message is there
    first = next(i for i, line in enumerate(out.splitlines()) if line.startswith("argocd/"))
    rest = out.splitlines()[first + 1:]
    assert rest and all(line.startswith("    ") for line in rest)
    joined = " ".join(line.strip() for line in out.splitlines()[first:])
    assert "render again where the network reaches it (with --allow-remote)" in joined
    assert "argocd/pulled: fetch-failed: fetch failed: connection refused" in joined
