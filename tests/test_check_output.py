"""What ``check`` tells a user: coverage first, exit codes by what was analysed, text that fits
120 columns with colour only on a terminal, SARIF that code scanning accepts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from conftest import DEMO, SHARED, application, need_shared, write_dataset
from gitops_analysis.cli.main import main

CERT = ("apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: web\n"
        "  namespace: default\nspec: {}\n")
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: default\n"


def run(capsys, *argv):
    code = main(["check", "--no-cache", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _status(root, statuses):
    (root / "render-status.json").write_text(json.dumps(
        {"apps": {a: {"status": s, "message": m} for a, (s, m) in statuses.items()}}))


@pytest.fixture
def mixed(tmp_path):
    apps = {n: application(n, namespace="default")
            for n in ("web", "cert-manager", "chart", "plugin")}
    root = write_dataset(tmp_path / "mixed", apps, {"web.yaml": CERT})
    _status(root, {"web": ("ok", ""), "cert-manager": ("failed", "kustomize build failed"),
                   "chart": ("remote", "a chart from a Helm repository: pass --allow-remote"),
                   "plugin": ("unsupported", "a config management plugin")})
    return root


def test_first_line_says_what_was_not_analysed(capsys, mixed):
    code, out, _ = run(capsys, str(mixed))
    lines = out.splitlines()
    assert lines[0] == ("mixed: 1 of 4 apps analysed; 3 not (remote 1, render failed 1, "
                        "unsupported 1)")
    assert lines[1:4] == [
        "  not analysed: argocd/cert-manager (render failed): kustomize build failed",
        "  not analysed: argocd/chart (remote): a chart from a Helm repository: pass --allow-remote",
        "  not analysed: argocd/plugin (unsupported): a config management plugin"]
    # the missing CRD could come from the unrendered cert-manager app: a warning, not an error
    assert code == 0 and "warning (unproven) The Kubernetes API could not find" in out
    assert run(capsys, str(mixed), "--require-complete")[0] == 1
    doc = json.loads(run(capsys, str(mixed), "--format", "json")[1])
    assert doc["coverage"]["analysed"] == 1
    assert [g["app"] for g in doc["coverage"]["not_analysed"]] == [
        "argocd/cert-manager", "argocd/chart", "argocd/plugin"]
    crd = [f for f in doc["findings"] if f["slug"] == "crd-missing"][0]
    assert (crd["severity"], crd["confidence"], crd["could_come_from"][0]) == \
        ("warning", "unproven", "argocd/cert-manager")


def test_a_refused_link_is_named(capsys, tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text(CM)
    root = write_dataset(tmp_path / "d", {"a": application("a", namespace="default"),
                                          "b": application("b", namespace="default")},
                         {"b.yaml": CM.replace("name: c", "name: d")})
    (root / "rendered" / "a.yaml").symlink_to(outside)
    code, out, _ = run(capsys, str(root))
    assert out.splitlines()[0] == "d: 1 of 2 apps analysed; 1 not (refused file 1)"
    assert out.splitlines()[1].startswith("  not analysed: argocd/a (refused file): ")
    assert run(capsys, str(root), "--require-complete")[0] == 1


def test_no_applications_or_nothing_rendered_exit_2(capsys, tmp_path):
    empty = tmp_path / "empty"
    (empty / "apps").mkdir(parents=True)
    code, out, err = run(capsys, str(empty))
    assert (code, out) == (2, "") and "no Application in apps/" in err
    assert len(err.strip().splitlines()) == 1
    bare = write_dataset(tmp_path / "bare", {"a": application("a")}, {})
    (bare / "rendered").rmdir()
    code, out, err = run(capsys, str(bare))
    assert (code, out) == (2, "") and "nothing was analysed" in err


def test_every_app_failing_as_argo_cd_would_is_a_comparison_error_not_a_usage_error(
        capsys, tmp_path):
    """render ran, and the only app's path does not exist: Argo CD shows a ComparisonError
    (util/app/path/path.go), so check reports GA001 and exits 1, and says nothing else was
    analysed (never "no findings", never "render the repository first")."""
    root = write_dataset(tmp_path / "r6", {"a": application("a")}, {})
    desc = "does-not-exist: app path does not exist"
    (root / "render-status.json").write_text(json.dumps({"apps": {"argocd/a": {
        "status": "failed", "message": desc + ": fix spec.source.path or add the folder",
        "failure": {"kind": "path", "source": 0, "message": "failed to generate manifest for "
                    "source 1 of 1: rpc error: code = Unknown desc = " + desc}}}}))
    code, out, err = run(capsys, str(root))
    lines = out.splitlines()
    assert (code, err) == (1, "")
    assert lines[0] == "r6: 0 of 1 app analysed; 1 not (render failed 1)"
    assert "  argocd/a  GA001 comparison-error (1)" in lines
    assert lines[-3:] == [
        "1 error, 0 warnings (0 unproven) in 1 app; apps that will fail: argocd/a",
        "nothing was analysed: its only app could not be analysed",
        "  render failed 1: fix what the render failures above say, then render again"]
    assert "no findings" not in out and "render the repository first" not in out


def test_nothing_analysed_after_a_render_says_why_and_exits_3(capsys, tmp_path):
    """Every app remote or unsupported: no finding, and nothing was looked at. Exit 3 (not 0,
    not the usage error 2); --require-complete makes it 1, as for any app not analysed."""
    plugin = "config-management plugin cmp is not run by gitops-analysis: render it yourself"
    root = write_dataset(tmp_path / "cc", {n: application(n) for n in ("a", "b", "c")}, {})
    _status(root, {"a": ("remote", "chart x from https://e.com: not fetched (offline)"),
                   "b": ("remote", "chart y from https://e.com: not fetched (offline)"),
                   "c": ("unsupported", plugin)})
    code, out, err = run(capsys, str(root))
    assert (code, err) == (3, "")
    assert out.splitlines()[0] == "cc: 0 of 3 apps analysed; 3 not (remote 2, unsupported 1)"
    assert out.splitlines()[-3:] == [
        "nothing was analysed: none of the 3 apps could be analysed",
        "  remote 2: pass --allow-remote or --chart-cache DIR to render",
        "  unsupported 1: " + plugin]
    assert "no findings" not in out
    assert run(capsys, str(root), "--require-complete")[0] == 1
    assert run(capsys, str(root), "--fail-on", "never")[0] == 3
    code, out, err = run(capsys, str(root), "--format", "json")
    assert (code, json.loads(out)["coverage"]["analysed"]) == (3, 0)
    assert err == (f"gitops-analysis check: {root}: nothing was analysed: none of the 3 apps "
                   "could be analysed: remote 2: pass --allow-remote or --chart-cache DIR to "
                   f"render; unsupported 1: {plugin}\n")


def test_a_rendered_folder_without_renders_asks_for_a_render(capsys, tmp_path):
    # rendered/ is there (so not a usage error) but holds nothing for the app
    root = write_dataset(tmp_path / "d", {"a": application("a")}, {})
    code, out, _ = run(capsys, str(root))
    assert code == 3
    assert out.splitlines()[-1] == \
        "  missing render 1: render the repository (gitops-analysis render REPO --out DATASET)"


REMOTE_DETAIL = ("chart mysql 9.16.2 from https://charts.bitnami.com/bitnami: not fetched "
                 "(offline): pass --allow-remote to fetch it (kept in --chart-cache DIR for the "
                 "next runs)")
KUSTOMIZE_DESC = ("db/kustomization.yaml: accumulating resources: accumulation err=bad: must "
                  "resolve to a file")


def test_long_lines_go_on_indented_never_cut(capsys, tmp_path):
    """A coverage line of 196 columns breaks after "(offline):" (col 117; "pass" would end at
    121) and goes on indented 2 + 4; the GA001 line breaks after "desc =" (col 120) and goes on
    under the message (4 + len("error   ")). Nothing is cut, with or without --show-all."""
    root = write_dataset(tmp_path / "d", {n: application(n, namespace="default")
                                          for n in ("web", "db", "k")}, {"web.yaml": CM})
    (root / "render-status.json").write_text(json.dumps({"apps": {
        "web": {"status": "ok", "message": ""},
        "db": {"status": "remote", "message": REMOTE_DETAIL},
        "k": {"status": "failed", "message": "kustomize build failed", "failure": {
            "kind": "kustomize", "source": 0, "message": "failed to generate manifest for "
            "source 1 of 1: rpc error: code = Unknown desc = " + KUSTOMIZE_DESC}}}}))
    for extra in ([], ["--show-all"], ["--verbose"]):
        code, out, _ = run(capsys, str(root), *extra)
        lines = out.splitlines()
        assert code == 1 and max(map(len, lines)) <= 120 and "…" not in out
        at = lines.index("  not analysed: argocd/db (remote): chart mysql 9.16.2 from "
                         "https://charts.bitnami.com/bitnami: not fetched (offline):")
        assert lines[at + 1] == ("      pass --allow-remote to fetch it (kept in --chart-cache "
                                 "DIR for the next runs)")
        at = lines.index("    error   Failed to load target state: failed to generate manifest "
                         "for source 1 of 1: rpc error: code = Unknown desc =")
        assert lines[at + 1] == " " * 12 + KUSTOMIZE_DESC
    # on a terminal, only the severity of the first line is coloured, as before
    from gitops_analysis import load_dataset
    from gitops_analysis.analysis.coverage import coverage
    from gitops_analysis.rules import run_rules
    from gitops_analysis.views.text import Style, findings_text

    ds = load_dataset(root)
    coloured = findings_text(ds, run_rules(ds), coverage(ds), Style(color=True)).splitlines()
    at = coloured.index("    \033[1;31merror   \033[0mFailed to load target state: failed to "
                        "generate manifest for source 1 of 1: rpc error: code = Unknown desc =")
    assert coloured[at + 1] == " " * 12 + KUSTOMIZE_DESC


def test_the_cache_answers_only_for_the_same_dataset(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("GITOPS_ANALYSIS_CACHE", str(tmp_path / "cache"))
    x = tmp_path / "X"
    write_dataset(x / "a", {"a": application("a", namespace="default")}, {"a.yaml": CM})
    typo = str(x / "typo")
    assert main(["check", typo]) == 2
    capsys.readouterr()
    assert main(["check", str(x / "a")]) == 0
    assert capsys.readouterr().out.startswith("a: 1 of 1 app analysed")
    assert main(["check", typo]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "typo" in err
    # a copy of the same files under another name is named by its own name
    import shutil
    shutil.copytree(x / "a", x / "b")
    assert main(["check", str(x / "b")]) == 0
    assert capsys.readouterr().out.startswith("b: 1 of 1 app analysed")


def _check_in_a_pipe(args, **env):
    environ = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environ.update(env)
    return subprocess.run([sys.executable, "-m", "gitops_analysis.cli.main", "check",
                           "--no-cache", *args], capture_output=True, text=True, env=environ)


def test_text_fits_120_columns_and_has_no_colour_in_a_pipe():
    for extra in ([], ["--verbose"], ["--show-all"], ["--verbose", "--show-all"]):
        done = _check_in_a_pipe([str(DEMO / "broken"), *extra])
        assert done.returncode == 1
        assert max(len(line) for line in done.stdout.splitlines()) <= 120
        assert "\033[" not in done.stdout
    text = _check_in_a_pipe([str(DEMO / "broken")]).stdout.splitlines()
    # the root cause comes before the 30-odd findings it causes, which are folded under it
    assert text[0] == "broken: 10 of 10 apps analysed"
    assert text[2].startswith("Root causes")
    assert text[3] == "  argocd/common-services  GA201 namespace-missing (1)"
    assert text[5].strip().startswith("blocks 9 apps (33 findings): argocd/jupyter, argocd/katib")
    assert not any("GA601" in line for line in text)  # folded by default
    everything = _check_in_a_pipe([str(DEMO / "broken"), "--show-all"]).stdout
    assert everything.count("GA601 blocked-by-dependency") == 9  # one group per blocked app


def test_colour_only_on_a_terminal_and_never_with_no_color():
    import pty
    for no_color, expect in (("", True), ("1", False)):
        pid, fd = pty.fork()
        if pid == 0:  # the child runs check on a terminal
            env = dict(os.environ, COLUMNS="120")
            if no_color:
                env["NO_COLOR"] = no_color
            else:
                env.pop("NO_COLOR", None)
            os.execve(sys.executable, [sys.executable, "-m", "gitops_analysis.cli.main", "check",
                                       "--no-cache", str(DEMO / "broken")], env)
        chunks = []
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        os.waitpid(pid, 0)
        out = b"".join(chunks).decode()
        assert ("\033[1;31m" in out) is expect
        plain = re.sub(r"\033\[[0-9;]*m", "", out)
        assert max(len(line) for line in plain.splitlines()) <= 120


def test_sarif_is_valid_and_every_result_has_a_location(capsys):
    jsonschema = pytest.importorskip("jsonschema")
    schema_path = need_shared(SHARED / "reference" / "schemas" / "sarif-2.1.0.json",
                              "the SARIF 2.1.0 schema")
    schema = json.loads(schema_path.read_text())
    code, out, _ = run(capsys, str(DEMO / "broken"), "--format", "sarif")
    doc = json.loads(out)
    jsonschema.validate(doc, schema)
    results = doc["runs"][0]["results"]
    assert results and all(r["locations"] for r in results)
    assert all(len(r["partialFingerprints"]["gitopsAnalysisFinding/v1"]) == 64 for r in results)
    # the dataset-wide finding (GA401) points at an Application file
    health = [r for r in results if r["ruleId"] == "GA401"][0]
    loc = health["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"].startswith("apps/")
    # resources that kustomize annotated with their origin point into the repository
    repo_uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                 for r in results
                 if r["locations"][0]["physicalLocation"]["artifactLocation"].get("uriBaseId")
                 == "%SRCROOT%"}
    assert repo_uris and all(not u.startswith(("rendered/", "/", "..")) for u in repo_uris)
    for u in repo_uris:
        assert (DEMO / "repo" / u).is_file(), u
    # fingerprints are the same on a second run and differ between findings about different things
    again = json.loads(run(capsys, str(DEMO / "broken"), "--format", "sarif")[1])
    assert [r["partialFingerprints"] for r in again["runs"][0]["results"]] == \
        [r["partialFingerprints"] for r in results]


def test_sarif_carries_coverage_as_notifications(capsys, mixed):
    doc = json.loads(run(capsys, str(mixed), "--format", "sarif")[1])
    notes = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"].split(":")[1].strip() for n in notes] == \
        ["argocd/cert-manager (render failed)", "argocd/chart (remote)",
         "argocd/plugin (unsupported)"]


def test_inventory_uses_the_same_states(capsys, mixed):
    assert main(["inventory", str(mixed)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "mixed: 1 of 4 apps analysed; 3 not (remote 1, render failed 1, " \
                       "unsupported 1)"
    rows = {line.split()[0]: line.split()[3:] for line in lines[3:7]}
    assert rows["argocd/web"][:2] == ["analysed", "1"]
    # an app that was not analysed says why and shows no resource count
    assert rows["argocd/chart"] == ["remote", "-"]
    assert rows["argocd/cert-manager"] == ["render", "failed", "-"]
    assert main(["inventory", str(mixed), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {a["app"]: a["analysis"] for a in doc["apps"]} == {
        "argocd/web": "analysed", "argocd/cert-manager": "not-analysed",
        "argocd/chart": "not-analysed", "argocd/plugin": "not-analysed"}
    assert doc["coverage"]["analysed"] == 1


def test_an_applicationset_not_expanded_is_named_first(capsys, tmp_path):
    from conftest import FIXTURES
    from gitops_analysis.render.run import render_repository

    repo = FIXTURES / "appsets" / "repo"
    out = tmp_path / "as"
    render_repository(repo, out, apps_paths=[repo / "appsets" / "unsupported-pull-request.yaml",
                                             repo / "appsets" / "list-elements.yaml"],
                      use_cache=False)
    code, text, _ = run(capsys, str(out), "--fail-on", "never")
    lines = text.splitlines()
    assert lines[0] == "as: 3 of 3 apps analysed; 1 ApplicationSet not expanded"
    assert lines[1].startswith("  ApplicationSet argocd/unsupported-pull-request not expanded "
                               "(pullRequest): ")
    assert run(capsys, str(out), "--fail-on", "never", "--require-complete")[0] == 1
    doc = json.loads(run(capsys, str(out), "--format", "json")[1])
    assert [g["name"] for g in doc["coverage"]["not_expanded"]] == \
        ["argocd/unsupported-pull-request"]


def test_inventory_columns_fit_the_data_and_120_columns(capsys, tmp_path):
    """Widths by hand: wave 4 (its header), namespace 31 (costmanagement-metrics-operator),
    analysis 13 (render failed), resources 9 (its header): 64 with the 7 spaces between them;
    the app column gets 120 - 64 - 20 (the top kinds' least) = 36, so the 50-column name goes
    on a line of its own and its row on the next."""
    long = "cert-manager-operator-with-a-very-long-name"  # argocd/... is 50 columns
    ns = "costmanagement-metrics-operator"
    root = write_dataset(tmp_path / "inv", {
        "web": application("web", namespace=ns), long: application(long, namespace="default"),
        "broken": application("broken", namespace="default")},
        {"web.yaml": CM, f"{long}.yaml": CM + "---\n" + CM.replace("name: c", "name: d")})
    _status(root, {"web": ("ok", ""), long: ("ok", ""), "broken": ("failed", "kustomize")})
    assert main(["inventory", str(root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2:7] == [
        "app" + " " * 33 + " wave  namespace" + " " * 22 + " analysis" + " " * 5 +
        " resources  top kinds",
        "argocd/broken" + " " * 23 + "    0  default" + " " * 24 + " render failed" +
        " " * 9 + "-",
        "argocd/" + long,
        " " * 36 + "    0  default" + " " * 24 + " analysed     " + " " * 9 + "2  ConfigMap 2",
        "argocd/web" + " " * 26 + "    0  " + ns + " analysed     " + " " * 9 +
        "1  ConfigMap 1"]
    assert lines[8] == ("3 apps, 2 rendered files, 3 documents = 3 resources + 0 load errors; "
                        "1 app without a render")
    assert max(map(len, lines)) <= 120


def test_inventory_of_one_app_that_failed_says_1_app_without_a_render(capsys, tmp_path):
    root = write_dataset(tmp_path / "r6", {"a": application("a")}, {})
    _status(root, {"a": ("failed", "does-not-exist: app path does not exist")})
    assert main(["inventory", str(root)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "1 app, 0 rendered files, 0 documents = 0 resources + 0 load errors; "
        "1 app without a render")


def test_nothing_analysed_because_fetches_failed_says_where_to_render(capsys, tmp_path):
    # a fetch that failed on this machine (DNS) is no finding: render again where it reaches
    root = write_dataset(tmp_path / "ff", {"a": application("a")}, {})
    _status(root, {"a": ("fetch-failed", "fetch failed: DNS lookup failed (github.com): ...")})
    code, out, err = run(capsys, str(root))
    assert (code, err) == (3, "")
    assert out.splitlines()[-1] == ("  fetch failed 1: render again where the network reaches "
                                    "what they fetch, or with --chart-cache DIR holding their "
                                    "charts")


def test_a_finding_about_all_apps_is_not_counted_in_zero_apps():
    from conftest import FIXTURES

    from gitops_analysis import load_dataset, run_rules
    from gitops_analysis.views.text import summary_line

    found = run_rules(load_dataset(FIXTURES / "rules" / "app-health-missing" / "fail"))
    assert found["app"].tolist() == [""]  # the waves of the dataset, no app's own
    assert summary_line(found).startswith("0 errors, 1 warning (0 unproven) about all apps;")
