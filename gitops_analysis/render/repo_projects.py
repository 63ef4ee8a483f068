"""AppProjects written in the repository's files, deployed by an app or not.

Many repositories keep their AppProjects beside the root Application, applied by hand with it
(``kubectl apply -f``), where no app deploys them. Argo CD has them then, but the dataset does
not: render records where each one is written (``render-status.json``, ``repository_projects``)
so that a missing project can name the file that defines it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gitops_analysis.render.discovery import MAX_APP_FILE_BYTES, app_projects, yaml_files_under
from gitops_analysis.render.reading import read_yaml


def repository_projects(repo: Path) -> list[dict[str, Any]]:
    """``{"name", "namespace", "file", "line"}`` of every AppProject document under ``repo``
    (a kustomize patch of one too: it names the project), sorted; files that cannot be read are
    left out (render reports what it needs from them). Render from the roots collects them in
    its own walk of the repository (``read_inputs(projects=...)``); this walk is for ``--apps``."""
    found = []
    for path in yaml_files_under(repo, os.path.realpath(repo)):
        try:
            if path.stat().st_size > MAX_APP_FILE_BYTES or b"AppProject" not in path.read_bytes():
                continue
        except OSError:
            continue
        display = path.relative_to(repo).as_posix()
        docs, problem = read_yaml(path, display)
        if problem is None:
            found += app_projects(docs, display)
    return sort_projects(found)


def sort_projects(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(found, key=lambda p: (p["name"], p["file"], p["line"]))
