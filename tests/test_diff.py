"""``gitops-analysis diff``: two commits of a real git repository written here, both rendered,
the findings of the change told apart from those it keeps.

The repository (:func:`_repository`): ``platform`` (wave 0) creates namespace ``team``,
``crds`` (wave 0) the CRD ``widgets.example.com``, ``consumer`` (wave 1) a Widget,
``app-a`` (wave 1) ConfigMap ``foo`` and ``app-b`` (wave 1) ConfigMap ``bar``; every app is a
plain directory (Argo CD's directory source). The head commit makes ``app-b`` deploy ``foo``
too and moves ``crds`` to wave 5, after its consumer.

Expected findings, from Argo CD's rules (docs/rules.md) and messages (core/messages.py):

- GA101 SharedResourceWarning on both apps that deploy ``foo``, as controller/state.go words
  it: ``ConfigMap/foo is part of applications argocd/app-a and app-b`` (the app's qualified
  name, then the other app's instance name) and the same from ``app-b``'s side;
- GA302 on ``consumer``: its Widget's CRD comes only from a later wave, so its first sync fails
  with util/argo's message ``The Kubernetes API could not find example.com/Widget for requested
  resource team/w1. Make sure the "Widget" CRD is installed on the destination cluster.``

Nothing else is new: the other apps did not change.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from gitops_analysis.cli.main import main
from gitops_analysis.diff.run import run_diff
from gitops_analysis.render.run import render_repository

URL = "https://git.example/gitops.git"
FOO = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: foo\n  namespace: team\ndata:\n  k: v\n"
SHARED_A = "ConfigMap/foo is part of applications argocd/app-a and app-b"
SHARED_B = "ConfigMap/foo is part of applications argocd/app-b and app-a"
CRD_LATE = ("The Kubernetes API could not find example.com/Widget for requested resource "
            "team/w1. Make sure the \"Widget\" CRD is installed on the destination cluster.")
NEW = {("GA101", "argocd/app-a", "ConfigMap", "foo", SHARED_A),
       ("GA101", "argocd/app-b", "ConfigMap", "foo", SHARED_B),
       ("GA302", "argocd/consumer", "Widget", "w1", CRD_LATE)}
CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"""


def _app(name: str, wave: int, annotations: str = "") -> str:
    return (f"apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n"
            f"  namespace: argocd\n  annotations:\n    argocd.argoproj.io/sync-wave: \"{wave}\"\n"
            f"{annotations}spec:\n  project: default\n  source:\n    repoURL: {URL}\n"
            f"    path: {name}\n    targetRevision: main\n  destination:\n"
            "    server: https://kubernetes.default.svc\n    namespace: team\n")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout


def _write(repo: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _commit(repo: Path, message: str) -> str:
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message)
    return _git(repo, "rev-parse", "HEAD").strip()


BASE = {
    "apps/platform.yaml": _app("platform", 0), "apps/crds.yaml": _app("crds", 0),
    "apps/consumer.yaml": _app("consumer", 1), "apps/app-a.yaml": _app("app-a", 1),
    "apps/app-b.yaml": _app("app-b", 1),
    "platform/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n",
    "crds/widgets.yaml": CRD,
    "consumer/widget.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w1\n"
                            "  namespace: team\nspec: {}\n",
    "app-a/foo.yaml": FOO,
    "app-b/bar.yaml": FOO.replace("foo", "bar"),
}
CHANGE = {"app-b/foo.yaml": FOO, "apps/crds.yaml": _app("crds", 5)}


def _repository(root: Path, head: dict[str, str] | None = None) -> Path:
    """The repository of the module doc: the base commit, then the head commit (``head``:
    more files to write in it)."""
    repo = root / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "test@example.com")
    _git(repo, "config", "user.name", "test")
    _write(repo, BASE)
    _commit(repo, "base")
    _write(repo, {**CHANGE, **(head or {})})
    _commit(repo, "head: app-b deploys foo too, the CRDs move to wave 5")
    return repo


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return _repository(tmp_path_factory.mktemp("diff"))


