"""`gitops-analysis report`: four executed notebooks, their HTML and incident.md, deterministic;
the figures in the notebooks and embedded in the pages; one analysis; a quiet terminal."""

from __future__ import annotations

import base64
import json
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DEMO, ROOT
from test_html import check_page

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
    # no MPLBACKEND: the notebooks' kernels keep their inline backend, the CLI needs none
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    return subprocess.run([EXE, "report", dataset, "--out", str(out), *extra], cwd=ROOT,
                          capture_output=True, text=True, check=False, env=env)


def outputs(path: Path, source: str) -> list[dict]:
    """The outputs of the cells whose code holds ``source``."""
    book = json.loads(path.read_text())
    return [o for c in book["cells"] if c["cell_type"] == "code"
            and source in "".join(c["source"]) for o in c["outputs"]]


def check_figures(out: Path, incident: bool = True) -> None:
    """The overlap matrix and the wave graph are images in the notebooks and on their pages;
    every page passes check_page (nothing from the network, images embedded)."""
    for name, cell in (("02-overlap-matrix", "nb.plot_overlap(ctx)"),
                       ("03-wave-graph", "nb.plot_wave_graph(ctx)"),
                       ("04-incident-writeup", "nb.show_incident(ctx)")):
        if name.startswith("04") and not incident:
            continue
        shown = outputs(out / f"{name}.ipynb", cell)
        assert len([o for o in shown if "image/png" in o.get("data", {})]) == 1, name
        assert "<Axes" not in json.dumps(shown), name
        assert len(check_page(out / f"{name}.html").images) == 1, name
    for name in NOTEBOOKS:
        check_page(out / f"{name}.html")
        # the values used are shown once: the cell of defaults is left out
        text = (out / f"{name}.html").read_text()
        assert "celltag_injected-parameters" in text and "celltag_parameters" not in text


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


def test_figures_are_in_the_notebooks_and_their_pages(demo_reports):
    out, _, _ = demo_reports
    check_figures(out)
    # the PNG beside the notebook is the image in it
    png = [o for o in outputs(out / "03-wave-graph.ipynb", "nb.plot_wave_graph(ctx)")
           if "image/png" in o.get("data", {})][0]["data"]["image/png"]
    assert base64.b64decode(png) == (out / "wave-graph.png").read_bytes()


def test_one_analysis_and_no_machine_path(demo_reports):
    out, _, _ = demo_reports
    # the kernels ran in the report folder, where data/demo/broken does not exist: every
    # notebook read the analysis report made, none loaded the dataset again
    assert not (out / "data" / "demo" / "broken").exists()
    assert "40 resource keys in two or more apps" in json.dumps(
        outputs(out / "02-overlap-matrix.ipynb", "overlap_summary"))
    for name in NOTEBOOKS:
        params = json.loads((out / f"{name}.ipynb").read_text())["metadata"]["papermill"]
        assert params["parameters"]["output_dir"] == "."
        assert params["parameters"]["analysis"] == "analysis.pickle"
    assert not (out / "analysis.pickle").exists()
    for path in out.rglob("*"):
        if path.suffix in (".ipynb", ".html", ".md", ".json", ".txt", ".sarif", ".yaml"):
            text = path.read_text()
            assert str(out) not in text and str(ROOT) not in text, path


def test_the_terminal_shows_progress_only(demo_reports):
    # no "Kernel is running over TCP without encryption", no "KeyboardInterrupt caught"
    for proc in demo_reports[2]:
        lines = proc.stderr.splitlines()
        assert len(lines) == 5, proc.stderr
        for i, (line, name) in enumerate(zip(lines, NOTEBOOKS), start=1):
            assert re.fullmatch(rf"\[{i}/4\] {name} \.\.\. ok \(\d+\.\d s\)", line), line
        assert lines[4].startswith("report: ")
        # the summary line, folded within 120 columns: what follows it is indented 4
        summary = proc.stdout.splitlines()
        assert summary[0].startswith("36 errors, ") and max(map(len, summary)) <= 120
        assert all(line.startswith("    ") for line in summary[1:])


