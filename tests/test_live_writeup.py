"""An export kept in DATASET/live/ is loaded with the dataset and shown in the write-up."""

from __future__ import annotations

import shutil

from conftest import DEMO, FIXTURES
from gitops_analysis import load_dataset
from gitops_analysis import run_rules
from gitops_analysis import wave_graph
from gitops_analysis.views.writeup import incident_markdown


def test_live_export_in_the_dataset_reaches_the_writeup(tmp_path):
    ds_dir = tmp_path / "broken"
    shutil.copytree(DEMO / "broken", ds_dir)
    (ds_dir / "live").mkdir()
    shutil.copy(FIXTURES / "live" / "demo-broken.json", ds_dir / "live" / "export.json")
    ds = load_dataset(ds_dir)
    assert ds.live is not None and len(ds.live.live_apps) == 10
    findings = run_rules(ds)
    text = incident_markdown(ds, findings, wave_graph(ds, findings))
    assert "## Predicted versus observed" in text
    assert "InvalidSpecError" in text.split("## Predicted versus observed")[1]


def test_render_status_gives_the_source_type():
    ds = load_dataset(DEMO / "broken")
    types = dict(zip(ds.apps["name"], ds.apps["source_type"].astype(str)))
    assert types["common-services"] == "kustomize" and types["web-apps"] == "multi"
