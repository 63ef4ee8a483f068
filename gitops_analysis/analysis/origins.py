"""Where a resource comes from in the repository: kustomize's ``config.kubernetes.io/origin``
path (relative to the app's source path) or Helm's ``# Source:`` part, as a repository path."""

from __future__ import annotations

import posixpath
from dataclasses import replace

import pandas as pd


def repo_origin(origin: str, source: str, app_paths: tuple) -> str:
    """The origin file as a path in the repository ('' when there is no file-level origin)."""
    if not origin or origin == source:
        return ""
    base = source or (app_paths[0] if len(app_paths) == 1 else "")
    return posixpath.normpath(posixpath.join(base, origin)) if base else ""


def resource_origins(ds) -> pd.DataFrame:
    """Resources with ``origin_file``: their origin as a repository path ('' when unknown)."""
    res = ds.resources
    paths = ds.apps.set_index("app")["source_paths"]
    origin_file = [repo_origin(o, s, paths[a]) for o, s, a in
                   zip(res["origin"], res["source"], res["app"])]
    return res.assign(origin_file=origin_file)


def origin_index(ds, keys: set[tuple] | None = None) -> dict[tuple, str]:
    """(app, group, kind, namespace, name) -> the first known repository path of that resource;
    only for ``keys`` when given (the findings' resources: the rest need no origin)."""
    if keys is not None:
        res = ds.resources
        # the names first (vectorised), then the whole key of the few rows left
        res = res[res["name"].isin({k[4] for k in keys})]
        wanted = [k in keys for k in zip(res["app"], res["group"], res["kind"].astype(str),
                                         res["namespace"], res["name"])]
        ds = replace(ds, resources=res[pd.Series(wanted, index=res.index, dtype=bool)])
    res = resource_origins(ds)
    res = res[res["origin_file"] != ""]
    out: dict[tuple, str] = {}
    for key in zip(res["app"], res["group"], res["kind"].astype(str), res["namespace"],
                   res["name"], res["origin_file"]):
        out.setdefault(key[:5], key[5])
    return out
