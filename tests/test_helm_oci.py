"""Helm charts from an OCI registry, rendered through the CLI the way Argo CD renders them.

The registry is real: a minimal OCI distribution registry (the ``/v2/`` API Helm's OCI client
calls) served over plain HTTP on 127.0.0.1 by a thread of the test, holding a chart artifact
the test builds itself the way ``helm push`` lays it out. The same server is also a Helm HTTP
repository (``index.yaml``) of the same chart, so that what a pull failure says can be
compared between the two kinds of repository. Every expected object is written by hand from
the chart below, never copied from this project's output.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest
import yaml
from conftest import wall_clock_limit
from test_helm import _objects, _rendered, _status

pytest.importorskip("helm_python")

EXE = str(Path(sys.executable).with_name("gitops-analysis"))

# Helm's OCI media types, helm/helm pkg/registry/constants.go:
#   ConfigMediaType     = "application/vnd.cncf.helm.config.v1+json"
#   ChartLayerMediaType = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
# and the OCI image manifest (opencontainers image-spec) that ``helm push`` writes around them.
HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
STALL = "6.6.6"  # the tag the registry never answers for

CHART_YAML = """\
apiVersion: v2
name: mychart
description: a chart served by the test's own OCI registry
version: 1.2.3
appVersion: "4.5.6"
"""
VALUES_YAML = """\
greeting: hello
port: 8080
"""
TEMPLATES = {
    "configmap.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
  namespace: {{ .Release.Namespace }}
data:
  greeting: {{ .Values.greeting | quote }}
  chart: {{ .Chart.Name }}-{{ .Chart.Version }}
  appVersion: {{ .Chart.AppVersion | quote }}
""",
    "service.yaml": """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
spec:
  ports:
    - port: {{ .Values.port }}
""",
}


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _chart_archive() -> bytes:
    """``mychart-1.2.3.tgz`` as ``helm package`` lays it out: one top folder ``mychart/``."""
    files = {"Chart.yaml": CHART_YAML, "values.yaml": VALUES_YAML,
             **{f"templates/{k}": v for k, v in TEMPLATES.items()}}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"mychart/{name}")
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class Artifact:
    """The chart as ``helm push`` stores it: the archive as the one layer, Chart.yaml as JSON
    as the config, an OCI image manifest naming both by digest."""

    def __init__(self) -> None:
        self.layer = _chart_archive()
        self.config = json.dumps(yaml.safe_load(CHART_YAML), sort_keys=True).encode()
        self.manifest = json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": HELM_CONFIG, "digest": _digest(self.config),
                       "size": len(self.config)},
            "layers": [{"mediaType": HELM_CHART_LAYER, "digest": _digest(self.layer),
                        "size": len(self.layer)}],
            "annotations": {"org.opencontainers.image.title": "mychart",
                            "org.opencontainers.image.version": "1.2.3"}}).encode()
        self.blobs = {_digest(self.config): self.config, _digest(self.layer): self.layer}


