"""Argo CD's app identity: ``<namespace>/<name>`` everywhere, instance names as Argo CD builds
them (``<namespace>_<name>`` outside the control-plane namespace), and the namespaces that hold
Applications exist.

Expectations follow Argo CD's ``Application.QualifiedName()`` and ``InstanceName()``
(pkg/apis/application/v1alpha1/types.go): the qualified name is always ``<namespace>/<name>``;
the instance name is the bare name in the control-plane namespace.
"""

from __future__ import annotations

import json

from conftest import write_dataset
from gitops_analysis import load_dataset, run_rules
from gitops_analysis.cli.main import main
from gitops_analysis.live.import_live import import_live
from gitops_analysis.load.live_export import load_live
from gitops_analysis.render.run import render_repository


def app(name: str, namespace: str | None, path: str, dest_ns: str = "web",
        project: str = "default") -> str:
    ns = f"  namespace: {namespace}\n" if namespace else ""
    return (f"apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n"
            f"{ns}spec:\n  project: {project}\n  source:\n    repoURL: https://git.example/r.git\n"
            f"    path: {path}\n    targetRevision: main\n  destination:\n"
            f"    server: https://kubernetes.default.svc\n    namespace: {dest_ns}\n")


CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n  namespace: web\n"
NS = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n"


PROJECT = ("apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata:\n  name: team\n"
           "  namespace: argocd\nspec:\n  sourceNamespaces: [team-a]\n  sourceRepos: ['*']\n"
           "  destinations: [{server: '*', namespace: '*'}]\n"
           "  clusterResourceWhitelist: [{group: '*', kind: '*'}]\n")


def test_two_apps_of_one_name_in_two_namespaces_both_load(tmp_path):
    # an app outside argocd needs a project that lists its namespace in sourceNamespaces
    root = write_dataset(tmp_path / "d", {"web": app("web", "argocd", "a"),
                                          "team-a_web": app("web", "team-a", "b",
                                                            project="team")},
                         {"web.yaml": NS + "---\n" + CM + "---\n" + PROJECT,
                          "team-a_web.yaml": CM})
    ds = load_dataset(root)
    assert list(ds.apps["app"]) == ["argocd/web", "team-a/web"]
    assert list(ds.apps["instance"]) == ["web", "team-a_web"]
    res = ds.resources[ds.resources["kind"] == "ConfigMap"]
    assert sorted(res["tracking_id"]) == ["team-a_web:/ConfigMap:web/shared",
                                          "web:/ConfigMap:web/shared"]
    f = run_rules(ds)
    shared = f[f["slug"] == "shared-resource"].sort_values("app")
    # QualifiedName of the app itself, the other by its instance name with _ read as /
    assert list(shared["message"]) == [
        "ConfigMap/shared is part of applications argocd/web and team-a/web",
        "ConfigMap/shared is part of applications team-a/web and web"]