def _run(capsys, *args: str | Path) -> tuple[int, str, str]:
    code = main(["diff", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def _keys(records: list[dict]) -> set[tuple]:
    return {(r["rule"], r["app"], r["kind"], r["name"], r["message"]) for r in records}


def test_the_change_is_new_and_nothing_else(repo, capsys):
    code, out, err = _run(capsys, repo, "--base", "HEAD~1", "--head", "HEAD", "--format",
                          "json")
    doc = json.loads(out)
    assert code == 1  # a new error (GA302) at the default --fail-on error
    assert _keys(doc["new"]) == NEW
    assert doc["fixed"] == []
    # what did not change is unchanged: the dataset-wide GA401 (two waves, then three) keeps
    # its identity although its message changed
    assert {(r["rule"], r["app"]) for r in doc["unchanged"]} == {("GA401", "")}
    assert doc["summary"] == {"new": 3, "fixed": 0, "unchanged": 1,
                              "new_by_severity": {"error": 1, "warning": 2}}
    # each finding in check's JSON form
    from gitops_analysis.views.formats import JSON_FIELDS

    assert all(list(r) == list(JSON_FIELDS) for r in doc["new"] + doc["unchanged"])
    assert doc["changed_files"] == ["app-b/foo.yaml", "apps/crds.yaml"]
    assert doc["apps"] == {"added": [], "removed": [],
                           "changed": ["argocd/app-b", "argocd/crds"]}
    assert doc["resources"]["added"] == [{"app": "argocd/app-b", "cluster": doc["resources"][
        "added"][0]["cluster"], "group": "", "kind": "ConfigMap", "namespace": "team",
        "name": "foo"}]
    # the base rendered only what the changed files feed: app-b (a new file in its folder)
    # and crds (its Application changed); the three others are the head's output
    assert (doc["base"]["apps_rendered"], doc["base"]["apps_reused"]) == (2, 3)
    assert "base: 5 apps, 2 rendered, 3 as at the head" in err


def test_text_names_the_new_findings_with_argo_cds_messages(repo, capsys):
    code, out, _ = _run(capsys, repo, "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1
    lines = out.split("\nNew (3)\n")[1].split("\n\n")[0].splitlines()
    # a finding longer than 120 columns goes on over lines indented 6 (its 2, and 4), never cut
    assert lines[1].startswith("      ") and not lines[2].startswith("      ")
    new = [lines[0] + " " + lines[1].strip(), *lines[2:]]
    assert new[0] == "  error   GA302 argocd/consumer: " + CRD_LATE
    assert [line.split(": ", 1)[1] for line in new[1:]] == [SHARED_A, SHARED_B]
    assert out.rstrip().endswith("3 new findings (1 error, 2 warnings), 0 fixed, 1 unchanged")
    assert max(map(len, out.splitlines())) <= 120


def test_fail_on_never_and_warning(repo, capsys):
    assert _run(capsys, repo, "--base", "HEAD~1", "--head", "HEAD", "--fail-on", "never")[0] == 0
    assert _run(capsys, repo, "--base", "HEAD~1", "--head", "HEAD", "--select", "GA101",
                "--fail-on", "warning")[0] == 1
    # only the warnings selected: nothing new at error
    assert _run(capsys, repo, "--base", "HEAD~1", "--head", "HEAD", "--select",
                "shared-resource")[0] == 0


def test_the_same_change_on_both_sides_is_nothing_new(repo, capsys):
    code, out, _ = _run(capsys, repo, "--base", "HEAD", "--head", "HEAD", "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert doc["new"] == [] and doc["fixed"] == []
    assert _keys(doc["unchanged"]) >= NEW
    assert doc["apps"] == {"added": [], "removed": [], "changed": []}
    assert doc["changed_files"] == []
    assert (doc["base"]["apps_rendered"], doc["base"]["apps_reused"]) == (0, 5)


def test_the_fix_is_fixed(repo, capsys):
    code, out, _ = _run(capsys, repo, "--base", "HEAD", "--head", "HEAD~1", "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert doc["new"] == []
    assert _keys(doc["fixed"]) == NEW


def test_same_input_same_bytes(repo, capsys):
    args = ("--base", "HEAD~1", "--head", "HEAD")
    for fmt in ("json", "markdown", "text"):
        first = _run(capsys, repo, *args, "--format", fmt)[1]
        assert _run(capsys, repo, *args, "--format", fmt, "--no-cache")[1] == first


def _tokens(text: str):
    return MarkdownIt("commonmark").enable("table").parse(text)


def _cells(tokens) -> list[list[str]]:
    """Every table row, each cell as its rendered text (escapes and entities resolved)."""
    rows, row = [], None
    for i, t in enumerate(tokens):
        if t.type == "tr_open":
            row = []
        elif t.type == "inline" and row is not None and tokens[i - 1].type in ("td_open",
                                                                              "th_open"):
            row.append("".join(c.content for c in t.children or [] if c.type in
                               ("text", "code_inline", "softbreak")))
        elif t.type == "tr_close":
            rows.append(row)
            row = None
    return rows


def test_markdown_renders_as_a_pull_request_comment(repo, capsys):
    code, out, _ = _run(capsys, repo, "--base", "HEAD~1", "--head", "HEAD", "--format",
                        "markdown")
    assert code == 1
    tokens = _tokens(out)
    # the summary line first, as a heading
    assert tokens[0].type == "heading_open"
    assert tokens[1].content.endswith("gitops-analysis: 3 new findings (1 error, 2 warnings), "
                                      "0 fixed, 1 unchanged")
    # the new findings: the first table, before any <details>
    html = MarkdownIt("commonmark").enable("table").render(out)
    assert html.index("<table>") < html.index("<details>")
    rows = _cells(tokens)
    assert rows[0] == ["severity", "rule", "app", "resource", "message"]
    new_rows = rows[1:4]
    assert {(r[1].split()[0], r[2], r[4]) for r in new_rows} == \
        {(rule, app, msg) for rule, app, _, _, msg in NEW}
    assert ["error", "GA302 crd-late", "argocd/consumer", "example.com/Widget team/w1",
            CRD_LATE] in new_rows
    # everything else folded: the unchanged finding, the apps and resources changed
    assert html.count("<details>") == html.count("</details>") == 2
    assert "<summary>Unchanged findings (1)</summary>" in html
    assert "<summary>Apps and resources changed</summary>" in html
    # link-free: no link, no image, no raw HTML beyond details and summary
    assert not [t for t in tokens if t.type == "inline" and any(
        c.type in ("link_open", "image") for c in t.children or [])]
    raw = {line for t in tokens if t.type == "html_block" for line in t.content.split()}
    assert raw == {"<details>", "</details>", "<summary>Unchanged", "findings", "(1)</summary>",
                   "<summary>Apps", "and", "resources", "changed</summary>"}


def test_markdown_escapes_what_would_break_a_table(tmp_path, capsys):
    # a name with | _ * < > in a message must come out as it is, in its cell
    from gitops_analysis.views.diff import md

    text = "a|b_c*d <e> [f](g) `h` &i"
    rendered = _cells(_tokens(f"| x |\n|---|\n| {md(text)} |\n"))
    assert rendered == [["x"], [text]]


def test_a_new_root_cause_shows_its_chain(tmp_path, capsys):
    # the head also makes a wave-2 app deploy into namespace 'widgets', which only the
    # consumer creates: the consumer fails (GA302), so the user app is blocked (GA601) with
    # the chain user <- namespace widgets <- consumer
    repo = _repository(tmp_path, {
        "consumer/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: widgets\n",
        "apps/user.yaml": _app("user", 2), "user/cm.yaml":
            FOO.replace("foo", "u").replace("team", "widgets")})
    code, out, _ = _run(capsys, repo, "--base", "HEAD~1", "--head", "HEAD", "--format",
                        "markdown")
    assert code == 1
    html = MarkdownIt("commonmark").enable("table").render(out)
    assert "<summary>Root-cause chains of the new findings (1)</summary>" in html
    assert ("<li>argocd/user: argocd/user &lt;- namespace widgets &lt;- argocd/consumer: "
            "SyncError</li>") in html


def test_diff_renders_what_render_renders(repo, tmp_path, capsys):
    # the datasets diff made (the base mostly from the head's output) are byte for byte what
    # render makes of each commit
    code, _, _ = _run(capsys, repo, "--base", "HEAD~1", "--head", "HEAD", "--datasets",
                      tmp_path / "kept")
    assert code == 1
    for label, rev in (("base", "HEAD~1"), ("head", "HEAD")):
        tree = tmp_path / f"tree-{label}"
        tree.mkdir()
        archive = subprocess.run(["git", "archive", rev], cwd=repo, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        render_repository(tree, tmp_path / f"render-{label}")
        assert _tree(tmp_path / "kept" / label) == _tree(tmp_path / f"render-{label}")


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_head_defaults_to_the_files_on_disk(tmp_path, capsys):
    repo = _repository(tmp_path)
    _git(repo, "reset", "-q", "--soft", "HEAD~1")  # the change, staged, not committed
    code, out, _ = _run(capsys, repo, "--base", "HEAD", "--format", "json")
    assert code == 1
    assert _keys(json.loads(out)["new"]) == NEW
    # an untracked file counts too: app-a gets a second file, so app-a renders again
    (repo / "app-a" / "extra.yaml").write_text(FOO.replace("foo", "extra"))
    doc = json.loads(_run(capsys, repo, "--base", "HEAD", "--format", "json")[1])
    assert "app-a/extra.yaml" in doc["changed_files"]
    assert [(r["app"], r["name"]) for r in doc["resources"]["added"]] == \
        [("argocd/app-a", "extra"), ("argocd/app-b", "foo")]


def test_repo_in_a_subfolder_and_apps_relative_to_it(tmp_path, capsys):
    outer = tmp_path / "outer"
    outer.mkdir()
    _git(outer, "init", "-q", "-b", "main")
    _git(outer, "config", "user.email", "test@example.com")
    _git(outer, "config", "user.name", "test")
    _write(outer / "gitops", BASE)
    _write(outer, {"README.md": "outside REPO\n"})
    _commit(outer, "base")
    _write(outer / "gitops", CHANGE)
    _write(outer, {"README.md": "changed outside REPO\n"})
    _commit(outer, "head")
    code, out, _ = _run(capsys, outer / "gitops", "--base", "HEAD~1", "--head", "HEAD",
                        "--apps", "apps", "--format", "json")
    doc = json.loads(out)
    assert code == 1
    assert _keys(doc["new"]) == NEW
    assert doc["changed_files"] == ["app-b/foo.yaml", "apps/crds.yaml"]


def test_errors_are_one_line_with_what_to_do(tmp_path, repo, capsys):
    code, out, err = _run(capsys, repo, "--base", "no-such-branch", "--head", "HEAD")
    assert code == 2 and out == ""
    assert err.strip() == (f"gitops-analysis diff: {repo}: no-such-branch is not a commit of this "
                           "repository: pass a branch, tag or commit it has (a shallow clone in "
                           "CI: fetch the base branch first, e.g. fetch-depth: 0)")
    plain = tmp_path / "plain"
    plain.mkdir()
    code, _, err = _run(capsys, plain, "--base", "HEAD")
    assert code == 2
    assert err.strip() == (f"gitops-analysis diff: {plain}: not inside a git repository: pass the "
                           "folder of a git checkout as REPO (diff compares its revisions)")
    code, _, err = _run(capsys, repo, "--base", "HEAD", "--ignore", "GA999")
    assert code == 2 and "unknown rule 'GA999' in ignore" in err


def test_ignore_annotation_silences_one_and_counts_it(tmp_path, capsys):
    annotated = FOO.replace("  namespace: team\n", "  namespace: team\n  annotations:\n"
                            "    gitops-analysis.io/ignore: GA402,GA101\n")
    repo = _repository(tmp_path, {"app-b/foo.yaml": annotated})
    code, out, _ = _run(capsys, repo, "--base", "HEAD~1", "--head", "HEAD", "--format", "json")
    doc = json.loads(out)
    assert code == 1
    # app-b's copy carries the annotation: its warning is silenced, app-a's is not
    assert _keys(doc["new"]) == NEW - {("GA101", "argocd/app-b", "ConfigMap", "foo", SHARED_B)}
    assert doc["head"]["silenced"] == {"total": 1, "by_reason": {"annotation": 1},
                                       "by_rule": {"GA101": 1}}
    assert doc["base"]["silenced"]["total"] == 0
    text = _run(capsys, repo, "--base", "HEAD~1", "--head", "HEAD")[1]
    assert "head: silenced: 1 finding (1 by annotation)" in text


def test_ignore_annotation_on_an_application(tmp_path, capsys):
    consumer = _app("consumer", 1, "    gitops-analysis.io/ignore: crd-late\n")
    repo = _repository(tmp_path, {"apps/consumer.yaml": consumer})
    doc = json.loads(_run(capsys, repo, "--base", "HEAD~1", "--head", "HEAD", "--format",
                          "json")[1])
    assert _keys(doc["new"]) == {k for k in NEW if k[0] == "GA101"}
    assert doc["head"]["silenced"]["by_reason"] == {"annotation": 1}


def test_kustomize_apps_render_once_per_change_and_share_the_cache(tmp_path, monkeypatch):
    pytest.importorskip("pykustomize")
    monkeypatch.setenv("GITOPS_ANALYSIS_CACHE", str(tmp_path / "cache"))
    kustomized = {**BASE, **{f"{name}/kustomization.yaml": "resources:\n" + "".join(
        f"- {f}\n" for f in files) for name, files in (
            ("platform", ["namespace.yaml"]), ("crds", ["widgets.yaml"]),
            ("consumer", ["widget.yaml"]), ("app-a", ["foo.yaml"]), ("app-b", ["bar.yaml"]))}}
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "test@example.com")
    _git(repo, "config", "user.name", "test")
    _write(repo, kustomized)
    _commit(repo, "base")
    _write(repo, {**CHANGE, "app-b/kustomization.yaml": "resources:\n- bar.yaml\n- foo.yaml\n"})
    _commit(repo, "head")
    first = run_diff(repo, "HEAD~1", "HEAD")
    assert {(f.rule, f.app, f.kind, f.name, f.message)
            for f in first.findings.new.itertuples()} == NEW
    assert (first.head.apps_rendered, first.base.apps_rendered, first.base.apps_reused) == \
        (5, 2, 3)
    # the kustomize builds went to the render cache: a second run builds nothing again
    from gitops_analysis.load import cache

    entries = sorted(p.name for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert entries
    second = run_diff(repo, "HEAD~1", "HEAD")
    assert sorted(p.name for p in (tmp_path / "cache").rglob("*") if p.is_file()) == entries
    assert len(second.findings.new) == 3
    assert cache  # imported: the cache the renders share


def _check(capsys, *args: str | Path) -> tuple[int, str, str]:
    code = main(["check", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_baseline_written_on_the_head_silences_them(repo, tmp_path, capsys):
    kept = tmp_path / "kept"
    assert _run(capsys, repo, "--base", "HEAD~1", "--head", "HEAD", "--datasets", kept)[0] == 1
    head, base = kept / "head", kept / "base"
    baseline = tmp_path / "baseline.json"
    code, _, err = _check(capsys, head, "--write-baseline", baseline)
    assert code == 0 and err == f"check: baseline {baseline}: 4 findings recorded\n"
    entries = json.loads(baseline.read_text())["findings"]
    assert {(e["rule"], e["app"], e["kind"], e["name"], e["message"]) for e in entries} >= NEW
    # the head against its own baseline: nothing to report, exit 0
    code, out, _ = _check(capsys, head, "--baseline", baseline, "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["findings"] == []
    assert doc["baseline"] == {"file": str(baseline), "known": 4, "new": 0, "no_longer_seen": []}
    # the same bytes every time
    baseline.rename(tmp_path / "first.json")
    _check(capsys, head, "--write-baseline", baseline)
    assert baseline.read_bytes() == (tmp_path / "first.json").read_bytes()
    # the base has none of the new ones: they are entries no longer seen
    code, out, _ = _check(capsys, base, "--baseline", baseline, "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["findings"] == []
    assert (doc["baseline"]["known"], doc["baseline"]["new"]) == (1, 0)
    assert {(e["rule"], e["app"], e["kind"], e["name"], e["message"])
            for e in doc["baseline"]["no_longer_seen"]} == NEW
    out = _check(capsys, base, "--baseline", baseline)[1]
    # the file's name goes on the next line when the line is too long for it, never cut
    assert "baseline: 1 known finding not reported, 0 new, 3 entries no longer seen " \
           f"({baseline})" in " ".join(out.split())
    assert f"  no longer seen: GA101 argocd/app-a: {SHARED_A}\n" in out
    # a baseline written on the base lets through exactly the change's findings
    _check(capsys, base, "--write-baseline", tmp_path / "base.json")
    code, out, _ = _check(capsys, head, "--baseline", tmp_path / "base.json", "--format", "json")
    assert code == 1 and _keys(json.loads(out)["findings"]) == NEW


def test_a_broken_baseline_is_an_input_error_at_its_line(repo, tmp_path, capsys):
    kept = tmp_path / "kept"
    _run(capsys, repo, "--base", "HEAD", "--head", "HEAD", "--datasets", kept)
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 1,\n "findings": [\n  {"rule": "GA101",\n')
    code, out, err = _check(capsys, kept / "head", "--baseline", bad)
    assert code == 2 and out == ""
    assert err.startswith(f"gitops-analysis check: {bad}:4: not JSON (")
    assert err.rstrip().endswith("write it again with 'gitops-analysis check DATASET "
                                 "--write-baseline FILE'")


def test_nothing_analysed_at_the_head_says_what_to_do_by_reason(tmp_path, capsys):
    # every app names another repository, which is not here: external, not a finding
    repo = tmp_path / "other"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "test@example.com")
    _git(repo, "config", "user.name", "test")
    _write(repo, {"apps/web.yaml": _app("web", 0).replace(URL, "https://git.example/else.git")})
    base = _commit(repo, "base")
    _write(repo, {"apps/api.yaml": _app("api", 0).replace(URL, "https://git.example/else.git")})
    head = _commit(repo, "head")
    code, _, err = _run(capsys, repo, "--base", base, "--head", head)
    assert code == 2
    err = " ".join(line.strip() for line in err.splitlines())
    assert "nothing was analysed at the head" in err
    assert "external 2: pass --repo-map URL=DIR for the repositories they name" in err
