"""Every rule against its fixture folder: fail*/ cases fire exactly as expect.json says, pass*/
cases do not fire."""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURES

from gitops_analysis import load_dataset, run_rules
from gitops_analysis.core.findings import chain_text
from gitops_analysis.rules import all_rules

RULES_DIR = FIXTURES / "rules"
CASES = sorted((slug.name, case.name) for slug in RULES_DIR.iterdir() if slug.is_dir()
               for case in slug.iterdir() if case.is_dir())


def test_every_rule_has_failing_and_passing_fixtures():
    slugs = {r.slug for r in all_rules()}
    have = {}
    for slug, case in CASES:
        have.setdefault(slug, set()).add(case.split("-")[0])
    assert set(have) == slugs
    assert all(v == {"fail", "pass"} for v in have.values()), have


def case_options(folder):
    """A case's argocd-cm.yaml (--argocd-cm) and projects.yaml (--projects), when present."""
    from gitops_analysis.load.argocdcm import read_settings
    from gitops_analysis.load.projects import read_projects_file

    options = {}
    if (folder / "argocd-cm.yaml").is_file():
        options["settings"] = read_settings(folder / "argocd-cm.yaml")
    if (folder / "projects.yaml").is_file():
        options["projects"] = read_projects_file(folder / "projects.yaml")
    return options


@pytest.mark.parametrize("slug,case", CASES, ids=[f"{s}/{c}" for s, c in CASES])
def test_fixture(slug, case):
    folder = RULES_DIR / slug / case
    ds = load_dataset(folder)
    assert ds.load_errors.empty and ds.accounting.documents == ds.accounting.resources
    findings = run_rules(ds, **case_options(folder))
    mine = findings[findings["slug"] == slug]
    if case.startswith("pass"):
        assert mine.empty, mine[["app", "message"]].to_string()
        return
    expect = json.loads((folder / "expect.json").read_text())
    assert len(mine) == expect["count"]
    assert sorted(mine["message"]) == sorted(expect["messages"])
    if "blocked_by" in expect:
        assert sorted(mine["chain"].map(chain_text)) == sorted(expect["blocked_by"])


def test_argocd_cm_fixture_silences_app_health():
    from gitops_analysis.load.argocdcm import health_check_configured

    cm = RULES_DIR / "app-health-missing" / "argocd-cm.yaml"
    assert health_check_configured(cm)
    ds = load_dataset(RULES_DIR / "app-health-missing" / "fail")
    fired = run_rules(ds)
    expect = json.loads((RULES_DIR / "app-health-missing" / "fail" / "expect.json").read_text())
    assert (fired["slug"] == "app-health-missing").sum() == expect["count"] > 0
    silenced = run_rules(ds, health_check_configured=True)
    assert not (silenced["slug"] == "app-health-missing").any()
    # only that rule goes quiet
    rest = fired[fired["slug"] != "app-health-missing"]
    assert sorted(zip(silenced["slug"], silenced["message"])) == \
        sorted(zip(rest["slug"], rest["message"]))
