"""Which apps deploy the same resources: sparse pairs, a dense matrix for plotting, drill-downs.

Computed from the resources frame (hooks left out, as Argo CD splits them off). The pairs are
found by a self-join over the shared keys only, so the cost grows with what is shared, not with
apps squared.
"""

from __future__ import annotations

import pandas as pd

from gitops_analysis.analysis.keys import apps_per_key

KEY = ["cluster", "group", "kind", "namespace", "name"]


def shared_keys(ds) -> pd.DataFrame:
    """One row per (shared key, app): keys that two or more apps deploy.

    Columns: the key, app, wave, content_hash, apps (sorted tuple of every app with the key),
    identical (all renders equal), is_crd.
    """
    res = ds.resources
    res = res.loc[~res["is_hook"], KEY + ["app", "content_hash"]]
    res = res.assign(kind=res["kind"].astype(str))
    # res.drop_duplicates(KEY + ["app"]), the keys of several apps only
    kept, codes, counts = apps_per_key(res, KEY)
    shared = res[kept & (counts[codes] > 1)]
    if shared.empty:
        cols = KEY + ["app", "wave", "content_hash", "apps", "identical", "is_crd"]
        return pd.DataFrame(columns=cols)
    g = shared.groupby(KEY, sort=False)
    shared = shared.assign(
        apps=g["app"].transform(lambda s: [tuple(sorted(s))] * len(s)).map(tuple)
        if False else g["app"].transform(lambda s: "\0".join(sorted(s))).str.split("\0")
        .map(tuple),
        identical=g["content_hash"].transform("nunique") == 1,
        is_crd=(shared["kind"] == "CustomResourceDefinition") &
               (shared["group"] == "apiextensions.k8s.io"),
        wave=shared["app"].map(ds.apps.set_index("app")["wave"]).astype("int64"),
    )
    return shared.sort_values(KEY + ["app"], kind="stable").reset_index(drop=True)


def overlap_pairs(ds, keys: pd.DataFrame | None = None) -> pd.DataFrame:
    """Sparse pairs (app_a < app_b) with shared keys: shared, crds, differing."""
    keys = shared_keys(ds) if keys is None else keys
    cols = ["app_a", "app_b", "shared", "crds", "differing"]
    if keys.empty:
        return pd.DataFrame(columns=cols)
    k = keys[KEY + ["app", "identical", "is_crd"]]
    pairs = k.merge(k[KEY + ["app"]], on=KEY, suffixes=("_a", "_b"))
    pairs = pairs[pairs["app_a"] < pairs["app_b"]]
    out = pairs.groupby(["app_a", "app_b"], sort=True).agg(
        shared=("name", "size"), crds=("is_crd", "sum"),
        differing=("identical", lambda s: int((~s).sum())))
    return out.reset_index()[cols].astype({"shared": "int64", "crds": "int64",
                                           "differing": "int64"})


def app_order(ds) -> list[str]:
    """Apps by wave, then name: the order of every matrix and axis."""
    return list(ds.apps.sort_values(["wave", "app"], kind="stable")["app"])


def overlap_matrix(ds, pairs: pd.DataFrame | None = None, *, only_shared: bool = False
                   ) -> pd.DataFrame:
    """Dense apps x apps matrix of shared-key counts (symmetric, 0 on the diagonal).

    ``only_shared`` keeps the apps that share something, which keeps 100-app fleets readable.
    """
    pairs = overlap_pairs(ds) if pairs is None else pairs
    order = app_order(ds)
    if only_shared:
        involved = set(pairs["app_a"]) | set(pairs["app_b"])
        order = [a for a in order if a in involved]
    m = pd.DataFrame(0, index=pd.Index(order, name="app"), columns=pd.Index(order, name="app"),
                     dtype="int64")
    for a, b, n in pairs[["app_a", "app_b", "shared"]].itertuples(index=False):
        if a in m.index and b in m.index:
            m.at[a, b] = m.at[b, a] = n
    return m


def shared_by_kind(keys: pd.DataFrame) -> pd.DataFrame:
    """Shared keys per kind: keys, how many differ, and the app sets involved."""
    if keys.empty:
        return pd.DataFrame(columns=["group", "kind", "keys", "differing", "apps"])
    per_key = keys.drop_duplicates(KEY)
    out = per_key.groupby(["group", "kind"], sort=True).agg(
        keys=("name", "size"), differing=("identical", lambda s: int((~s).sum())),
        apps=("apps", lambda s: ", ".join(sorted({a for t in s for a in t}))))
    return out.reset_index().sort_values(["keys", "group", "kind"],
                                         ascending=[False, True, True], kind="stable") \
        .reset_index(drop=True)


def differing_keys(keys: pd.DataFrame) -> pd.DataFrame:
    """The shared keys whose renders differ: those apps overwrite each other on every sync."""
    if keys.empty:
        return pd.DataFrame(columns=KEY + ["apps"])
    d = keys[~keys["identical"]].drop_duplicates(KEY)
    return d[KEY + ["apps"]].reset_index(drop=True)
