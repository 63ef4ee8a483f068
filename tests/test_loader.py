"""The loader: frames, defaulting, accounting, bad input that loses nothing."""

from __future__ import annotations

import json
import os
import time

import pytest
import yaml

from conftest import application, write_dataset
from conftest import wall_clock_limit
from gitops_analysis import InputError, NotADatasetError, load_dataset, load_live
from gitops_analysis.core.schema import FRAMES
from gitops_analysis.load.argocdcm import health_check_configured
from gitops_analysis.load.cluster import load_cluster_api

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n{ns}data:\n  k: v\n"


def cm(name, ns=None):
    return CM.format(name=name, ns=f"  namespace: {ns}\n" if ns else "")


def test_frames_follow_the_schema(tmp_path):
    ds = load_dataset(write_dataset(tmp_path, {"a": application("a")}, {"a.yaml": cm("x")}))
    for frame, cols in FRAMES.items():
        df = getattr(ds, frame)
        assert list(df.columns) == [c.name for c in cols], frame
    assert str(ds.resources["kind"].dtype) == "category"
    assert str(ds.resources["scope"].dtype) == "category"


def test_effective_namespace_and_scope(tmp_path):
    rendered = "\n---\n".join([
        cm("declared", "other"), cm("defaulted"),
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r\n"
        "  namespace: ignored\n",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
        "  name: gadgets.example.org\nspec:\n  group: example.org\n  scope: Cluster\n"
        "  names: {kind: Gadget, plural: gadgets}\n  versions: [{name: v1, served: true}]\n",
        "apiVersion: example.org/v1\nkind: Gadget\nmetadata:\n  name: g\n  namespace: team\n",
    ])
    ds = load_dataset(write_dataset(tmp_path, {"a": application("a", namespace="team")},
                                    {"a.yaml": rendered}))
    r = ds.resources.set_index("name")
    assert r.at["declared", "namespace"] == "other"
    assert r.at["defaulted", "namespace"] == "team"
    assert (r.at["r", "scope"], r.at["r", "namespace"]) == ("Cluster", "")
    # unknown kinds are treated as namespaced (IsNamespacedOrUnknown), and said so
    assert (r.at["w", "scope"], r.at["w", "namespace"]) == ("Unknown", "team")
    assert (r.at["g", "scope"], r.at["g", "scope_from"], r.at["g", "namespace"]) == \
        ("Cluster", "crd", "")
    assert r.at["defaulted", "tracking_id"] == "a:/ConfigMap:team/defaulted"
    # cluster-scoped objects carry the destination namespace in the tracking id
    assert r.at["r", "tracking_id"] == "a:rbac.authorization.k8s.io/ClusterRole:team/r"
    assert ds.crds[["group", "kind", "plural", "scope", "versions"]].values.tolist() == \
        [["example.org", "Gadget", "gadgets", "Cluster", "v1"]]


def test_wave_parsing_follows_argocd(tmp_path):
    apps = {"a": application("a", wave="x1"), "b": application("b", wave="-2")}
    rendered = {"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
                          "  annotations:\n    argocd.argoproj.io/sync-wave: 'oops'\n"
                          "    helm.sh/hook-weight: '3'\n", "b.yaml": cm("d")}
    ds = load_dataset(write_dataset(tmp_path, apps, rendered))
    waves = dict(zip(ds.apps["name"], ds.apps["wave"]))
    assert waves == {"a": 0, "b": -2}
    assert ds.resources.set_index("name").at["c", "sync_wave"] == 3
    todo = "write an integer such as '0' or '-1'"
    assert ds.warnings[["file", "line", "reason"]].values.tolist() == [
        ["apps/a.yaml", 1, f"apps/a.yaml:1: sync-wave 'x1' is not an integer: Argo CD treats it "
                           f"as 0; {todo}"],
        ["rendered/a.yaml", 1, "rendered/a.yaml:1: sync-wave 'oops' is not an integer: Argo CD "
                               f"treats it as 3; {todo}"]]


