"""analysis.keys: integer codes answer what drop_duplicates and groupby answer on the strings."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gitops_analysis.analysis.keys import apps_per_key, distinct_rows, row_codes, value_codes

KEY = ["kind", "name"]


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "kind": pd.array(["CM", "CM", "Svc", "CM", "CM", "Svc", "CM"], dtype="string"),
        "name": pd.array(["a", "b", "a", "a", "a", "a", "c"], dtype="string"),
        "app": pd.array(["x", "x", "y", "y", "x", "z", "y"], dtype="string"),
    })


def test_row_codes_are_equal_exactly_for_equal_keys():
    df = _frame()
    codes = row_codes(df, KEY)
    keys = list(zip(df["kind"], df["name"]))
    for i in range(len(df)):
        for j in range(len(df)):
            assert (codes[i] == codes[j]) == (keys[i] == keys[j])
    assert list(codes[:3]) == [0, 1, 2]  # numbered in the order of first appearance
    assert len(row_codes(df.iloc[:0], KEY)) == 0


def test_apps_per_key_matches_drop_duplicates_and_group_sizes():
    df = _frame()
    for keep in ("first", "last"):
        kept, codes, counts = apps_per_key(df, KEY, keep=keep)
        expect = df.drop_duplicates(KEY + ["app"], keep=keep)
        assert df[kept].equals(expect)
        sizes = expect.groupby(KEY)["app"].transform("size")
        assert list(counts[codes[kept]]) == list(sizes)
    kept, codes, counts = apps_per_key(df.iloc[:0], KEY)
    assert len(kept) == len(codes) == len(counts) == 0


def test_distinct_rows_gives_one_row_per_code():
    df = _frame()
    codes, rows = distinct_rows(df, KEY)
    assert list(rows.itertuples(index=False, name=None)) == \
        [("CM", "a"), ("CM", "b"), ("Svc", "a"), ("CM", "c")]
    decided = np.array([k == "CM" for k, _ in rows.itertuples(index=False)])
    assert list(decided[codes]) == list(df["kind"] == "CM")


def test_apps_per_key_takes_codes_the_caller_has():
    df = _frame()
    codes, apps = row_codes(df, KEY) * 7 + 3, value_codes(df["app"]) * 5  # any equal-for-equal
    assert list(value_codes(df["app"])) == [0, 0, 1, 1, 0, 2, 1]
    kept, got, counts = apps_per_key(df, KEY, "app", "last", codes, apps)
    assert df[kept].equals(df.drop_duplicates(KEY + ["app"], keep="last"))
    assert list(got) == list(codes)
    assert counts[codes[0]] == 2  # CM/a: apps x and y
