"""RollingSync (progressive syncs) from a repository to the findings and the wave graph: the
steps of an ApplicationSet are drawn as ordered groups, and an app no step selects is found.

The steps below are worked out by hand from Argo CD v3.5.1
``applicationset/progressivesync/progressive_sync.go`` ``buildAppDependencyList``: an app is in
the first step whose ``matchExpressions`` all hold on its labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_analysis import load_dataset, run_rules, wave_graph
from gitops_analysis.views.wave_layout import NO_STEP_COLOUR, STEP_COLOUR, wave_layout

REPO_URL = "https://git.example.com/platform/rollouts.git"
ROOT = f"""apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: root
  namespace: argocd
spec:
  project: default
  source: {{repoURL: {REPO_URL}, path: bootstrap, targetRevision: main}}
  destination: {{server: https://kubernetes.default.svc, namespace: argocd}}
"""
CRDS = f"""apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: widget-crds
  namespace: argocd
  annotations: {{argocd.argoproj.io/sync-wave: "-1"}}
spec:
  project: default
  source: {{repoURL: {REPO_URL}, path: apps/crds, targetRevision: main}}
  destination: {{server: https://kubernetes.default.svc}}
"""
APPSET = f"""apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: guestbook
  namespace: argocd
spec:
  goTemplate: true
  generators:
  - list:
      elements: [{{env: prod-us}}, {{env: dev}}, {{env: qa}}, {{env: staging}}, {{env: prod-eu}}]
  strategy:
    type: RollingSync
    rollingSync:
      steps:
      - matchExpressions: [{{key: env, operator: In, values: [dev]}}]
      - matchExpressions: [{{key: env, operator: In, values: [staging]}}]
      - matchExpressions: [{{key: env, operator: In, values: [prod-eu, prod-us]}}]
  template:
    metadata:
      name: 'guestbook-{{{{.env}}}}'
      labels: {{env: '{{{{.env}}}}'}}
    spec:
      project: default
      source: {{repoURL: {REPO_URL}, path: apps/guestbook, targetRevision: main}}
      destination: {{server: https://kubernetes.default.svc, namespace: 'gb-{{{{.env}}}}'}}
      syncPolicy: {{syncOptions: [CreateNamespace=true]}}
"""
CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"""
GUESTBOOK = """apiVersion: v1
kind: ConfigMap
metadata: {name: guestbook}
data: {a: b}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: guestbook}
spec: {}
"""
# by hand: dev -> 1, staging -> 2, prod-eu and prod-us -> 3, qa -> no step
STEPS = {"argocd/guestbook-dev": 1, "argocd/guestbook-staging": 2,
         "argocd/guestbook-prod-eu": 3, "argocd/guestbook-prod-us": 3,
         "argocd/guestbook-qa": 0}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from gitops_analysis.render.run import render_repository

    tmp = tmp_path_factory.mktemp("rollouts")
    repo = tmp / "repo"
    for path, text in {"root.yaml": ROOT, "bootstrap/crds.yaml": CRDS,
                       "bootstrap/guestbook.yaml": APPSET, "apps/crds/crd.yaml": CRD,
                       "apps/guestbook/all.yaml": GUESTBOOK}.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    render_repository(repo, tmp / "ds", repo_map={REPO_URL: str(repo)}, use_cache=False,
                      helm="none")
    return load_dataset(tmp / "ds")


def test_the_apps_frame_knows_each_step(dataset):
    apps = dataset.apps.set_index("app")
    generated = apps[apps["appset"] == "argocd/guestbook"]
    assert generated["rollout_step"].to_dict() == STEPS
    assert set(generated["rollout_steps"]) == {3}
    assert apps.loc[["argocd/root", "argocd/widget-crds"], "rollout_steps"].tolist() == [0, 0]


def test_an_app_no_step_selects_is_found(dataset):
    found = run_rules(dataset)
    mine = found[found["rule"] == "GA905"]
    assert mine["app"].tolist() == ["argocd/guestbook-qa"]
    assert mine["message"].tolist() == [
        "no RollingSync step of ApplicationSet argocd/guestbook selects it (3 steps): never "
        "synced automatically"]
    assert mine["severity"].tolist() == ["warning"]
    assert mine["file"].tolist() == ["apps/guestbook-qa.yaml"]


def _inside(inner, outer) -> bool:
    return outer.x0 <= inner.x0 and inner.x1 <= outer.x1 and outer.y0 <= inner.y0 and \
        inner.y1 <= outer.y1


def test_the_wave_graph_draws_the_steps_as_ordered_groups(dataset):
    graph = wave_graph(dataset, run_rules(dataset))
    lay = wave_layout(graph)
    assert [(g.label, g.members) for g in lay.groups] == [
        ("guestbook: step 1 of 3", ["argocd/guestbook-dev"]),
        ("guestbook: step 2 of 3", ["argocd/guestbook-staging"]),
        ("guestbook: step 3 of 3", ["argocd/guestbook-prod-eu", "argocd/guestbook-prod-us"]),
        ("guestbook: in no step", ["argocd/guestbook-qa"])]
    groups = lay.groups
    # in order from the top, one frame after the other, each around its own boxes only
    assert all(a.y1 < b.y0 for a, b in zip(groups, groups[1:]))
    for g in groups:
        assert all(_inside(lay.boxes[n], g) for n in g.members)
        others = [b for n, b in lay.boxes.items() if n not in g.members]
        assert not any(_inside(b, g) for b in others)
        # the label sits in the frame, above its first box, and fits the frame's width
        x, y = g.label_at
        assert g.y0 < y < lay.boxes[g.members[0]].y0 and g.x0 <= x < g.x1
    assert ("step", STEP_COLOUR, "RollingSync step: synced when the step before is healthy",
            ) == lay.legend[-2][:3]
    assert lay.legend[-1][:2] == ("step", NO_STEP_COLOUR)
    # the labels are counted among the texts whose size the readability tests check
    assert ("guestbook: in no step", 9.0) in lay.texts()


def test_without_rolling_sync_there_are_no_groups(dataset):
    apps = dataset.apps.copy()
    apps["rollout_steps"] = 0
    plain = type(dataset)(**{**dataset.__dict__, "apps": apps})
    lay = wave_layout(wave_graph(plain, run_rules(plain)))
    assert lay.groups == [] and not any(kind == "step" for kind, *_ in lay.legend)


def test_the_figure_draws_each_frame(dataset, tmp_path):
    from matplotlib.figure import Figure

    from gitops_analysis.views.plots import plot_wave_graph

    graph = wave_graph(dataset, run_rules(dataset))
    lay = wave_layout(graph)
    fig = Figure(figsize=(lay.width, lay.height))
    ax = plot_wave_graph(graph, fig.add_axes((0, 0, 1, 1)), layout=lay)
    frames = {p.get_gid(): p for p in ax.patches if str(p.get_gid()).startswith("step:")}
    assert sorted(frames) == sorted(f"step:{g.label}" for g in lay.groups)
    assert frames["step:guestbook: in no step"].get_edgecolor()[:3] == pytest.approx(
        (0xd5 / 255, 0x5e / 255, 0x00 / 255))
    fig.savefig(Path(tmp_path) / "wave.png")


# -- the order between apps of one ApplicationSet --------------------------------------------

SET = """apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: set, namespace: argocd}
spec:
  goTemplate: true
  generators:
  - list:
      elements: [{name: ns, wave: "-2", env: infra}, {name: user, wave: "0", env: apps}]
  STRATEGY
  template:
    metadata:
      name: '{{.name}}'
      labels: {env: '{{.env}}'}
      annotations: {argocd.argoproj.io/sync-wave: '{{.wave}}'}
    spec:
      project: default
      source: {repoURL: REPO, path: '{{.name}}', targetRevision: main}
      destination: {server: https://kubernetes.default.svc, namespace: x}
"""
TWO_STEPS = """strategy:
    type: RollingSync
    rollingSync:
      steps:
      - matchExpressions: [{key: env, operator: In, values: [FIRST]}]
      - matchExpressions: [{key: env, operator: In, values: [SECOND]}]"""


def _set_dataset(tmp_path, strategy: str):
    """ns creates namespace x (wave -2), user deploys a ConfigMap into it (wave 0); both are
    generated by one ApplicationSet."""
    from gitops_analysis.render.run import render_repository

    repo = tmp_path / "repo"
    for path, text in {"set.yaml": SET.replace("STRATEGY", strategy).replace("REPO", REPO_URL),
                       "ns/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n",
                       "user/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
                       }.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    render_repository(repo, tmp_path / "ds", repo_map={REPO_URL: str(repo)}, use_cache=False,
                      helm="none")
    ds = load_dataset(tmp_path / "ds")
    assert dict(zip(ds.apps["app"], ds.apps["wave"])) == {"argocd/ns": -2, "argocd/user": 0}
    return ds


def test_waves_do_not_order_the_apps_of_one_applicationset(tmp_path):
    # the ApplicationSet controller creates both at once; wave -2 orders nothing: a race
    found = run_rules(_set_dataset(tmp_path, ""))
    late = found[found["slug"] == "namespace-late"]
    assert late["message"].tolist() == [
        "namespace x is created by argocd/ns of the same ApplicationSet argocd/set, which syncs "
        "its apps with no order (it never reads sync-wave): whether it exists when argocd/user "
        "applies is a race"]
    assert late["severity"].tolist() == ["warning"]
    # and no parent waits for waves that order nothing
    assert not (found["slug"] == "app-health-missing").any()


def test_rolling_sync_steps_order_them(tmp_path):
    # ns in step 1, user in step 2: ns is healthy before user syncs
    ok = run_rules(_set_dataset(tmp_path / "ok", TWO_STEPS.replace("FIRST", "infra")
                                .replace("SECOND", "apps")))
    assert not (ok["slug"] == "namespace-late").any()
    # the other way round: user syncs first, and fails as Argo CD says
    late = run_rules(_set_dataset(tmp_path / "late", TWO_STEPS.replace("FIRST", "apps")
                                  .replace("SECOND", "infra")))
    late = late[late["slug"] == "namespace-late"]
    assert late["severity"].tolist() == ["error"]
    assert late["message"].tolist() == [
        'one or more objects failed to apply, reason: namespaces "x" not found']
    assert "a later RollingSync step" in late["detail"].iloc[0]
