"""The ready-made CI of the README and ``.pre-commit-hooks.yaml``: they parse, every
``gitops-analysis`` command in them is one the CLI accepts, and their scripts run for real
against a merge request of a git repository written here (the change of tests/test_diff.py),
the pull-request comment and the SARIF file included."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gitops_analysis.cli.main import build_parser
from gitops_analysis.load.config import load_config
from gitops_analysis.rules.policy import policy_from
from test_diff import BASE, CHANGE, NEW, URL, _commit, _git, _write

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent


def _block(first_line: str, lang: str = "yaml") -> str:
    """The README's code block of ``lang`` whose first line is ``first_line``."""
    for m in re.finditer(rf"```{lang}\n(.*?)```", README, re.S):
        if m.group(1).startswith(first_line):
            return m.group(1)
    raise AssertionError(f"no {lang} block starting with {first_line!r} in the README")


GITHUB = yaml.safe_load(_block("# .github/workflows/gitops-analysis.yaml"))
GITLAB = yaml.safe_load(_block("# .gitlab-ci.yml"))
PRE_COMMIT_CONFIG = yaml.safe_load(_block("# .pre-commit-config.yaml"))
HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))


def _commands(script: str) -> list[list[str]]:
    """Every ``gitops-analysis`` command of a shell script, as its arguments (up to the first
    redirection or ``||``), variables left as they are."""
    out = []
    for line in script.splitlines():
        for part in re.split(r"\|\||&&|;", line):
            words = shlex.split(re.sub(r"\$\{\{[^}]*\}\}", "X", part), posix=True)
            if words and words[0] == "gitops-analysis":
                cut = next((i for i, w in enumerate(words) if w.startswith(">")), len(words))
                out.append(words[1:cut])
    return out


def _accepted(argv: list[str]) -> None:
    args = build_parser(argv[0]).parse_args(argv)  # exits 2 (SystemExit) when refused
    assert args.command == argv[0]


def test_github_workflow_shape():
    on = GITHUB.get("on", GITHUB.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in on
    assert GITHUB["permissions"] == {"contents": "read", "pull-requests": "write",
                                     "security-events": "write"}
    (job,) = GITHUB["jobs"].values()
    steps = job["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    upload = next(s for s in steps
                  if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    runs = "\n".join(s.get("run", "") for s in steps)
    assert f"--format sarif --fail-on never > {upload['with']['sarif_file']}" in runs
    commands = _commands(runs)
    assert [c[0] for c in commands] == ["diff", "check"]
    for argv in commands:
        _accepted(argv)
    diff = commands[0]
    assert diff[diff.index("--base") + 1] == "origin/X"
    assert diff[diff.index("--format") + 1] == "markdown"


def test_gitlab_job_shape():
    (name, job), = GITLAB.items()
    assert job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert job["variables"]["GIT_DEPTH"] == "0"
    assert set(job["artifacts"]["paths"]) == {"diff.md", "gitops-analysis.sarif"}
    commands = _commands("\n".join(job["script"]))
    assert [c[0] for c in commands] == ["diff", "check"]
    for argv in commands:
        _accepted(argv)


def test_pre_commit_hooks():
    (hook,) = HOOKS
    assert hook["id"] == "gitops-analysis-diff" and hook["language"] == "python"
    assert hook["pass_filenames"] is False
    argv = shlex.split(hook["entry"])
    assert argv[0] == "gitops-analysis"
    _accepted(argv[1:])
    (local,) = PRE_COMMIT_CONFIG["repos"][0]["hooks"]
    assert local["entry"] == hook["entry"] and local["id"] == hook["id"]
    assert re.compile(hook["files"]).search("apps/kustomization.yaml")


def test_readme_configuration_is_valid(tmp_path):
    path = tmp_path / ".gitops-analysis.toml"
    path.write_text(_block("select = ", "toml"))
    cfg = load_config(path)
    policy = policy_from(cfg)  # every rule name it uses exists
    assert policy.select == {"GA101", "GA302"} and policy.ignore == {"GA401"}


@pytest.fixture
def merge_request(tmp_path) -> Path:
    """A clone at the head of a merge request whose target branch (main) is on ``origin``."""
    origin = tmp_path / "origin.git"
    work = tmp_path / "author"
    work.mkdir()
    _git(work, "init", "-q", "-b", "main")
    _git(work, "config", "user.email", "test@example.com")
    _git(work, "config", "user.name", "test")
    _write(work, BASE)
    _commit(work, "base")
    _git(tmp_path, "clone", "-q", "--bare", str(work), str(origin))
    _git(work, "checkout", "-q", "-b", "change")
    _write(work, CHANGE)
    _commit(work, "head")
    _git(work, "push", "-q", str(origin), "change")
    clone = tmp_path / "ci"
    _git(tmp_path, "clone", "-q", "--branch", "change", str(origin), str(clone))
    # origin is the URL the Applications name (as on a CI runner), fetched from the bare copy
    _git(clone, "remote", "set-url", "origin", URL)
    _git(clone, "config", f"url.{origin}.insteadOf", URL)
    return clone


def _shell(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``script`` as CI runs it: bash, stop at the first failing line (GitLab's runner and
    GitHub's ``bash -e``), ``gitops-analysis`` from this environment."""
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=cwd, text=True,
                          capture_output=True, env={**os.environ, **env,
                                                    "PATH": f"{BIN}:{os.environ['PATH']}"})


def _check_outputs(clone: Path) -> None:
    comment = (clone / "diff.md").read_text()
    assert comment.startswith("### ❌ gitops-analysis: 3 new findings (1 error, 2 warnings)")
    sarif = json.loads((clone / "gitops-analysis.sarif").read_text())
    results = sarif["runs"][0]["results"]
    assert {r["message"]["text"] for r in results} >= {msg for *_, msg in NEW}


def test_gitlab_script_runs_on_a_merge_request(merge_request, tmp_path):
    (_, job), = GITLAB.items()
    script = "\n".join(line for line in job["script"] if not line.startswith("pip install"))
    script = script.replace("/tmp/ga", str(tmp_path / "ga"))
    proc = _shell(script, merge_request, {"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
                                          "GITLAB_TOKEN": ""})
    assert proc.returncode == 1, proc.stderr  # the change adds an error
    _check_outputs(merge_request)


def test_github_steps_run_on_a_pull_request(merge_request, tmp_path):
    (job,) = GITHUB["jobs"].values()
    steps = {s.get("name"): s for s in job["steps"]}
    _git(merge_request, "fetch", "-q", "origin", "main")
    output = tmp_path / "github-output"
    env = {"RUNNER_TEMP": str(tmp_path), "GITHUB_OUTPUT": str(output)}
    diff = steps["What this pull request breaks"]["run"].replace("${{ github.base_ref }}", "main")
    proc = _shell(diff, merge_request, env)
    assert proc.returncode == 0, proc.stderr  # the step itself passes; a later one fails
    assert output.read_text() == "status=1\n"
    assert _shell(steps["Findings of the head as SARIF"]["run"], merge_request,
                  env).returncode == 0
    _check_outputs(merge_request)
    assert steps["Fail on new errors"]["if"] == "steps.diff.outputs.status == '1'"
