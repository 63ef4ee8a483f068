"""Coverage: what was and was not analysed, and findings that depend on what was not seen.

Expectations come from the datasets written here by hand: which apps have a render, which
render-status.json marks failed, remote or unsupported, and which CRDs each app carries.
"""

from __future__ import annotations

import json

from conftest import application, write_dataset
from gitops_analysis import load_dataset, run_rules
from gitops_analysis.analysis.coverage import coverage

CERT = ("apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: web\n"
        "  namespace: team\nspec: {}\n")
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: team\n"
NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n"


def _status(root, statuses: dict[str, tuple[str, str]]) -> None:
    (root / "render-status.json").write_text(json.dumps(
        {"apps": {a: {"status": s, "message": m} for a, (s, m) in statuses.items()}}))


def test_states_and_reasons(tmp_path):
    apps = {n: application(n) for n in ("web", "cert-manager", "remote-chart", "plugin", "gone")}
    root = write_dataset(tmp_path, apps, {"web.yaml": NAMESPACE + "---\n" + CERT})
    _status(root, {"web": ("ok", ""), "cert-manager": ("failed", "kustomize build failed"),
                   "remote-chart": ("remote", "chart from a Helm repository"),
                   "plugin": ("unsupported", "config management plugin")})
    cov = coverage(load_dataset(root))
    got = {r.app: (r.state, r.reason) for r in cov.frame.itertuples(index=False)}
    assert got == {"argocd/web": ("analysed", ""),
                   "argocd/cert-manager": ("not-analysed", "render failed"),
                   "argocd/remote-chart": ("not-analysed", "remote"),
                   "argocd/plugin": ("not-analysed", "unsupported"),
                   "argocd/gone": ("not-analysed", "missing render")}
    d = cov.as_dict()
    assert (d["apps"], d["analysed"], d["partial"]) == (5, 1, [])
    assert [g["app"] for g in d["not_analysed"]] == ["argocd/cert-manager", "argocd/gone",
                                                     "argocd/plugin", "argocd/remote-chart"]
    assert cov.line("ds") == ("ds: 1 of 5 apps analysed; 4 not (missing render 1, remote 1, "
                              "render failed 1, unsupported 1)")


def test_a_crd_only_an_unrendered_app_could_supply_is_an_unproven_warning(tmp_path):
    apps = {n: application(n) for n in ("web", "cert-manager", "other")}
    root = write_dataset(tmp_path, apps, {"web.yaml": NAMESPACE + "---\n" + CERT,
                                          "other.yaml": CONFIGMAP})
    _status(root, {"web": ("ok", ""), "other": ("ok", ""),
                   "cert-manager": ("failed", "kustomize build failed")})
    f = run_rules(load_dataset(root))
    crd = f[f["slug"] == "crd-missing"]
    assert len(crd) == 1
    row = crd.iloc[0]
    assert (row["severity"], row["confidence"], row["app"]) == ("warning", "unproven",
                                                               "argocd/web")
    assert row["could_come_from"] == ("argocd/cert-manager",)
    # nothing unproven starts a cascade
    assert not (f["slug"] == "blocked-by-dependency").any()


def test_the_same_crd_gap_with_everything_rendered_is_a_certain_error(tmp_path):
    apps = {n: application(n) for n in ("web", "other")}
    root = write_dataset(tmp_path, apps, {"web.yaml": NAMESPACE + "---\n" + CERT,
                                          "other.yaml": CONFIGMAP})
    f = run_rules(load_dataset(root))
    row = f[f["slug"] == "crd-missing"].iloc[0]
    assert (row["severity"], row["confidence"], row["could_come_from"]) == \
        ("error", "certain", ())


def test_candidates_are_ranked_by_what_their_names_share(tmp_path):
    apps = {n: application(n) for n in ("web", "aaa-unrelated", "cert-manager")}
    root = write_dataset(tmp_path, apps, {"web.yaml": NAMESPACE + "---\n" + CERT})
    f = run_rules(load_dataset(root))
    row = f[f["slug"] == "crd-missing"].iloc[0]
    # both are unrendered; the one whose name shares the API group's words comes first
    assert row["could_come_from"] == ("argocd/cert-manager", "argocd/aaa-unrelated")