def test_bad_documents_become_load_errors_and_nothing_is_lost(tmp_path):
    rendered = {
        "a.yaml": "\n---\n".join([
            cm("ok1"), "- just\n- a list\n", "plain scalar", "kind: ConfigMap\nmetadata:\n"
            "  name: no-api\n", "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: 42\n",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations: [a]\n",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [unclosed\n", cm("ok2"),
            "apiVersion: v1\nkind: List\nitems:\n- " + cm("item0").replace("\n", "\n  ") +
            "\n- 7\n",
        ]),
        "a-more/extra.yml": "{{ not: yaml",
        "ghost.yaml": cm("orphan"),
        "bin.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \xff\xfe\n",
    }
    ds = load_dataset(write_dataset(tmp_path, {"a": application("a")}, rendered))
    acc = ds.accounting
    assert acc.documents == acc.resources + acc.load_errors
    assert sorted(ds.resources["name"]) == ["item0", "ok1", "ok2"]
    reasons = list(ds.load_errors["reason"])
    assert len(reasons) == acc.load_errors == 11
    assert any("the document is a list" in r for r in reasons)
    assert any("no apiVersion" in r for r in reasons)
    assert any("without metadata.name" in r for r in reasons)
    assert any("is a int, not a string" in r for r in reasons)
    assert any("annotations of this ConfigMap is not a mapping" in r for r in reasons)
    assert any("YAML syntax error" in r for r in reasons)
    assert any("no Application in apps/ has the instance name ghost" in r for r in reasons)
    assert any("not UTF-8" in r for r in reasons)
    assert ds.load_errors.set_index("file").at["rendered/a-more/extra.yml", "app"] == "a-more"
    # every message names the file and line first
    for r, f, line in ds.load_errors[["reason", "file", "line"]].itertuples(index=False):
        assert r.startswith(f"{f}:{line}: " if line else f"{f}: "), (r, line)
    item_err = ds.load_errors[ds.load_errors["item"] == 1]
    assert len(item_err) == 1 and "int scalar" in item_err["reason"].iloc[0]


def test_line_numbers_point_at_each_document(tmp_path):
    text = "# Source: base\n" + cm("one", "t") + "---\n# comment\n" + cm("two", "t") + \
        "---\n# Source: extra\n" + cm("three", "t")
    ds = load_dataset(write_dataset(tmp_path, {"a": application("a")}, {"a.yaml": text}))
    r = ds.resources.set_index("name")
    lines = text.splitlines()
    for name in ("one", "two", "three"):
        assert lines[r.at[name, "line"] - 1].startswith("apiVersion"), name
    assert r.at["one", "line"] == 2
    assert (r.at["one", "source"], r.at["two", "source"], r.at["three", "source"]) == \
        ("base", "base", "extra")
    assert r.at["three", "origin"] == "extra"


def test_apps_folder_problems(tmp_path):
    apps = {"a": application("a"), "dup": application("a"),
            "other": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
            "broken": "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: [\n",
            "nomissing": application("norender")}
    ds = load_dataset(write_dataset(tmp_path, apps, {"a.yaml": cm("c")}))
    assert sorted(ds.apps["name"]) == ["a", "norender"]
    st = dict(zip(ds.apps["name"], ds.apps["render_status"]))
    assert st == {"a": "ok", "norender": "missing"}
    assert ds.accounting.apps_without_render == 1
    assert ds.accounting.skipped_app_documents == 1
    assert ds.accounting.app_load_errors == 2
    assert any("a second Application argocd/a " in r for r in ds.load_errors["reason"])
    assert any("is not an argoproj.io Application: skipped" in r for r in ds.warnings["reason"])