def test_notebooks_read_a_saved_analysis_without_the_dataset(tmp_path):
    from gitops_analysis.views import notebook as nb

    ctx = nb.prepare(str(DEMO / "broken"))
    saved = nb.save_analysis(ctx, tmp_path / nb.ANALYSIS_FILE)
    again = nb.prepare(str(tmp_path / "no-such-dataset"), analysis=str(saved))
    assert again.app == ctx.app and again.label == str(DEMO / "broken")
    assert again.findings.equals(ctx.findings) and again.overlap is not None
    assert again.fix is not None  # the fix (and its render) is made once, by report
    # a file that is not an analysis is refused before any object is built from it
    bad = tmp_path / "bad.pickle"
    bad.write_bytes(pickle.dumps({"format": "x", "context": os.system}))
    with pytest.raises(pickle.UnpicklingError, match="system is not part of an analysis"):
        nb.load_analysis(bad)
    # nor a module reached through an allowed package, nor a function that loads a pickle
    for name, code in (("os", b"cpandas.io.common\nos\n."),
                       ("read_pickle", b"cpandas\nread_pickle\n(V/tmp/x\ntR.")):
        bad.write_bytes(code)
        with pytest.raises(pickle.UnpicklingError, match=f"{name} is not part of an analysis"):
            nb.load_analysis(bad)


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
    assert "# Incident analysis: argocd/common-services" in text
    assert "`argocd/web-apps` (wave 4) fails to sync with:" in text
    assert ('Make sure the "VirtualService" CRD is installed on the destination cluster.'
            in text)
    assert "Namespace for default-install-config-4ct9bg6t8b /v1, Kind=ConfigMap is missing." in text
    assert "argocd/web-apps <- {AuthorizationPolicy CRD, DestinationRule CRD, VirtualService CRD, " \
           "namespace kubeflow} <- argocd/common-services: InvalidSpecError" in text
    shared = table(text, "| shared with | wave | shared resources | of them CRDs | renders differ |")
    assert shared == [["`argocd/trainer`", "3", "24", "4", "1"],
                      ["`argocd/spark`", "5", "16", "2", "0"]]
    assert "keeps the 114 of its 154 resources" in text
    # the generated kustomization, rendered for real from inside the notebook
    assert "- Rendered for real with kustomize: 114 resources, exactly the ones it keeps." in text
    assert "# - ../../applications/trainer   (dropped: owned by argocd/trainer)" in text
    # read from the rendered files by report, before the notebooks (they never see the dataset)
    assert ("`spec.template.spec.containers[manager].image` is "
            "`ghcr.io/kubeflow/trainer/trainer-controller-manager:v2.0.0` in "
            "`argocd/common-services`") in text
    # the validation checks the fixed render, made from the dataset and the repository given
    assert "DATASET=data/demo/broken " in text and "REPO=data/demo/repo " in text
    assert 'gitops-analysis check "$WORK/fixed"' in text
    assert "argocd app get argocd/common-services" in text
    assert " argocd/web-apps argocd/spark; do argocd app get" in text and "kubectl get crd " in text
    assert "/work/" not in text and str(ROOT) not in text


def test_unknown_app_fails_before_any_work(tmp_path):
    proc = report("data/demo/broken", tmp_path / "out", "--app", "nope")
    assert proc.returncode == 2 and "no app named 'nope'" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_kubeflow_incident(kubeflow_root, ground_truth, tmp_path):
    broken = report(str(kubeflow_root / "broken"), tmp_path / "b")
    assert broken.returncode == 0, broken.stderr
    text = (tmp_path / "b" / "incident.md").read_text()
    assert text.startswith("# Incident analysis: argocd/kubeflow-common-services")
    needs = text.split("### 3. What the other apps need from `argocd/kubeflow-common-services`")[1]
    web = next(line for line in needs.splitlines() if line.startswith("| `argocd/kubeflow-web-apps` |"))
    for kind in ("networking.istio.io/DestinationRule", "networking.istio.io/VirtualService",
                 "security.istio.io/AuthorizationPolicy"):
        assert kind in web
    # each count in the row of its app, and as the team's ground truth counts it
    pairs = ground_truth["summary"]["broken"]["sharedResourcesByAppPair"]
    shared = {r[0]: r for r in table(text, "| shared with | wave | shared resources | of them CRDs | "
                                           "renders differ |")}
    takeover = {r[0]: r for r in table(text, "| owner after the fix | resources it takes over |")}
    for pair, n in (("kubeflow-pipelines", 133), ("kubeflow-kserve", 75),
                    ("kubeflow-trainer", 39), ("kubeflow-user-namespace", 1)):
        assert pairs[f"kubeflow-common-services + {pair}"] == n
        assert shared[f"`argocd/{pair}`"][2] == str(n), shared[f"`argocd/{pair}`"]
        assert takeover[f"`argocd/{pair}`"] == [f"`argocd/{pair}`", str(n)]
    assert {k.strip("`") for k in shared} == {"argocd/" + p.split(" + ")[1] for p in pairs}
    assert shared["`argocd/kubeflow-trainer`"][4] == "1"  # the JobSet CRD renders differently
    assert "keeps the 261 of its 675 resources" in text
    assert "path: argocd/kubeflow-common-services  # was: example" in text
    check_figures(tmp_path / "b")
    fixed = report(str(kubeflow_root / "fixed"), tmp_path / "f")
    assert fixed.returncode == 0, fixed.stderr
    assert (tmp_path / "f" / "incident.md").read_text().startswith("# No incident in fixed")
    check_figures(tmp_path / "f", incident=False)