def test_a_render_that_fails_as_argo_cd_would_is_a_comparison_error(tmp_path):
    """A source path that does not exist: Argo CD's repo server answers '<path>: app path does
    not exist' (util/app/path/path.go), which the controller shows as the ComparisonError
    'Failed to load target state: failed to generate manifest for source 1 of 1: rpc error:
    code = Unknown desc = ...' (controller/state.go); the app is also not analysed."""
    from gitops_analysis.render.run import render_repository

    repo = tmp_path / "repo"
    (repo / "apps").mkdir(parents=True)
    (repo / "shop").mkdir()
    (repo / "shop" / "cm.yaml").write_text(CONFIGMAP)
    (repo / "apps" / "shop.yaml").write_text(application("shop"))
    (repo / "apps" / "web.yaml").write_text(application("web").replace("path: web",
                                                                       "path: apps/web"))
    out = tmp_path / "ds"
    assert render_repository(repo, out, apps_paths=[repo / "apps"], use_cache=False) \
        .exit_code == 1
    ds = load_dataset(out)
    f = run_rules(ds)
    err = f[f["slug"] == "comparison-error"]
    assert list(err["message"]) == [
        "Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: "
        "code = Unknown desc = apps/web: app path does not exist"]
    assert (err["severity"].iloc[0], err["argocd_condition"].iloc[0], err["app"].iloc[0]) == \
        ("error", "ComparisonError", "argocd/web")
    got = coverage(ds).frame.set_index("app")
    assert (got.at["argocd/web", "state"], got.at["argocd/web", "reason"]) == \
        ("not-analysed", "render failed")


def test_the_wave_graph_never_shows_an_unread_app_as_ok(tmp_path):
    from gitops_analysis import wave_graph

    apps = {n: application(n) for n in ("web", "cert-manager")}
    root = write_dataset(tmp_path, apps, {"web.yaml": NAMESPACE + "---\n" + CONFIGMAP})
    _status(root, {"web": ("ok", ""), "cert-manager": ("remote", "a remote chart")})
    ds = load_dataset(root)
    g = wave_graph(ds, run_rules(ds))
    assert (g.nodes["argocd/web"]["status"], g.nodes["argocd/web"]["analysis"]) == \
        ("ok", "analysed")
    assert (g.nodes["argocd/cert-manager"]["status"],
            g.nodes["argocd/cert-manager"]["analysis_reason"]) == ("not-analysed", "remote")


def test_an_unreachable_applicationset_is_counted_once_as_unreachable(tmp_path):
    """render-status.json lists 2 unreachable files (an ApplicationSet and an Application) and
    one ApplicationSet that was reached but not expanded: 1 not expanded, 2 unreachable."""
    root = write_dataset(tmp_path / "ds", {"web": application("web")},
                         {"web.yaml": CONFIGMAP})
    (root / "render-status.json").write_text(json.dumps({
        "apps": {"web": {"status": "ok", "message": ""}},
        "appsets": {"argocd/prs": {"complete": False, "gaps": [
            {"generator": "pullRequest", "message": "needs the SCM provider's API"}]}},
        "unreachable": [
            {"kind": "ApplicationSet", "name": "argocd/set", "file": "apps/set.yaml", "line": 1},
            {"kind": "Application", "name": "argocd/lone", "file": "apps/lone.yaml", "line": 1}]}))
    cov = coverage(load_dataset(root))
    d = cov.as_dict()
    assert [g["name"] for g in d["not_expanded"]] == ["argocd/prs"]
    assert [g["name"] for g in d["unreachable"]] == ["argocd/set", "argocd/lone"]
    assert cov.line("ds") == ("ds: 1 of 1 app analysed; 1 ApplicationSet not expanded; "
                              "2 unreachable files not rendered")
