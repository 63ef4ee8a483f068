"""The fast parser (rapidyaml) and the reference parser (PyYAML) give identical frames."""

from __future__ import annotations

import os
import re

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DEMO
from gitops_analysis import load_dataset
from gitops_analysis.load import rendered, yaml_fast, yaml_reader

FRAMES = ("apps", "sources", "resources", "crds", "load_errors", "warnings")


def _both(path, monkeypatch):
    """The dataset read with the fast path and without; the fast path must read most of it."""
    taken = []

    def counted(text):
        ok, data = yaml_fast.fast_load(text)
        taken.append(ok)
        return ok, data

    monkeypatch.setattr(yaml_reader, "fast_load", counted)
    monkeypatch.setattr(rendered, "PARALLEL_MIN_BYTES", 1 << 62)  # one process: counted here
    monkeypatch.setattr(yaml_reader, "FAST_PATH", True)
    fast = load_dataset(path)
    monkeypatch.setattr(yaml_reader, "FAST_PATH", False)
    calls = len(taken)
    ref = load_dataset(path)
    assert len(taken) == calls, "FAST_PATH = False still called the fast path"
    # the demo and Kubeflow are plain manifests: nearly every document takes the fast path
    assert calls >= fast.accounting.app_documents and sum(taken) >= 0.95 * calls, \
        f"fast path taken for {sum(taken)} of {calls} documents"
    return fast, ref


def _assert_same(fast, ref):
    for frame in FRAMES:
        a, b = getattr(fast, frame), getattr(ref, frame)
        assert a.equals(b), frame
    assert fast.accounting == ref.accounting


@pytest.mark.parametrize("variant", ["broken", "fixed"])
def test_demo_fast_equals_reference(variant, monkeypatch):
    _assert_same(*_both(DEMO / variant, monkeypatch))


@pytest.mark.parametrize("variant", ["broken", "fixed"])
def test_kubeflow_fast_equals_reference(kubeflow_root, variant, monkeypatch):
    fast, ref = _both(kubeflow_root / variant, monkeypatch)
    _assert_same(fast, ref)
    from gitops_analysis import run_rules

    assert run_rules(fast).equals(run_rules(ref))


def test_the_fast_path_is_taken_for_plain_manifests():
    ok, data = yaml_fast.fast_load("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
                                  "data:\n  a: '1'\n  b: \"yes\"\n  port: 8080\n")
    assert ok and data["data"] == {"a": "1", "b": "yes", "port": 8080}


@pytest.mark.parametrize("text", [
    "a: yes", "a: On", "a: ~", "a: 0755", "a: 0x1F", "a: 1_000", "a: 1e3", "a: 2001-12-14",
    "a: 1:20", "8080: x", "a: .inf", "a: &x 1\nb: *x", "a: !!str 1", "- !custom x",
    "c:\n  <<: {k: 1}", "a: 1\na: 2", "a: [yes, 'no']", "? [a, b]\n: c", "a: +1",
    "a: \"x\\u0041\"", "a: \"\x7f\"",
])
def test_doubtful_documents_go_to_pyyaml(text):
    assert yaml_fast.fast_load(text) == (False, None)


# scalars that YAML 1.1 reads in many ways, quoted and plain, as keys and values
_SCALARS = st.sampled_from([
    "yes", "No", "on", "OFF", "y", "n", "true", "False", "null", "NULL", "~", "", "0", "-1",
    "1.5", "-0.5", ".5", "1e3", "1.5e3", "1.5e+3", "0755", "0o17", "0x1F", "1_000", "1:20",
    "2001-12-14", "2001-12-14T21:59:43Z", ".inf", "-.nan", "+1", "08", "100m", "2Gi", "v1",
    "1.21.1", "*", "!x", "&a", "a: b", "- x", "#c", "'", '"', "x y", "a,b", "[1]", "{a: 1}",
])


def _render(value: str, style: str) -> str:
    if style == "plain":
        return value
    if style == "single":
        return "'" + value.replace("'", "''") + "'"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _document(entries, styles=None) -> str:
    lines = []
    for i, (key, value, kstyle, vstyle, shape) in enumerate(entries):
        if styles is not None:
            kstyle, vstyle = styles(kstyle), styles(vstyle)
        k, v = _render(key, kstyle), _render(value, vstyle)
        if shape == "map":
            lines.append(f"{k}: {v}")
        elif shape == "seq":
            lines.append(f"s{i}:\n  - {v}")
        else:
            lines.append(f"f{i}: [{v}, {k}]")
    return "\n".join(lines) + "\n"


def _read(text):
    """PyYAML's reading of a text and the types of what it read; None when it refuses it."""
    try:
        data = yaml.load(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    return data, _types(data)


@settings(max_examples=int(os.environ.get("GA_FAST_EXAMPLES", "300")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_SCALARS, _SCALARS, st.sampled_from(["plain", "single", "double"]),
                          st.sampled_from(["plain", "single", "double"]),
                          st.sampled_from(["map", "seq", "flow"])), min_size=1, max_size=8))
def test_fast_path_never_differs_from_pyyaml(entries):
    text = _document(entries)
    ok, data = yaml_fast.fast_load(text)
    ref = _read(text)
    if ok:
        assert ref is not None, f"fast path accepted what PyYAML refuses:\n{text}"
        assert (data, _types(data)) == ref, text
        return
    # a decline must have a reason: PyYAML refuses the text, a key is empty or repeated, a
    # plain scalar reads as something else than the same text quoted would, or one that PyYAML
    # reads as text but YAML 1.1 or 1.2 would not (y, 1e3): the fast path leaves those to PyYAML
    keys = [key for key, _, _, _, shape in entries if shape == "map"]
    quoted = _read(_document(entries, styles=lambda style: "single"))
    plain = [v for key, value, kstyle, vstyle, shape in entries
             for v, style in ((value, vstyle), (key, "quoted" if shape == "seq" else kstyle))
             if style == "plain"]
    # (and a key holding a '"': in the JSON it is '\\"', which the scan takes for an empty key)
    assert ref is None or "" in keys or len(set(keys)) < len(keys) or ref != quoted or \
        any(_ambiguous(v) for v in plain) or any('"' in k for k in keys), \
        f"the fast path declined a plain document:\n{text}"


# plain scalars that are not text in YAML 1.1 (y, n) or in YAML 1.2's core schema
_NOT_TEXT = re.compile(r"[yYnN]|null|Null|NULL|~|true|True|TRUE|false|False|FALSE|[-+]?[0-9]+|"
                       r"0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|"
                       r"[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")


def _ambiguous(value: str) -> bool:
    return _NOT_TEXT.fullmatch(value) is not None


def _types(value):
    if isinstance(value, dict):
        return {(type(k).__name__, k): _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return type(value).__name__