def test_the_date_is_given_never_read_from_the_clock(tmp_path):
    bad = report("data/demo/broken", tmp_path / "bad", "--date", "yesterday")
    assert bad.returncode == 2 and "--date yesterday: not a date" in bad.stderr
    assert not (tmp_path / "bad").exists()
    dated = report("data/demo/broken", tmp_path / "dated", "--date", "2026-12-01")
    assert dated.returncode == 0, dated.stderr
    text = (tmp_path / "dated" / "incident.md").read_text()
    assert "- **Date:** 2026-12-01" in text


def _notebook(folder: Path, name: str, *cells: str) -> None:
    import nbformat

    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell("# parameters", metadata={"tags": ["parameters"]})]
    book.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                   "language": "python"}
    nbformat.write(book, folder / f"{name}.ipynb")


# what libzmq prints when it aborts a kernel tearing its sockets down after the last cell
ZMQ_ABORT = "Assertion failed: pfd.revents & POLLIN (src/signaler.cpp:238)"
NOISE = f"import os; os.write(2, b'{ZMQ_ABORT}\\n'); os.write(1, b'raw stdout\\n')"


def test_what_the_kernel_process_prints_stays_off_the_terminal(tmp_path, monkeypatch, capfd):
    # the kernel writes straight to its file descriptors, past ipykernel's capture of the
    # cells' output: that went to the terminal and broke the progress lines
    from gitops_analysis.views import report as rep

    books, out = tmp_path / "books", tmp_path / "out"
    books.mkdir(), out.mkdir()
    _notebook(books, "01-noisy", NOISE, "x = 1")
    monkeypatch.setattr(rep, "notebooks_dir", lambda: books)
    monkeypatch.setattr(rep, "NOTEBOOKS", ("01-noisy",))
    assert rep.run_notebooks({}, out) == []
    err = capfd.readouterr().err
    assert ZMQ_ABORT not in err and "raw stdout" not in err
    assert re.fullmatch(r"\[1/1\] 01-noisy \.\.\. ok \(\d+\.\d s\)\n", err), err
    # the log is gone with the run, nothing left in the report folder or the temp folder
    assert sorted(p.name for p in out.iterdir()) == ["01-noisy.html", "01-noisy.ipynb"]


def test_a_failing_notebook_says_what_its_kernel_printed(tmp_path, monkeypatch, capfd):
    from gitops_analysis.views import report as rep

    books, out = tmp_path / "books", tmp_path / "out"
    books.mkdir(), out.mkdir()
    _notebook(books, "01-broken", NOISE, "raise ValueError('no such app')")
    monkeypatch.setattr(rep, "notebooks_dir", lambda: books)
    monkeypatch.setattr(rep, "NOTEBOOKS", ("01-broken",))
    failures = rep.run_notebooks({}, out)
    assert len(failures) == 1
    assert "cell 3 failed: ValueError: no such app" in failures[0]
    assert f"the kernel printed:\n    {ZMQ_ABORT}" in failures[0]
    assert "raw stdout" in failures[0]
    assert capfd.readouterr().err == "[1/1] 01-broken ... failed\n"
