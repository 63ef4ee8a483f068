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

from gitops_analysis.render.discovery import MAX_APP_FILE_BYTES, is_argo_kind, yaml_files_under
from gitops_analysis.render.reading import mapping, read_yaml


def repository_projects(repo: Path) -> list[dict[str, Any]]:
    """``{"name", "namespace", "file", "line"}`` of every AppProject document under ``repo``
    (a kustomize patch of one too: it names the project), sorted; files that cannot be read are
    left out (render reports what it needs from them)."""
    found = []
    root_real = os.path.realpath(repo)
    for path in yaml_files_under(repo, root_real):
        try:
            if path.stat().st_size > MAX_APP_FILE_BYTES or b"AppProject" not in path.read_bytes():
                continue
        except OSError:
            continue
        display = path.relative_to(repo).as_posix()
        docs, problem = read_yaml(path, display)
        if problem is not None:
            continue
        for doc in docs:
            if doc.error is None and is_argo_kind(doc.data, "AppProject"):
                meta = mapping(doc.data.get("metadata"))
                if isinstance(meta.get("name"), str) and meta["name"]:
                    ns = meta.get("namespace")
                    found.append({"name": meta["name"],
                                  "namespace": ns if isinstance(ns, str) else "",
                                  "file": display, "line": doc.line})
    return sorted(found, key=lambda p: (p["name"], p["file"], p["line"]))
