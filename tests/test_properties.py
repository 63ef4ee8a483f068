"""Property-based tests of the loader: whatever the input, nothing is lost and nothing escapes.

Generated manifests, and random mutations of the demo's real rendered files (bytes inserted,
deleted, duplicated, lines swapped, files cut short), must all load: every non-empty document
becomes a resource row or a load-error row, no exception but the project's own escapes
``load_dataset``, and how the file is cut into chunks while it is read changes nothing.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DEMO, application, write_dataset
from gitops_analysis import load_dataset
from gitops_analysis.load import yaml_stream
from test_hostile import check_invariants

SETTINGS = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def _seed_texts() -> list[bytes]:
    """Real rendered files, cut into windows of at most 150 lines (a fast load each)."""
    folder = DEMO / "broken" / "rendered"
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    texts = []
    for path in files:
        lines = path.read_bytes().splitlines(keepends=True)
        texts += [b"".join(lines[i:i + 150]) for i in range(0, min(len(lines), 600), 150)]
    if not texts:  # the demo is not there: a generated stand-in
        texts = [("---\n".join(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  namespace: team\n"
            f"  annotations:\n    argocd.argoproj.io/sync-wave: '{i}'\ndata:\n  k: |\n"
            f"    line one\n    line two\n" for i in range(8))).encode()]
    return texts


SEEDS = _seed_texts()
APP_SEEDS = [p.read_bytes() for p in sorted((DEMO / "broken" / "apps").glob("*.yaml"))] or \
    [application(f"a{i}").encode() for i in range(3)]

TOKENS = [
    b"---\n", b"\n---\n", b"--- ", b"...\n", b"\n...\n", b"\t", b"  ", b"\n", b"\r", b"\r\n",
    b"\xff", b"\xc3", b"\xef\xbb\xbf", b"\x00", b"\x07", b"&a ", b"*a ", b"&b [*a, *a, *a] ",
    b"*b", b"<<: *a\n", b"[", b"]", b"{", b"}", b",", b": ", b"- ", b"? ", b"'", b'"', b"#",
    b"|\n", b">-\n", b"!!python/object/apply:os.system ['true'] ", b"!!binary ", b"!Ref ",
    b"!!set ", b"%YAML 1.1\n", b"# Source: part\n", b"kind: List\nitems:\n- ", b"items: []\n",
    b"apiVersion: v1\n", b"kind: ConfigMap\n", b"metadata:\n  name: ", b"name: 42\n",
    b"annotations: [x]\n", b"argocd.argoproj.io/sync-wave: '99999999999999999999'\n",
    b"argocd.argoproj.io/sync-wave: x\n", b"2001-13-45", b"0x" + b"f" * 300, b"~\n", b"\\",
]


@st.composite
def mutated(draw, seeds=SEEDS) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["insert", "insert", "random", "delete", "duplicate", "swap",
                                   "truncate"]))
        at = draw(st.integers(0, len(data)))
        if op == "insert":
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif op == "random":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 200))]
        elif op == "duplicate":
            data[at:at] = data[at:at + draw(st.integers(1, 400))]
        elif op == "swap":
            lines = bytes(data).splitlines(keepends=True)
            if len(lines) > 1:
                i = draw(st.integers(0, len(lines) - 1))
                j = draw(st.integers(0, len(lines) - 1))
                lines[i], lines[j] = lines[j], lines[i]
                data = bytearray(b"".join(lines))
        else:
            del data[at:]
    return bytes(data)


def load(rendered: dict, apps: dict | None = None, chunk: int | None = None):
    saved = yaml_stream.CHUNK_BYTES
    if chunk:
        yaml_stream.CHUNK_BYTES = chunk
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = write_dataset(Path(tmp), {"a": application("a")}, rendered)
            for name, text in (apps or {}).items():  # bytes too
                (root / "apps" / f"{name}.yaml").write_bytes(
                    text if isinstance(text, bytes) else text.encode())
            ds = load_dataset(root)
    finally:
        yaml_stream.CHUNK_BYTES = saved
    check_invariants(ds)
    return ds


def frames(ds):
    return (ds.resources.values.tolist(), ds.load_errors.values.tolist(),
            ds.warnings.values.tolist(), ds.accounting.as_dict())


@settings(max_examples=150, **SETTINGS)
@given(mutated())
def test_mutated_real_files_lose_nothing(text):
    load({"a.yaml": text})


@settings(max_examples=60, **SETTINGS)
@given(mutated(), st.integers(1, 300))
def test_mutated_files_read_the_same_in_any_chunks(text, chunk):
    assert frames(load({"a.yaml": text}, chunk=chunk)) == frames(load({"a.yaml": text}))


@settings(max_examples=60, **SETTINGS)
@given(mutated(APP_SEEDS), mutated())
def test_mutated_applications_lose_nothing(app_text, text):
    ds = load({"a.yaml": text, "b.yaml": text}, apps={"a": app_text, "b": application("b")})
    # (check_invariants: every document of apps/ is an app, a skipped document or an error)
    assert "b" in set(ds.apps["name"])  # the good Application beside the mutated one loads
    assert frames(ds) == frames(load({"a.yaml": text, "b.yaml": text},
                                     apps={"a": app_text, "b": application("b")}, chunk=7))


# --- generated manifests --------------------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True), st.text(max_size=30),
    st.sampled_from(["", "-", "---", "...", "*a", "&a", "!!python/object:os", "0", "-1", "1e3",
                     "99999999999999999999", "Skip", "PreSync", "v1", "List", "\t", "é",
                     "\u2028"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12)
names = st.one_of(st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True), values)


@st.composite
def manifests(draw):
    """A Kubernetes-like object where any field may be missing or of the wrong type."""
    annotations = draw(st.one_of(
        st.dictionaries(st.sampled_from(["argocd.argoproj.io/sync-wave", "helm.sh/hook-weight",
                                         "argocd.argoproj.io/hook", "helm.sh/hook",
                                         "argocd.argoproj.io/sync-options", "other"]),
                        st.one_of(scalars, st.sampled_from(["1", "-3", "x", "PreSync"])),
                        max_size=4),
        values))
    meta = {"name": draw(names), "namespace": draw(st.one_of(st.just("team"), values)),
            "annotations": annotations, "labels": draw(values)}
    meta = {k: v for k, v in meta.items() if draw(st.booleans()) or k == "name"}
    doc = {"apiVersion": draw(st.one_of(st.sampled_from(["v1", "apps/v1", "x.io/v1"]), values)),
           "kind": draw(st.one_of(st.sampled_from(["ConfigMap", "Deployment", "Widget"]),
                                  values)),
           "metadata": draw(st.one_of(st.just(meta), values)), "data": draw(values)}
    return {k: v for k, v in doc.items() if draw(st.integers(0, 9)) or k == "data"}


@st.composite
def documents(draw):
    """(YAML text of one document, how many documents it counts as)."""
    doc = draw(manifests())
    if draw(st.integers(0, 5)) == 0:  # a kind: List of several objects
        items = draw(st.lists(st.one_of(manifests(), values), max_size=4))
        doc = {"apiVersion": "v1", "kind": "List", "items": items}
        count = len(items)
    else:
        count = 1
    style = draw(st.sampled_from(["block", "flow", "json"]))
    if style == "json":
        import json

        text = json.dumps(doc, default=str, ensure_ascii=False)
    else:
        text = yaml.safe_dump(doc, default_flow_style=style == "flow", allow_unicode=True,
                              sort_keys=False)
    try:
        yaml.safe_load(text)
    except yaml.YAMLError:  # JSON that is not YAML (a DEL character, say): one load error
        count = 1
    return text, count


@settings(max_examples=120, **SETTINGS)
@given(st.lists(documents(), min_size=1, max_size=6),
       st.sampled_from(["---\n", "\n---\n", "--- \n", "...\n---\n"]))
def test_generated_manifests_are_all_counted(docs, separator):
    text = separator.join(t if t.endswith("\n") else t + "\n" for t, _ in docs)
    ds = load({"a.yaml": text})
    assert ds.accounting.documents == sum(n for _, n in docs)


@settings(max_examples=60, **SETTINGS)
@given(st.lists(values, min_size=1, max_size=5))
def test_any_yaml_value_as_a_document(docs):
    text = "".join(yaml.safe_dump_all([d], explicit_start=True, allow_unicode=True)
                   for d in docs)
    load({"a.yaml": text})