def test_the_control_plane_namespace_is_an_option(tmp_path, capsys):
    root = write_dataset(tmp_path / "d", {"a": app("a", None, "a"), "b": app("b", None, "b")},
                         {"a.yaml": NS + "---\n" + CM, "b.yaml": CM})
    ds = load_dataset(root, argocd_namespace="openshift-gitops")
    assert list(ds.apps["app"]) == ["openshift-gitops/a", "openshift-gitops/b"]
    assert list(ds.apps["instance"]) == ["a", "b"]
    f = run_rules(ds)
    assert "ConfigMap/shared is part of applications openshift-gitops/a and b" in \
        set(f["message"])
    assert main(["check", str(root), "--no-cache", "--format", "json",
                 "--argocd-namespace", "openshift-gitops"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {x["app"] for x in doc["findings"]} >= {"openshift-gitops/a", "openshift-gitops/b"}


def test_a_root_app_rendering_children_into_argocd_needs_no_namespace(tmp_path):
    children = app("child-a", None, "a").replace("  name: child-a\n",
                                                 "  name: child-a\n  namespace: argocd\n")
    root = write_dataset(tmp_path / "d", {"root": app("root", "argocd", "apps", dest_ns="argocd"),
                                          "child-a": children},
                         {"root.yaml": children, "child-a.yaml": NS + "---\n" + CM})
    f = run_rules(load_dataset(root))
    about_argocd = f[(f["kind"] == "Namespace") & (f["name"] == "argocd")]
    assert about_argocd.empty, about_argocd[["slug", "message"]].to_string()
    assert not f["message"].str.contains('namespaces "argocd" not found').any()


def test_cluster_namespaces_file_lists_namespaces_that_exist(tmp_path, capsys):
    other = CM.replace("namespace: web", "namespace: monitoring")
    root = write_dataset(tmp_path / "d", {"a": app("a", None, "a")}, {"a.yaml": other})
    f = run_rules(load_dataset(root))
    assert (f["slug"] == "namespace-not-created").sum() == 1
    listing = tmp_path / "ns.json"
    listing.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring"}}]}))
    f = run_rules(load_dataset(root, cluster_namespaces=listing))
    assert (f["slug"] == "namespace-not-created").sum() == 0
    names = tmp_path / "ns.txt"
    names.write_text("namespace/default\nnamespace/monitoring\n")
    assert main(["check", str(root), "--no-cache", "--cluster-namespaces", str(names)]) == 0
    capsys.readouterr()
    names.write_text("pod/x\n")
    assert main(["check", str(root), "--no-cache", "--cluster-namespaces", str(names)]) == 2
    assert "ns.txt:1: 'pod/x' is not namespace/<name>" in capsys.readouterr().err


def test_two_apps_of_one_name_render_side_by_side(tmp_path):
    repo = tmp_path / "repo"
    for path in ("a", "b"):
        (repo / path).mkdir(parents=True)
        (repo / path / "cm.yaml").write_text(CM.replace("shared", f"cm-{path}"))
    (repo / "apps").mkdir()
    (repo / "apps" / "web.yaml").write_text(app("web", "argocd", "a"))
    (repo / "apps" / "team-a-web.yaml").write_text(app("web", "team-a", "b"))
    out = tmp_path / "ds"
    report = render_repository(repo, out, apps_paths=[repo / "apps"], use_cache=False)
    assert report.exit_code == 0
    assert sorted(p.name for p in (out / "apps").iterdir()) == ["team-a_web.yaml", "web.yaml"]
    assert sorted(p.name for p in (out / "rendered").iterdir()) == ["team-a_web.yaml",
                                                                    "web.yaml"]
    status = json.loads((out / "render-status.json").read_text())["apps"]
    assert sorted(status) == ["argocd/web", "team-a/web"]
    ds = load_dataset(out)
    got = dict(zip(ds.resources["app"], ds.resources["name"]))
    assert got == {"argocd/web": "cm-a", "team-a/web": "cm-b"}


def test_two_apps_of_one_name_import_and_reconcile(tmp_path, capsys):
    def item(ns):
        return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                "metadata": {"name": "web", "namespace": ns},
                "spec": {"project": "default",
                         "source": {"repoURL": "https://git.example/r.git", "path": ns,
                                    "targetRevision": "main"},
                         "destination": {"server": "https://kubernetes.default.svc",
                                         "namespace": "web"}},
                "status": {"sync": {"status": "Synced"}, "health": {"status": "Healthy"}}}
    export = tmp_path / "export.json"
    export.write_text(json.dumps({"apiVersion": "v1", "kind": "List",
                                  "items": [item("argocd"), item("team-a")]}))
    live = load_live(export)
    assert list(live.live_apps["app"]) == ["argocd/web", "team-a/web"]
    out = tmp_path / "ds"
    import_live(export, out)
    assert sorted(p.name for p in (out / "apps").iterdir()) == ["team-a_web.yaml", "web.yaml"]
    (out / "rendered").mkdir()
    (out / "rendered" / "web.yaml").write_text(NS)
    (out / "rendered" / "team-a_web.yaml").write_text(CM)
    assert main(["reconcile", str(out), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["apps"]["dataset"] == 2 and doc["summary"]["apps"]["export"] == 2


def test_a_dataset_rendered_under_another_control_namespace_still_matches(tmp_path):
    # rendered with the default (argocd): the openshift-gitops app is openshift-gitops_web
    root = write_dataset(tmp_path / "d", {"openshift-gitops_web": app("web", "openshift-gitops",
                                                                      "a")},
                         {"openshift-gitops_web.yaml": NS + "---\n" + CM})
    (root / "render-status.json").write_text(json.dumps(
        {"apps": {"openshift-gitops/web": {"status": "ok", "message": ""}}}))
    for control in ("argocd", "openshift-gitops"):
        ds = load_dataset(root, argocd_namespace=control)
        assert ds.load_errors.empty, control
        assert list(ds.resources["app"].unique()) == ["openshift-gitops/web"], control
    # said to be rendered, but the file is gone: not analysed, never an empty app
    (root / "rendered" / "openshift-gitops_web.yaml").unlink()
    ds = load_dataset(root)
    assert ds.apps["render_status"].tolist() == ["missing"]


def test_children_are_written_with_the_namespace_their_parent_applies_them_in(tmp_path):
    repo = tmp_path / "repo"
    (repo / "apps").mkdir(parents=True)
    (repo / "children").mkdir()
    (repo / "web").mkdir()
    (repo / "web" / "cm.yaml").write_text(CM)
    (repo / "children" / "web.yaml").write_text(app("web", None, "web"))
    (repo / "apps" / "root.yaml").write_text(app("root", "openshift-gitops", "children",
                                                 dest_ns="openshift-gitops"))
    out = tmp_path / "ds"
    assert render_repository(repo, out, apps_paths=[repo / "apps"], use_cache=False,
                             argocd_namespace="openshift-gitops").exit_code == 0
    # the child has no namespace of its own: the parent applies it into its destination
    ds = load_dataset(out)  # loaded with the default control namespace: still the same apps
    assert sorted(ds.apps["app"]) == ["openshift-gitops/root", "openshift-gitops/web"]
    assert ds.resources.loc[ds.resources["kind"] == "ConfigMap", "app"].tolist() == \
        ["openshift-gitops/web"]


def test_findings_that_rest_on_a_doubtful_control_namespace_are_unproven(tmp_path):
    """Every Application lives in openshift-gitops and none in argocd, the namespace assumed
    for Argo CD: that an app there may not use its project rests on the guess."""
    root = write_dataset(tmp_path / "d", {"a": app("a", "openshift-gitops", "a")},
                         {"openshift-gitops_a.yaml": NS + "---\n" + CM})
    f = run_rules(load_dataset(root))
    guessed = f[f["slug"] == "app-namespace-not-permitted"]
    assert len(guessed) == 1
    assert (guessed["severity"].iloc[0], guessed["confidence"].iloc[0]) == \
        ("warning", "unproven")
    assert "pass --argocd-namespace openshift-gitops" in guessed["detail"].iloc[0]
    f = run_rules(load_dataset(root, argocd_namespace="openshift-gitops"))
    assert not (f["slug"] == "app-namespace-not-permitted").any()


def test_apps_of_another_argo_cd_in_the_repository_are_unproven(tmp_path):
    """One repository, two Argo CDs: web lives in argocd (taken as Argo CD's namespace),
    shop in openshift-gitops. The argocd instance would not admit shop, but shop is likely
    the other instance's own app: unproven, saying so. An app in team-a, a namespace named like
    no Argo CD's, stays a certain error."""
    apps = {"web": app("web", "argocd", "web"), "shop": app("shop", "openshift-gitops", "shop"),
            "jobs": app("jobs", "team-a", "jobs")}
    root = write_dataset(tmp_path / "d", apps, {
        "web.yaml": CM, "openshift-gitops_shop.yaml": CM, "team-a_jobs.yaml": CM})
    f = run_rules(load_dataset(root))
    found = f[f["slug"] == "app-namespace-not-permitted"].set_index("app")
    assert sorted(found.index) == ["openshift-gitops/shop", "team-a/jobs"]
    assert tuple(found.loc["openshift-gitops/shop", ["severity", "confidence"]]) == \
        ("warning", "unproven")
    assert ("openshift-gitops may be the namespace of another Argo CD, whose own apps these "
            "are; check them with --argocd-namespace openshift-gitops") in \
        found.loc["openshift-gitops/shop", "detail"]
    assert tuple(found.loc["team-a/jobs", ["severity", "confidence"]]) == ("error", "certain")


def test_an_explicit_argocd_namespace_wins_over_the_configuration(tmp_path, capsys):
    root = write_dataset(tmp_path / "d", {"a": app("a", None, "a")}, {"a.yaml": NS + "---\n" + CM})
    config = tmp_path / "cfg.toml"
    config.write_text('control-plane-namespace = "openshift-gitops"\n')
    for flags, want in (([], "openshift-gitops/a"), (["--argocd-namespace", "argocd"],
                                                     "argocd/a")):
        assert main(["check", str(root), "--no-cache", "--format", "json", "--fail-on",
                     "never", "--config", str(config), *flags]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert [a["app"] for a in doc["coverage"]["not_analysed"]] == [] and \
            doc["inputs"]["applications"] == 1
        assert {f["app"] for f in doc["findings"] if f["app"]} <= {want}, flags


def test_report_takes_the_namespace_options(tmp_path):
    from gitops_analysis.views.notebook import prepare

    root = write_dataset(tmp_path / "d", {"a": app("a", None, "a")}, {"a.yaml": NS + "---\n" + CM})
    listing = tmp_path / "ns.txt"
    listing.write_text("namespace/web\n")
    ctx = prepare(str(root), argocd_namespace="openshift-gitops",
                  cluster_namespaces=str(listing))
    assert list(ctx.ds.apps["app"]) == ["openshift-gitops/a"]
    assert ctx.ds.cluster_namespaces == frozenset({"web"})
