"""The fast parser (rapidyaml) and the reference parser (PyYAML) give identical frames."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DEMO
from gitops_analysis import load_dataset
from gitops_analysis.load import yaml_reader as yamldocs

FRAMES = ("apps", "sources", "resources", "crds", "load_errors", "warnings")


def _both(path):
    old = yamldocs.FAST_PATH
    try:
        yamldocs.FAST_PATH = True
        fast = load_dataset(path)
        yamldocs.FAST_PATH = False
        ref = load_dataset(path)
    finally:
        yamldocs.FAST_PATH = old
    return fast, ref


def _assert_same(fast, ref):
    for frame in FRAMES:
        a, b = getattr(fast, frame), getattr(ref, frame)
        assert a.equals(b), frame
    assert fast.accounting == ref.accounting


@pytest.mark.parametrize("variant", ["broken", "fixed"])
def test_demo_fast_equals_reference(variant):
    _assert_same(*_both(DEMO / variant))


@pytest.mark.parametrize("variant", ["broken", "fixed"])
def test_kubeflow_fast_equals_reference(kubeflow_root, variant):
    fast, ref = _both(kubeflow_root / variant)
    _assert_same(fast, ref)
    from gitops_analysis import run_rules

    assert run_rules(fast).equals(run_rules(ref))


def test_the_fast_path_is_taken_for_plain_manifests():
    ok, data = yamldocs.fast_load("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
                                  "data:\n  a: '1'\n  b: \"yes\"\n  port: 8080\n")
    assert ok and data["data"] == {"a": "1", "b": "yes", "port": 8080}


@pytest.mark.parametrize("text", [
    "a: yes", "a: On", "a: ~", "a: 0755", "a: 0x1F", "a: 1_000", "a: 1e3", "a: 2001-12-14",
    "a: 1:20", "8080: x", "a: .inf", "a: &x 1\nb: *x", "a: !!str 1", "- !custom x",
    "c:\n  <<: {k: 1}", "a: 1\na: 2", "a: [yes, 'no']", "? [a, b]\n: c", "a: +1",
    "a: \"x\\u0041\"", "a: \"\x7f\"",
])
def test_doubtful_documents_go_to_pyyaml(text):
    assert yamldocs.fast_load(text) == (False, None)


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


@settings(max_examples=int(__import__("os").environ.get("GA_FAST_EXAMPLES", "300")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_SCALARS, _SCALARS, st.sampled_from(["plain", "single", "double"]),
                          st.sampled_from(["plain", "single", "double"]),
                          st.sampled_from(["map", "seq", "flow"])), min_size=1, max_size=8))
def test_fast_path_never_differs_from_pyyaml(entries):
    import yaml

    lines = []
    for i, (key, value, kstyle, vstyle, shape) in enumerate(entries):
        k, v = _render(key, kstyle), _render(value, vstyle)
        if shape == "map":
            lines.append(f"{k}: {v}")
        elif shape == "seq":
            lines.append(f"s{i}:\n  - {v}")
        else:
            lines.append(f"f{i}: [{v}, {k}]")
    text = "\n".join(lines) + "\n"
    ok, data = yamldocs.fast_load(text)
    if not ok:
        return
    try:
        ref = yaml.load(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        raise AssertionError(f"fast path accepted what PyYAML refuses:\n{text}") from None
    assert data == ref and _types(data) == _types(ref), text


def _types(value):
    if isinstance(value, dict):
        return {(type(k).__name__, k): _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return type(value).__name__