class _Registry(http.server.BaseHTTPRequestHandler):
    """The OCI distribution API (registry v2) for anonymous pulls, and a Helm HTTP repository
    under ``/helm/``. ``server.repositories``: name -> {"tags": {tag: manifest digest},
    "manifests": {digest: bytes}, "blobs": {digest: bytes}}; ``server.seen``: the requests."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args):
        pass

    def _answer(self, code: int, body: bytes = b"", kind: str = "application/json",
                headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, code: int, error: str, message: str) -> None:
        self._answer(code, json.dumps({"errors": [{"code": error, "message": message}]}).encode())

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        self.server.seen.append((self.command, path))
        if path in ("/v2/", "/v2"):
            return self._answer(200, b"{}")
        if path.startswith("/helm/"):
            return self._helm_repository(path.removeprefix("/helm/"))
        m = re.fullmatch(r"/v2/(.+)/(manifests|blobs)/([^/]+)", path) \
            or re.fullmatch(r"/v2/(.+)/tags/(list)()", path)
        if not m:
            return self._error(404, "NOT_FOUND", "not found")
        name, kind, ref = m.groups()
        repo = self.server.repositories.get(name)
        if repo is None:
            return self._error(404, "NAME_UNKNOWN", "repository name not known to registry")
        if kind == "list":
            return self._answer(200, json.dumps({"name": name,
                                                 "tags": sorted(repo["tags"])}).encode())
        if kind == "manifests" and ref == STALL:
            self.server.release.wait(120)  # a registry that takes the request and never answers
            return self._error(404, "MANIFEST_UNKNOWN", "manifest unknown")
        if kind == "manifests":
            digest = ref if ref.startswith("sha256:") else repo["tags"].get(ref, "")
            if digest not in repo["manifests"]:
                return self._error(404, "MANIFEST_UNKNOWN", "manifest unknown")
            return self._answer(200, repo["manifests"][digest], OCI_MANIFEST,
                                {"Docker-Content-Digest": digest})
        if ref not in repo["blobs"]:
            return self._error(404, "BLOB_UNKNOWN", "blob unknown to registry")
        return self._answer(200, repo["blobs"][ref], "application/octet-stream",
                            {"Docker-Content-Digest": ref})

    def _helm_repository(self, name: str) -> None:
        layer = self.server.artifact.layer
        if name == "index.yaml":
            index = {"apiVersion": "v1", "entries": {"mychart": [{
                **yaml.safe_load(CHART_YAML), "urls": ["mychart-1.2.3.tgz"],
                "digest": hashlib.sha256(layer).hexdigest(), "created": "2025-01-01T00:00:00Z"}]}}
            return self._answer(200, yaml.safe_dump(index).encode(), "application/x-yaml")
        if name == "mychart-1.2.3.tgz":
            return self._answer(200, layer, "application/gzip")
        return self._answer(404, b"404 page not found\n", "text/plain")


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    repositories: dict[str, dict[str, dict[str, bytes | str]]]
    seen: list[tuple[str, str]]
    artifact: Artifact
    release: threading.Event

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that went away
            super().handle_error(request, client_address)


@pytest.fixture
def registry():
    artifact = Artifact()
    server = _Server(("127.0.0.1", 0), _Registry)
    server.artifact, server.seen, server.release = artifact, [], threading.Event()
    server.repositories = {"charts/mychart": {
        "tags": {"1.2.3": _digest(artifact.manifest)},
        "manifests": {_digest(artifact.manifest): artifact.manifest},
        "blobs": artifact.blobs}}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host = f"127.0.0.1:{server.server_address[1]}"
    state = {"host": host, "artifact": artifact, "seen": server.seen, "running": True}

    def stop():
        if state["running"]:
            server.release.set()
            server.shutdown()
            server.server_close()
            thread.join(5)
            state["running"] = False
    state["stop"] = stop
    yield state
    stop()


def _app(name: str, repo_url: str, version: str = "1.2.3", **helm) -> dict:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": name, "namespace": "argocd"},
            "spec": {"project": "default",
                     "destination": {"server": "https://kubernetes.default.svc",
                                     "namespace": "team-a"},
                     "source": {"repoURL": repo_url, "chart": "mychart",
                                "targetRevision": version, **({"helm": helm} if helm else {})}}}


def _repo(tmp_path: Path, *apps: dict) -> Path:
    repo = tmp_path / "repo"
    (repo / "apps").mkdir(parents=True)
    (repo / "apps" / "charts.yaml").write_text(yaml.safe_dump_all(apps))
    return repo


def _render(repo: Path, out: Path, *flags: str | Path) -> subprocess.CompletedProcess[str]:
    """``gitops-analysis render`` as a user runs it, in its own process, with a time limit: a
    pull that hangs fails the test instead of stalling it."""
    env = {**os.environ, "GITOPS_ANALYSIS_CACHE": str(out.parent / "render-cache")}
    return subprocess.run(
        [EXE, "render", str(repo), "--apps", str(repo / "apps"), "--out", str(out),
         "--helm", "helm-python-sdk", "--no-cache", "--timeout", "60", *map(str, flags)],
        capture_output=True, text=True, timeout=wall_clock_limit(60, below=300), check=False,
        env=env)


def test_oci_chart_pulled_from_the_registry_then_rendered_from_the_chart_cache(tmp_path,
                                                                               registry):
    host = registry["host"]
    repo = _repo(tmp_path,
                 _app("oci-bare", f"{host}/charts"),  # no scheme: Argo CD's IsHelmOciRepo
                 _app("oci-scheme", f"oci://{host}/charts", releaseName="web",
                      parameters=[{"name": "greeting", "value": "bonjour"}]))
    cache = tmp_path / "charts"
    proc = _render(repo, tmp_path / "a", "--allow-remote", "--chart-cache", cache)
    assert proc.returncode == 0, proc.stderr[-3000:]
    status = _status(tmp_path / "a")
    assert {k: v["status"] for k, v in status.items()} == {"oci-bare": "ok", "oci-scheme": "ok"}

    # by hand from the chart: the release is the app's name unless helm.releaseName says
    # otherwise, the namespace the destination's, the values the chart's under the parameters
    assert _objects(tmp_path / "a", "oci-bare") == {
        ("ConfigMap", "oci-bare-settings"): {
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "oci-bare-settings", "namespace": "team-a"},
            "data": {"greeting": "hello", "chart": "mychart-1.2.3", "appVersion": "4.5.6"}},
        ("Service", "oci-bare"): {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "oci-bare"},
            "spec": {"ports": [{"port": 8080}]}}}
    assert _objects(tmp_path / "a", "oci-scheme") == {
        ("ConfigMap", "web-settings"): {
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "web-settings", "namespace": "team-a"},
            "data": {"greeting": "bonjour", "chart": "mychart-1.2.3", "appVersion": "4.5.6"}},
        ("Service", "web"): {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"ports": [{"port": 8080}]}}}

    # it came from the registry, by the v2 API: the manifest by tag, then both blobs by digest
    artifact = registry["artifact"]
    pulled = {p for m, p in registry["seen"] if m == "GET"}
    assert {"/v2/charts/mychart/manifests/1.2.3",
            f"/v2/charts/mychart/blobs/{_digest(artifact.config)}",
            f"/v2/charts/mychart/blobs/{_digest(artifact.layer)}"} <= pulled
    assert not any(p.startswith("/helm/") for p in pulled)
    # one cache folder per repoURL as written, each holding the layer's bytes as they were
    kept = sorted(cache.rglob("*.tgz"))
    assert [p.name for p in kept] == ["mychart-1.2.3.tgz"] * 2
    assert all(p.read_bytes() == artifact.layer for p in kept)
    origins = sorted(json.loads(p.read_text())["repoURL"] for p in cache.rglob("origin.json"))
    assert origins == sorted([f"{host}/charts", f"oci://{host}/charts"])

    registry["stop"]()
    seen = len(registry["seen"])
    for flags in ((), ("--allow-remote",)):  # the cache is read first, remote or not
        out = tmp_path / f"b{len(flags)}"
        proc = _render(repo, out, "--chart-cache", cache, *flags)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert {k: v["status"] for k, v in _status(out).items()} == \
            {"oci-bare": "ok", "oci-scheme": "ok"}
        for app in ("oci-bare", "oci-scheme"):
            assert _rendered(out, app) == _rendered(tmp_path / "a", app)
    assert len(registry["seen"]) == seen

    # without the cache nor --allow-remote: not fetched, and said so
    proc = _render(repo, tmp_path / "c")
    assert proc.returncode == 1
    offline = _status(tmp_path / "c")["oci-bare"]
    assert offline["status"] == "remote" and "--allow-remote" in offline["message"]
    # with --allow-remote but no cache and the registry gone: Helm's error, at once
    started = time.monotonic()
    proc = _render(repo, tmp_path / "d", "--allow-remote")
    assert time.monotonic() - started < wall_clock_limit(20, below=120)
    gone = _status(tmp_path / "d")["oci-bare"]
    # our fetch failed (connection refused), not the registry: a coverage gap, no GA001
    assert gone["status"] == "fetch-failed" and "failure" not in gone
    assert gone["message"].startswith("fetch failed: connection refused: chart mychart 1.2.3 "
                                      f"from {host}/charts: ")
    assert f"http://{host}/v2/charts/mychart/manifests/1.2.3" in gone["message"]
    assert "connection refused" in gone["message"]


def test_a_tag_the_registry_lacks_fails_as_a_missing_helm_repository_version(tmp_path,
                                                                             registry):
    host = registry["host"]
    repo = _repo(tmp_path,
                 _app("oci-bare", f"{host}/charts", "9.9.9"),
                 _app("oci-scheme", f"oci://{host}/charts", "9.9.9"),
                 _app("http-repo", f"http://{host}/helm", "9.9.9"))
    started = time.monotonic()
    proc = _render(repo, tmp_path / "a", "--allow-remote", "--chart-cache", tmp_path / "charts")
    assert time.monotonic() - started < wall_clock_limit(20, below=120)  # does not hang
    assert proc.returncode == 1
    status = _status(tmp_path / "a")
    assert {k: v["status"] for k, v in status.items()} == \
        {"oci-bare": "failed", "oci-scheme": "failed", "http-repo": "failed"}
    # Helm's own errors: the registry's 404 for the manifest, the repository index without the
    # version; each in the one form the render gives a chart it cannot pull
    helm_error = {
        "oci-bare": f'failed to perform "FetchReference" on source: {host}/charts/mychart:9.9.9: '
                    "not found",
        "oci-scheme": f'failed to perform "FetchReference" on source: {host}/charts/mychart:'
                      "9.9.9: not found",
        "http-repo": f'chart "mychart" version "9.9.9" not found in http://{host}/helm '
                     "repository"}
    repo_url = {"oci-bare": f"{host}/charts", "oci-scheme": f"oci://{host}/charts",
                "http-repo": f"http://{host}/helm"}
    for app, entry in status.items():
        assert entry["message"] == (f"chart mychart 9.9.9 from {repo_url[app]}: {helm_error[app]}: "
                                    "check the chart, its version and the repository"), app
    shape = {app: sorted(entry) for app, entry in status.items()}
    assert shape["oci-bare"] == shape["oci-scheme"] == shape["http-repo"]
    assert ("GET", "/v2/charts/mychart/manifests/9.9.9") in registry["seen"]
    assert not list((tmp_path / "charts").rglob("*.tgz"))  # nothing kept of a failed pull


def test_a_version_constraint_is_resolved_from_the_registrys_tags(tmp_path, registry):
    """Helm's ``getOciURI``: a ``--version`` that is not a version is matched against the
    repository's tags (``GET /v2/<name>/tags/list``), the newest that fits is pulled."""
    host = registry["host"]
    repo = _repo(tmp_path, _app("oci-range", f"oci://{host}/charts", ">=1.0.0 <2.0.0"))
    proc = _render(repo, tmp_path / "a", "--allow-remote", "--chart-cache", tmp_path / "charts")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert ("GET", "/v2/charts/mychart/tags/list") in registry["seen"]
    assert ("GET", "/v2/charts/mychart/manifests/1.2.3") in registry["seen"]
    cm = _objects(tmp_path / "a", "oci-range")["ConfigMap", "oci-range-settings"]
    assert cm["data"]["chart"] == "mychart-1.2.3"
    assert [p.name for p in (tmp_path / "charts").rglob("*.tgz")] == ["mychart-1.2.3.tgz"]


