"""Sync options as Argo CD reads them (v3.5.1: controller/sync.go, gitops-engine
sync_context.go and annotations.go), and how the wave graph notes Replace and ServerSideApply."""

from __future__ import annotations

from conftest import application, write_dataset

from gitops_analysis import load_dataset, run_rules
from gitops_analysis.analysis.graph import wave_graph
from gitops_analysis.rules.sync_options import annotation_options, option_problem


def test_annotation_options_are_split_trimmed_and_deduplicated():
    assert annotation_options(" Prune=false,, Replace=true ,Prune=false") == \
        ["Prune=false", "Replace=true"]


def test_where_each_option_is_read():
    assert option_problem("CreateNamespace=true", on_resource=False) == ""
    assert option_problem("Prune=confirm", on_resource=True) == ""
    assert option_problem("Validate=true", on_resource=False) == ""  # the default, spelled out
    assert "read only from the Application's" in option_problem("FailOnSharedResource=true",
                                                                on_resource=True)
    assert "read only from a resource's" in option_problem("Force=true", on_resource=False)
    # app-level options are not trimmed: HasOption compares exact strings
    assert option_problem(" CreateNamespace=true", on_resource=False) == \
        "sync option ' CreateNamespace=true' is unknown to Argo CD and ignored (did you mean " \
        "CreateNamespace=true?)"
    assert option_problem("Prune=never", on_resource=True) == \
        "sync option 'Prune=never' is unknown to Argo CD and ignored"


def test_the_wave_graph_notes_replace_and_server_side_apply(tmp_path):
    cm = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {n}\n  annotations:\n"
          "    argocd.argoproj.io/sync-options: {o}\n")
    ds = load_dataset(write_dataset(
        tmp_path, {"a": application("a", options=("Replace=true",)),
                   "b": application("b", options=("ServerSideApply=true",))},
        {"a.yaml": cm.format(n="x", o="Validate=false"),
         "b.yaml": cm.format(n="y", o="Force=true, Replace=true")}))
    g = wave_graph(ds, run_rules(ds))
    a, b = g.nodes["argocd/a"], g.nodes["argocd/b"]
    assert (a["replace"], a["server_side_apply"], a["replaced_resources"]) == (True, False, 0)
    assert (b["replace"], b["server_side_apply"], b["replaced_resources"]) == (False, True, 1)
