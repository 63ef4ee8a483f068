"""Ownership: every shared key gets one owner, the app whose source path is the closest origin.

Per shared key, the app whose source path is the closest origin of the resource (its
``config.kubernetes.io/origin`` file lies under the app's source path, with the fewest
directories between) wins over an app that only aggregates it (the file lies outside its path).
Ties go to the narrower app (fewer resources); no origin data counts as a tie.
"""

from __future__ import annotations

import posixpath

import pandas as pd

from gitops_analysis.analysis.origins import resource_origins
from gitops_analysis.analysis.overlap import KEY, shared_keys


def _distance(origin_file: str, paths: tuple) -> float:
    """Directories between the app's source path and the origin file; inf when outside."""
    best = float("inf")
    for p in paths:
        p = posixpath.normpath(p) if p else "."
        if p == ".":
            rel = origin_file
        elif origin_file.startswith(p + "/"):
            rel = origin_file[len(p) + 1:]
        else:
            continue
        best = min(best, rel.count("/"))
    return best


def choose_owners(ds) -> pd.DataFrame:
    keys = shared_keys(ds)
    cols = KEY + ["owner", "losers", "reason"]
    if keys.empty:
        return pd.DataFrame(columns=cols)
    res = resource_origins(ds)
    origin_of = res.drop_duplicates(KEY + ["app"]).assign(kind=lambda f: f["kind"].astype(str)) \
        .set_index(KEY + ["app"])["origin_file"]
    apps = ds.apps.set_index("app")
    rows = []
    for key, group in keys.groupby(KEY, sort=True):
        cands = []
        for app in sorted(group["app"]):
            origin = origin_of.get((*key, app), "")
            dist = _distance(origin, apps.at[app, "source_paths"]) if origin else float("inf")
            cands.append((dist, int(apps.at[app, "resources"]), app, origin))
        cands.sort()
        dist, size, owner, origin = cands[0]
        losers = tuple(c[2] for c in cands[1:])
        if dist != float("inf") and all(c[0] == float("inf") for c in cands[1:]):
            reason = (f"its origin {origin} lies under {owner}'s source path; "
                      f"{', '.join(losers)} only aggregate{'s' if len(losers) == 1 else ''} it")
        elif dist != float("inf") and cands[1][0] > dist:
            reason = f"its origin {origin} is closest to {owner}'s source path"
        else:
            why = "no origin data" if all(not c[3] for c in cands) else "origins tie"
            reason = f"{why}: the narrower app keeps it ({owner}: {size} resources)"
        rows.append((*key, owner, losers, reason))
    return pd.DataFrame(rows, columns=cols)


# -- plan -----------------------------------------------------------------------------------
