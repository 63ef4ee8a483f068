"""An export kept in DATASET/live/ is loaded with the dataset and shown in the write-up."""

from __future__ import annotations

import shutil

from conftest import DEMO, FIXTURES

from gitops_analysis import load_dataset, run_rules, wave_graph
from gitops_analysis.views.writeup import incident_markdown

ISE = "Namespace for default-install-config-4ct9bg6t8b /v1, Kind=ConfigMap is missing."


def test_live_export_in_the_dataset_reaches_the_writeup(tmp_path):
    ds_dir = tmp_path / "broken"
    shutil.copytree(DEMO / "broken", ds_dir)
    (ds_dir / "live").mkdir()
    shutil.copy(FIXTURES / "live" / "demo-broken.json", ds_dir / "live" / "export.json")
    ds = load_dataset(ds_dir)
    assert ds.live is not None and len(ds.live.live_apps) == 10
    assert ds.live.path == "live/export.json"
    findings = run_rules(ds)
    text = incident_markdown(ds, findings, wave_graph(ds, findings))
    assert text.count("## Predicted versus observed") == 1
    section = text.split("## Predicted versus observed")[1]
    # counted by hand in the export: 32 conditions, 52 failed sync results, 10 failed operations
    assert ("against what Argo CD reports in `live/export.json`: 94 observations (conditions, "
            "failed sync results, failed operations), 94 explained by a prediction and "
            "**0 observed only**") in section
    rows = [line for line in section.splitlines()
            if line.startswith("| argocd/common-services | InvalidSpecError |")]
    assert rows == [f"| argocd/common-services | InvalidSpecError | 1 | 0 | 0 | {ISE} | {ISE} |"]


def test_writeup_without_live_export_has_no_reconcile_section():
    ds = load_dataset(DEMO / "broken")
    assert ds.live is None
    findings = run_rules(ds)
    assert "## Predicted versus observed" not in incident_markdown(ds, findings,
                                                                  wave_graph(ds, findings))


def test_render_status_gives_the_source_type():
    ds = load_dataset(DEMO / "broken")
    types = dict(zip(ds.apps["app"], ds.apps["source_type"].astype(str)))
    assert types["argocd/common-services"] == "kustomize" and types["argocd/web-apps"] == "multi"
    assert set(types.values()) == {"kustomize", "multi"}
