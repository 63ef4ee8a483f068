"""Regenerate data/demo/<variant>/rendered/<app>.yaml from data/demo/repo.

Each app's source path(s) are built with a real kustomize (the Go library as
bundled by the PyPI package ``pykustomize``, kustomize API v0.21.3), with
kustomize's default options, exactly as ``kustomize build <path>`` would.

    python3 -m venv /tmp/kz
    /tmp/kz/bin/pip install --ignore-requires-python pykustomize==0.1.4
    /tmp/kz/bin/python data/demo/render.py          # rewrite every rendered file
    /tmp/kz/bin/python data/demo/render.py --check  # exit 1 if any file would change

A single-source app's file is the build output as it is.  A multi-source
app's file is each source's output in the order of spec.sources, each part
opening with a line ``# Source: <path>``, the parts separated by ``---``.

The table APPS below must agree with the ``path:`` lines of
data/demo/<variant>/apps/<app>.yaml; the script checks that it does.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import pykustomize

HERE = Path(__file__).resolve().parent
REPO = HERE / "repo"

# app -> source paths, in spec.source / spec.sources order
COMMON = {
    "profiles": ["applications/profiles"],
    "pipelines": ["applications/pipelines"],
    "jupyter": ["applications/jupyter"],
    "katib": ["applications/katib"],
    "kserve": ["applications/kserve"],
    "trainer": ["applications/trainer"],
    "tensorboard": ["applications/tensorboard/tensorboard-controller"],
    "web-apps": [
        "applications/centraldashboard",
        "applications/volumes-web-app",
        "applications/tensorboard/tensorboards-web-app",
    ],
    "spark": ["applications/spark"],
}
APPS = {
    "broken": {"common-services": ["example"], **COMMON},
    "fixed": {"common-services": ["argocd/common-services"], **COMMON},
}


def app_paths(app_file: Path) -> list[str]:
    """The ``path:`` values of an Application manifest, read line by line."""
    out = []
    for line in app_file.read_text().splitlines():
        s = line.strip()
        if s.startswith("path:"):
            out.append(s[len("path:"):].strip())
    return out


async def build(path: str) -> str:
    result = await pykustomize.build(REPO / path)
    return result.yaml


async def render(paths: list[str]) -> str:
    if len(paths) == 1:
        return await build(paths[0])
    parts = []
    for p in paths:
        parts.append(f"# Source: {p}\n" + await build(p))
    return "---\n".join(parts)


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only report files that would change")
    args = ap.parse_args()
    stale = 0
    for variant, apps in APPS.items():
        apps_dir = HERE / variant / "apps"
        out_dir = HERE / variant / "rendered"
        on_disk = sorted(p.stem for p in apps_dir.glob("*.yaml"))
        if on_disk != sorted(apps):
            sys.exit(f"{apps_dir}: apps {on_disk} do not match the table {sorted(apps)}")
        out_dir.mkdir(parents=True, exist_ok=True)
        for app, paths in apps.items():
            declared = app_paths(apps_dir / f"{app}.yaml")
            if declared != paths:
                sys.exit(f"{apps_dir / (app + '.yaml')}: paths {declared} do not match the table {paths}")
            text = await render(paths)
            target = out_dir / f"{app}.yaml"
            old = target.read_text() if target.exists() else None
            if old != text:
                stale += 1
                if args.check:
                    print(f"would change: {target.relative_to(HERE)}")
                else:
                    target.write_text(text)
                    print(f"wrote {target.relative_to(HERE)}")
    if args.check and stale:
        return 1
    print(f"{stale} file(s) {'stale' if args.check else 'written'}, kustomize via pykustomize {pykustomize.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
