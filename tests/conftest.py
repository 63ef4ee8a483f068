"""Shared fixtures: the demo data in the project, and the team's real Kubeflow data beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
SHARED = ROOT.parent / "shared"
KUBEFLOW = SHARED / "data" / "kubeflow-26.03"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def kubeflow_root() -> Path:
    if not (KUBEFLOW / "ground_truth.json").exists():
        pytest.skip(f"the team's Kubeflow dataset is not beside the project ({KUBEFLOW} is "
                    "absent: a user's machine); it runs in CI")
    return KUBEFLOW


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
    import os

    old = os.environ.get("GITOPS_ANALYSIS_CACHE")
    os.environ["GITOPS_ANALYSIS_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("GITOPS_ANALYSIS_CACHE", None)
    else:
        os.environ["GITOPS_ANALYSIS_CACHE"] = old
