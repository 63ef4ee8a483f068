"""The package as a user installs it: a wheel built from this tree, installed into a fresh venv
(no editable install, no checkout on the path), runs ``report`` on the demo."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo" / "broken"
NOTEBOOKS = ("01-inventory", "02-overlap-matrix", "03-wave-graph", "04-incident-writeup")


def _run(args: list, cwd: Path, **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, **kw)


def test_report_runs_from_an_installed_wheel(tmp_path):
    dist = tmp_path / "dist"
    built = _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", dist,
                  ROOT], cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    wheel = next(dist.glob("gitops_analysis-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert {f"gitops_analysis/notebooks/{n}.ipynb" for n in NOTEBOOKS} <= set(names)
    assert "gitops_analysis/py.typed" in names

    venv = tmp_path / "venv"
    assert _run([sys.executable, "-m", "venv", venv], cwd=tmp_path).returncode == 0
    py = venv / "bin" / "python"
    inst = _run([py, "-m", "pip", "install", "--quiet", "-c", ROOT / "constraints.txt", wheel],
                cwd=tmp_path)
    assert inst.returncode == 0, inst.stderr

    # run from a folder that holds no checkout: the notebooks come from the installed package
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = _run([py, "-c", "import gitops_analysis, sys; print(gitops_analysis.__file__)"],
                 cwd=work)
    assert str(venv) in where.stdout, where.stdout + where.stderr
    out = work / "reports"
    rep = _run([venv / "bin" / "gitops-analysis", "report", DEMO, "--out", out], cwd=work,
               timeout=900)
    assert rep.returncode == 0, rep.stderr
    for n in NOTEBOOKS:
        assert (out / f"{n}.ipynb").is_file() and (out / f"{n}.html").is_file()
    text = (out / "incident.md").read_text()
    assert "common-services" in text and "InvalidSpecError" in text
