"""Resource keys as integers: one factorisation of the key columns, then integer work only.

Grouping a million resources by (cluster, group, kind, namespace, name) again and again hashes
five string columns each time; the rules and the overlap ask the same few questions of a key
(is it deployed by several apps? by how many?), which these answer from integer codes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def row_codes(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """An int64 per row, equal exactly when two rows agree on every one of ``columns``
    (0, 1, ... in the order of first appearance)."""
    if frame.empty:
        return np.zeros(0, dtype=np.int64)
    return frame.groupby(list(columns), sort=False, observed=True, dropna=False).ngroup() \
        .to_numpy(dtype=np.int64)


def apps_per_key(frame: pd.DataFrame, key: Sequence[str], by: str = "app",
                 keep: str = "first", codes: np.ndarray | None = None,
                 other: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For ``frame.drop_duplicates(key + [by], keep=keep)`` without building it: (the mask of
    the rows it keeps, the key code of every row of ``frame``, and the number of distinct
    ``by`` values of each key code). ``codes`` and ``other``: the codes of ``key`` and ``by``
    when the caller has them already (any integers equal exactly for equal values)."""
    if codes is None:
        codes = row_codes(frame, key)
    if not len(codes):
        return np.zeros(0, dtype=bool), codes, np.zeros(0, dtype=np.int64)
    if other is None:
        other = value_codes(frame[by])
    pair = codes * (int(other.max()) + 1) + other
    kept = ~pd.Series(pair).duplicated(keep=keep).to_numpy()
    counts = np.bincount(codes[kept], minlength=int(codes.max()) + 1)
    return kept, codes, counts


def distinct_rows(frame: pd.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """(the code of every row, as :func:`row_codes`; ``frame[columns]`` at the first row of each
    code, in code order): decide something once per distinct value, then ``result[codes]``."""
    codes = row_codes(frame, columns)
    first = np.unique(codes, return_index=True)[1]
    return codes, frame[list(columns)].iloc[first]


def value_codes(values: pd.Series) -> np.ndarray:
    """An int64 per value, equal exactly for equal values (0, 1, ... by first appearance)."""
    return pd.factorize(values.to_numpy(dtype=object))[0].astype(np.int64)
