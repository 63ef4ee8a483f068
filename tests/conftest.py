"""Shared fixtures: the demo data in the project, and the team's real Kubeflow data beside it.

The team's data lives in ``../shared`` (the folder ``shared`` beside the project root). A test that
needs it asks :func:`need_shared` (or the ``shared`` / ``kubeflow_root`` fixtures): where the
folder is absent the test is skipped (a user's machine), except under ``CI=true``, where it
fails, so that CI cannot go green by skipping the tests that matter.

Wall-clock limits go through :func:`wall_clock_limit`, which makes them generous (times
``GITOPS_ANALYSIS_TIME_FACTOR``, default 5) so a loaded CI machine does not fail them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
SHARED = ROOT.parent / "shared"
KUBEFLOW = SHARED / "data" / "kubeflow-26.03"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

TIME_FACTOR_ENV = "GITOPS_ANALYSIS_TIME_FACTOR"
DEFAULT_TIME_FACTOR = 5.0


def on_ci() -> bool:
    """``CI=true`` (GitHub Actions, GitLab CI and most others set it; ``1`` is accepted too)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


def need_shared(path: Path, what: str) -> Path:
    """``path`` (under ``../shared``) if it exists; otherwise skip the test, or fail it under CI."""
    if path.exists():
        return path
    message = f"{what} is not beside the project ({path} is absent)"
    if on_ci():
        pytest.fail(f"{message}; CI=true, so it must be there: check out the team's shared folder "
                    f"as {SHARED}", pytrace=False)
    pytest.skip(f"{message}: a user's machine; it runs in CI")


def wall_clock_limit(seconds: float, *, below: float | None = None) -> float:
    """A generous wall-clock limit: ``seconds`` times ``GITOPS_ANALYSIS_TIME_FACTOR`` (default 5;
    set it to 1 to check the real budget), never more than ``below`` when the check only means
    something under a bound (a timeout must still cut a 30 s sleep)."""
    raw = os.environ.get(TIME_FACTOR_ENV, "").strip()
    try:
        factor = float(raw) if raw else DEFAULT_TIME_FACTOR
    except ValueError:
        raise ValueError(f"{TIME_FACTOR_ENV}={raw!r} is not a number") from None
    if not factor > 0:
        raise ValueError(f"{TIME_FACTOR_ENV}={raw!r} must be above 0")
    limit = seconds * factor
    return min(limit, below) if below is not None else limit


@pytest.fixture(scope="session")
def shared() -> Path:
    """The team's shared folder ``../shared``."""
    return need_shared(SHARED, "the team's shared folder")


@pytest.fixture(scope="session")
def kubeflow_root(shared) -> Path:
    return need_shared(KUBEFLOW / "ground_truth.json", "the team's Kubeflow dataset").parent


@pytest.fixture(scope="session")
def ground_truth(kubeflow_root):
    import json

    return json.loads((kubeflow_root / "ground_truth.json").read_text())


@pytest.fixture(scope="session")
def kubeflow_broken(kubeflow_root):
    from gitops_analysis import load_dataset

    return load_dataset(kubeflow_root / "broken")


@pytest.fixture(scope="session")
def kubeflow_fixed(kubeflow_root):
    from gitops_analysis import load_dataset

    return load_dataset(kubeflow_root / "fixed")


@pytest.fixture(scope="session")
def kubeflow_broken_findings(kubeflow_broken):
    from gitops_analysis import run_rules

    return run_rules(kubeflow_broken)


@pytest.fixture(scope="session")
def kubeflow_fixed_findings(kubeflow_fixed):
    from gitops_analysis import run_rules

    return run_rules(kubeflow_fixed)


def write_dataset(root: Path, apps: dict[str, str], rendered: dict[str, str]) -> Path:
    """Write a small dataset: {name: Application YAML}, {relative path: YAML text}."""
    (root / "apps").mkdir(parents=True, exist_ok=True)
    (root / "rendered").mkdir(parents=True, exist_ok=True)
    for name, text in apps.items():
        (root / "apps" / f"{name}.yaml").write_text(text)
    for rel, text in rendered.items():
        path = root / "rendered" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
    return root


def application(name: str, wave: str = "0", namespace: str = "team", *, options=(),
                sources: list[str] | None = None) -> str:
    src = ("  sources:\n" + "".join(f"  - repoURL: https://git.example/r.git\n    path: {p}\n"
                                    f"    targetRevision: main\n" for p in sources)
           if sources else
           f"  source:\n    repoURL: https://git.example/r.git\n    path: {name}\n"
           "    targetRevision: main\n")
    opts = "".join(f"\n    - {o}" for o in options) or " []"
    return (f"apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n"
            f"  namespace: argocd\n  annotations:\n    argocd.argoproj.io/sync-wave: '{wave}'\n"
            f"spec:\n  project: default\n{src}  destination:\n"
            f"    server: https://kubernetes.default.svc\n    namespace: '{namespace}'\n"
            f"  syncPolicy:\n    automated: {{}}\n    syncOptions:{opts}\n")


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Tests never read or write the user's cache folder."""
    old = os.environ.get("GITOPS_ANALYSIS_CACHE")
    os.environ["GITOPS_ANALYSIS_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("GITOPS_ANALYSIS_CACHE", None)
    else:
        os.environ["GITOPS_ANALYSIS_CACHE"] = old