def test_content_hash_ignores_key_order_and_format(tmp_path):
    a = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: t\ndata: {k: v}\n"
    b = "kind: ConfigMap\ndata:\n  k: 'v'\nmetadata: {namespace: t, name: c}\napiVersion: v1\n"
    ds = load_dataset(write_dataset(tmp_path, {"a": application("a"), "b": application("b")},
                                    {"a.yaml": a, "b.yaml": b}))
    assert ds.resources["content_hash"].nunique() == 1


def test_not_a_dataset(tmp_path):
    with pytest.raises(NotADatasetError, match="not a dataset"):
        load_dataset(tmp_path)
    with pytest.raises(NotADatasetError, match="not a folder"):
        load_dataset(tmp_path / "nope")


def test_rendered_folder_per_app_and_multi_source(tmp_path):
    apps = {"m": application("m", sources=["x", "y"])}
    ds = load_dataset(write_dataset(tmp_path, apps, {"m/1.yaml": cm("p", "t"),
                                                     "m/2.yaml": cm("q", "t")}))
    assert sorted(ds.resources["name"]) == ["p", "q"]
    assert ds.apps.iloc[0]["source_type"] == "multi"
    assert list(ds.sources["path"]) == ["x", "y"]


def test_duplicate_keys_and_bom_are_warnings(tmp_path):
    text = b"\xef\xbb\xbf" + cm("c", "t").replace("data:", "data:\n  k: w\n ").encode()
    text = b"\xef\xbb\xbfapiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  name: d\n"
    ds = load_dataset(write_dataset(tmp_path, {"a": application("a")}, {"a.yaml": text}))
    assert list(ds.resources["name"]) == ["d"]
    reasons = " ".join(ds.warnings["reason"])
    assert "byte-order mark" in reasons and "duplicate key 'name'" in reasons
    assert "rendered/a.yaml:5: duplicate key" in reasons


def test_kubeflow_accounting(kubeflow_broken, ground_truth):
    acc = kubeflow_broken.accounting
    assert (acc.applications, acc.documents, acc.resources, acc.load_errors) == (13, 1113, 1113, 0)
    truth = ground_truth["variants"]["broken"]["apps"]
    got = dict(zip(kubeflow_broken.apps["name"], kubeflow_broken.apps["resources"]))
    assert got == {a: v["resourceCount"] for a, v in truth.items()}
    waves = dict(zip(kubeflow_broken.apps["name"], kubeflow_broken.apps["wave"]))
    assert waves == {a: v["wave"] for a, v in truth.items()}


def test_kubeflow_kinds_match_ground_truth(kubeflow_broken, ground_truth):
    res = kubeflow_broken.resources
    key = res["group"].where(res["group"] == "", res["group"] + "/") + res["kind"].astype(str)
    counts = res.assign(k=key).groupby(["app", "k"], observed=True).size()
    for app, v in ground_truth["variants"]["broken"]["apps"].items():
        # the Kubeflow Applications live in argocd; the ground truth names them bare
        got = {k: int(n) for (a, k), n in counts.items() if a == f"argocd/{app}"}
        assert got == v["kinds"], app


# --- every other file the loader reads passes the same reader ---------------------------------

ARGOCD_CM = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\ndata:\n"
             "  resource.customizations: |\n{block}")
HEALTH = "    argoproj.io/Application:\n      health.lua: |\n        return {}\n"


def test_argocd_cm_is_read_with_the_readers_limits(tmp_path):
    path = tmp_path / "argocd-cm.yaml"
    path.write_text(ARGOCD_CM.format(block=HEALTH))
    assert health_check_configured(path)
    bomb = "    a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"    {c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
    path.write_text(ARGOCD_CM.format(block=bomb + HEALTH))
    start = time.perf_counter()
    assert not health_check_configured(path)  # the block is refused, so nothing is configured
    assert time.perf_counter() - start < wall_clock_limit(20)
    marker = tmp_path / "pwned"
    cases = {
        "deep": ("data: " + "[" * 200_000, r"argocd-cm\.yaml:1: nested more than 500 levels deep"),
        "tag": (f"data: !!python/object/apply:os.system ['touch {marker}']\n",
                r"argocd-cm\.yaml:1: YAML tag '[^']*python/object/apply:os\.system' is not "
                r"allowed: remove the tag"),
        "syntax": ("kind: ConfigMap\n  bad: indentation\n",
                   r"argocd-cm\.yaml:2: YAML syntax error: mapping values are not allowed"),
    }
    for text, message in cases.values():
        path.write_text(text)
        with pytest.raises(InputError, match=message):
            health_check_configured(path)
    assert not marker.exists()
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)  # reading it would block forever
    with pytest.raises(InputError, match=r"fifo\.yaml: not a regular file \(a named pipe\)"):
        health_check_configured(fifo)


