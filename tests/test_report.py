"""`gitops-analysis report`: four executed notebooks, their HTML and incident.md, deterministic."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from gitops_analysis.views.report import NOTEBOOKS

EXE = str(Path(sys.executable).with_name("gitops-analysis"))


def table(text: str, header: str) -> list[list[str]]:
    """The rows (cells) of the markdown table whose header line is ``header``."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line == header]
    assert len(starts) == 1, f"{len(starts)} tables with header {header!r}"
    rows = []
    for line in lines[starts[0] + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows


def report(dataset: str, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, "report", dataset, "--out", str(out), *extra], cwd=ROOT,
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "MPLBACKEND": "Agg"})


@pytest.fixture(scope="module")
def demo_reports(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    procs = [report("data/demo/broken", out, "--repo", "data/demo/repo")]
    first = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
             if p.is_file()}
    procs.append(report("data/demo/broken", out, "--repo", "data/demo/repo"))
    return out, first, procs


def test_report_writes_every_file(demo_reports):
    out, _, procs = demo_reports
    assert procs[0].returncode == 0, procs[0].stderr
    for name in NOTEBOOKS:
        assert (out / f"{name}.ipynb").is_file() and (out / f"{name}.html").is_file()
    for name in ("incident.md", "wave-graph.png", "overlap-matrix.png", "check.json",
                 "fix/fix.md"):
        assert (out / name).stat().st_size > 0


def test_report_is_deterministic(demo_reports):
    out, first, procs = demo_reports
    assert procs[1].returncode == 0
    assert sorted(first) == sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                                   if p.is_file())
    for name, data in first.items():
        assert (out / name).read_bytes() == data, name


def test_demo_incident_tells_the_story(demo_reports):
    text = (demo_reports[0] / "incident.md").read_text()
    for section in ("## Executive summary", "## Root cause", "## Problem analysis",
                    "## Cascade", "## Solution", "## Validation", "## Monitoring",
                    "## Files to change"):
        assert section in text
    assert "# Incident analysis: common-services" in text
    assert "`web-apps` (wave 4) fails to sync with:" in text
    assert ('Make sure the "VirtualService" CRD is installed on the destination cluster.'
            in text)
    assert "Namespace for default-install-config-4ct9bg6t8b /v1, Kind=ConfigMap is missing." in text
    assert "web-apps <- {AuthorizationPolicy CRD, DestinationRule CRD, VirtualService CRD, " \
           "namespace kubeflow} <- common-services: InvalidSpecError" in text
    shared = table(text, "| shared with | wave | shared keys | of them CRDs | renders differ |")
    assert shared == [["`trainer`", "3", "24", "4", "1"], ["`spark`", "5", "16", "2", "0"]]
    assert "keeps the 114 of its 154 resources" in text
    # the generated kustomization, rendered for real from inside the notebook
    assert ("Real render of the new `common-services` kustomization: ok: renders 114 "
            "resources, exactly what common-services keeps.") in text
    assert "# - ../../applications/trainer   (dropped: owned by trainer)" in text
    assert "gitops-analysis check data/demo/broken --fail-on error" in text
    assert "argocd app get common-services" in text
    assert " web-apps spark; do argocd app get" in text and "kubectl get crd " in text
    assert "/work/" not in text and str(ROOT) not in text


def test_unknown_app_fails_before_any_work(tmp_path):
    proc = report("data/demo/broken", tmp_path / "out", "--app", "nope")
    assert proc.returncode == 2 and "no app named 'nope'" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_kubeflow_incident(kubeflow_root, ground_truth, tmp_path):
    broken = report(str(kubeflow_root / "broken"), tmp_path / "b")
    assert broken.returncode == 0, broken.stderr
    text = (tmp_path / "b" / "incident.md").read_text()
    assert text.startswith("# Incident analysis: kubeflow-common-services")
    needs = text.split("### What the other apps need from `kubeflow-common-services`")[1]
    web = next(line for line in needs.splitlines() if line.startswith("| `kubeflow-web-apps` |"))
    for kind in ("networking.istio.io/DestinationRule", "networking.istio.io/VirtualService",
                 "security.istio.io/AuthorizationPolicy"):
        assert kind in web
    # each count in the row of its app, and as the team's ground truth counts it
    pairs = ground_truth["summary"]["broken"]["sharedResourcesByAppPair"]
    shared = {r[0]: r for r in table(text, "| shared with | wave | shared keys | of them CRDs | "
                                           "renders differ |")}
    takeover = {r[0]: r for r in table(text, "| owner after the fix | resources it takes over |")}
    for pair, n in (("kubeflow-pipelines", 133), ("kubeflow-kserve", 75),
                    ("kubeflow-trainer", 39), ("kubeflow-user-namespace", 1)):
        assert pairs[f"kubeflow-common-services + {pair}"] == n
        assert shared[f"`{pair}`"][2] == str(n), shared[f"`{pair}`"]
        assert takeover[f"`{pair}`"] == [f"`{pair}`", str(n)]
    assert {k.strip("`") for k in shared} == {p.split(" + ")[1] for p in pairs}
    assert shared["`kubeflow-trainer`"][4] == "1"  # the JobSet CRD renders differently
    assert "keeps the 261 of its 675 resources" in text
    assert "path: argocd/kubeflow-common-services  # was: example" in text
    fixed = report(str(kubeflow_root / "fixed"), tmp_path / "f")
    assert fixed.returncode == 0, fixed.stderr
    assert (tmp_path / "f" / "incident.md").read_text().startswith("# No incident in fixed")