def test_a_registry_that_never_answers_is_cut_at_the_time_limit(tmp_path, registry):
    repo = _repo(tmp_path, _app("oci-stall", f"{registry['host']}/charts", STALL))
    started = time.monotonic()
    env = {**os.environ, "GITOPS_ANALYSIS_CACHE": str(tmp_path / "render-cache")}
    proc = subprocess.run(
        [EXE, "render", str(repo), "--apps", str(repo / "apps"), "--out", str(tmp_path / "a"),
         "--helm", "helm-python-sdk", "--no-cache", "--timeout", "2", "--allow-remote"],
        capture_output=True, text=True, timeout=wall_clock_limit(30, below=110), check=False,
        env=env)
    assert time.monotonic() - started < wall_clock_limit(10, below=100)
    assert proc.returncode == 1
    stalled = _status(tmp_path / "a")["oci-stall"]
    assert stalled["status"] == "failed" and "timed out after 2 s" in stalled["message"]
    assert ("GET", f"/v2/charts/mychart/manifests/{STALL}") in registry["seen"]


def test_plain_http_only_for_a_registry_on_a_loopback_host():
    from gitops_analysis.render.helm_remote import is_loopback, pull_args

    for url in ("127.0.0.1:5000/charts", "oci://127.0.0.1:5000/charts", "localhost/charts",
                "oci://LOCALHOST:5000", "127.8.9.10/x", "[::1]:5000/charts", "oci://[::1]/c"):
        assert is_loopback(url), url
    for url in ("registry.example.com/charts", "oci://ghcr.io/org/charts", "10.0.0.1:5000/c",
                "oci://127.0.0.1.nip.io/charts", "localhost.example.com:5000/c",
                "oci://[2001:db8::1]:5000/c", "oci://user@ghcr.io/c"):
        assert not is_loopback(url), url
    assert pull_args("oci://127.0.0.1:5000/charts", "mychart", "1.2.3", "d") == [
        "pull", "--destination", "d", "--version", "1.2.3", "--plain-http",
        "oci://127.0.0.1:5000/charts/mychart"]
    assert pull_args("ghcr.io/org/charts", "mychart", "1.2.3", "d") == [
        "pull", "--destination", "d", "--version", "1.2.3", "oci://ghcr.io/org/charts/mychart"]
    # an HTTP Helm repository is never told --plain-http (its URL says http or https)
    assert pull_args("http://127.0.0.1:8000/helm", "mychart", "1.2.3", "d") == [
        "pull", "--destination", "d", "--version", "1.2.3", "--repo",
        "http://127.0.0.1:8000/helm", "mychart"]