def test_cluster_api_files_are_read_with_the_readers_guards(tmp_path):
    fifo = tmp_path / "api.txt"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"api\.txt: not a regular file \(a named pipe\)"):
        load_cluster_api(fifo)
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"NAME APIVERSION NAMESPACED KIND\nconfigmaps v1 true Config\xe9Map\n")
    with pytest.raises(InputError) as exc:
        load_cluster_api(latin)
    assert (exc.value.file, exc.value.line) == (str(latin), 2)
    assert "bytes that are not UTF-8" in exc.value.what
    with pytest.raises(InputError, match="cannot be read"):
        load_cluster_api(tmp_path / "missing.txt")


def export(items: list) -> dict:
    return {"apiVersion": "v1", "kind": "List", "items": items}


def live_app(name: str) -> dict:
    return yaml.safe_load(application(name)) | {"status": {"sync": {"status": "Synced"}}}


def test_live_exports_are_read_with_the_readers_limits(tmp_path):
    deep = tmp_path / "deep.json"
    text = json.dumps(export([live_app("a")]), indent=1)
    # 600 levels: Python's json reads them, the reader refuses them (its limit is 500)
    deep.write_text(text.replace('"Synced"', "[" * 600 + "]" * 600))
    with pytest.raises(InputError) as exc:
        load_live(deep)
    line = text.split("\n").index(next(s for s in text.split("\n") if '"Synced"' in s)) + 1
    assert (exc.value.line, exc.value.what) == (line, "nested more than 500 levels deep")
    deep.write_text("[" * 200_000)
    with pytest.raises(InputError, match="nested more than 500 levels deep"):
        load_live(deep)
    huge = tmp_path / "huge.json"
    huge.write_text(text.replace('"Synced"', "9" * 5000))  # more digits than Python converts
    with pytest.raises(InputError, match="a value JSON cannot read"):
        load_live(huge)
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("apiVersion: v1\nkind: List\nitems:\n- " + application("a").replace(
        "\n", "\n  ") + "status:\n    l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"    l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 12)))
    with pytest.raises(InputError, match=r"bomb\.yaml:1: YAML aliases would expand"):
        load_live(bomb)


def test_live_export_items_carry_their_lines(tmp_path):
    apps = [live_app(n) for n in ("a", "b", "c")]
    as_list = tmp_path / "list.yaml"  # argocd app list -o yaml: a top-level sequence
    as_list.write_text(yaml.safe_dump(apps, sort_keys=False))
    as_json = tmp_path / "list.json"
    as_json.write_text(json.dumps(export(apps), indent=2))
    for path in (as_list, as_json):
        lines = path.read_text().split("\n")
        live = load_live(path)
        starts = list(live.live_apps["line"])  # apps a, b, c: in file order too
        assert starts == sorted(set(starts)) and len(starts) == 3, (path, starts)
        for name, first, end in zip("abc", starts, starts[1:] + [len(lines) + 1]):
            assert lines[first - 1].lstrip(" -").startswith(("apiVersion:", "{")), \
                (path, first)
            item = "\n".join(lines[first - 1:end - 1])
            names = {n for n in "abc" if f"name: {n}\n" in item or f'"name": "{n}"' in item}
            assert names == {name}, (path, first, names)
