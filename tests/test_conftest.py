"""The helpers of conftest.py: ../shared is required under CI=true, skipped elsewhere; wall-clock
limits are generous."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import conftest
import pytest
from conftest import ROOT, need_shared, wall_clock_limit


def test_shared_is_the_folder_beside_the_project():
    assert conftest.SHARED == ROOT.parent / "shared"
    assert conftest.KUBEFLOW == ROOT.parent / "shared" / "data" / "kubeflow-26.03"


@pytest.mark.parametrize("ci", [None, "", "false", "0", "no"])
def test_missing_shared_data_skips_outside_ci(monkeypatch, tmp_path, ci):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match="is absent"):
        need_shared(tmp_path / "shared", "the team's shared folder")


@pytest.mark.parametrize("ci", ["true", "TRUE", " true ", "1"])
def test_missing_shared_data_fails_under_ci(monkeypatch, tmp_path, ci):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="CI=true, so it must be there"):
        need_shared(tmp_path / "shared", "the team's shared folder")


@pytest.mark.parametrize("ci", [None, "true"])
def test_present_shared_data_is_returned(monkeypatch, tmp_path, ci):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    (tmp_path / "shared").mkdir()
    assert need_shared(tmp_path / "shared", "x") == tmp_path / "shared"


def _project_without_shared(tmp_path: Path) -> Path:
    """A copy of this conftest in <tmp>/proj/tests, so that ../shared is <tmp>/shared."""
    tests = tmp_path / "proj" / "tests"
    tests.mkdir(parents=True)
    shutil.copy(Path(conftest.__file__), tests / "conftest.py")
    (tests / "test_needs_kubeflow.py").write_text(
        "def test_needs_kubeflow(kubeflow_root):\n"
        "    assert (kubeflow_root / 'ground_truth.json').is_file()\n")
    return tests


def _pytest(tests: Path, ci: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-rsE", str(tests)], cwd=tests.parent, env=env, capture_output=True,
                          text=True, check=False, timeout=300)


def test_kubeflow_fixture_end_to_end(tmp_path):
    """The kubeflow_root fixture, run by pytest itself: skip without CI, fail with CI=true,
    pass when the data is there."""
    tests = _project_without_shared(tmp_path)
    local = _pytest(tests, None)
    assert local.returncode == 0 and "1 skipped" in local.stdout, local.stdout + local.stderr
    ci = _pytest(tests, "true")
    assert ci.returncode == 1, ci.stdout + ci.stderr
    assert "1 error" in ci.stdout and "CI=true, so it must be there" in ci.stdout, ci.stdout
    data = tmp_path / "shared" / "data" / "kubeflow-26.03"
    data.mkdir(parents=True)
    (data / "ground_truth.json").write_text("{}")
    present = _pytest(tests, "true")
    assert present.returncode == 0 and "1 passed" in present.stdout, present.stdout


def test_wall_clock_limit_is_generous(monkeypatch):
    monkeypatch.delenv("GITOPS_ANALYSIS_TIME_FACTOR", raising=False)
    assert wall_clock_limit(2) == 10
    assert wall_clock_limit(10, below=25) == 25
    monkeypatch.setenv("GITOPS_ANALYSIS_TIME_FACTOR", "1")
    assert wall_clock_limit(2) == 2 and wall_clock_limit(10, below=25) == 10
    monkeypatch.setenv("GITOPS_ANALYSIS_TIME_FACTOR", "20")
    assert wall_clock_limit(3) == 60
    for bad in ("fast", "0", "-2"):
        monkeypatch.setenv("GITOPS_ANALYSIS_TIME_FACTOR", bad)
        with pytest.raises(ValueError, match="GITOPS_ANALYSIS_TIME_FACTOR"):
            wall_clock_limit(1)
