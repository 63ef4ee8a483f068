"""Hostile and broken input: the loader loses nothing, executes nothing and stays bounded.

The corpus in ``tests/hostile/`` holds small files, each with its expected outcome in
``tests/hostile/expected.json`` (resource count, load-error count, a substring of a reason or a
warning). A ``.yaml`` file is put into a dataset as ``rendered/a.yaml`` beside one Application
``a``; a folder is a dataset of its own. Big inputs (deep nesting, alias bombs, a 50 MB scalar,
20 MB and 200 MB files) and symbolic links are made here at run time, never committed.
"""

from __future__ import annotations

import json
import os
import re
import time
import tracemalloc
from pathlib import Path

import pytest

from conftest import application, write_dataset
from conftest import wall_clock_limit
from gitops_analysis import GitopsAnalysisError
from gitops_analysis import InputError
from gitops_analysis import NotADatasetError
from gitops_analysis import load_dataset
from gitops_analysis.load import yaml_limits, yaml_reader, yaml_stream

CORPUS = Path(__file__).resolve().parent / "hostile"
EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
SLOW = os.environ.get("GA_SLOW") == "1"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {}\n  namespace: team\n"


def cm(name: str) -> str:
    return CM.format(name)


def one_app(tmp_path: Path, rendered: str | bytes | None = None) -> Path:
    """A dataset with one Application ``a``, and ``rendered/a.yaml`` when given."""
    return write_dataset(tmp_path, {"a": application("a")},
                         {} if rendered is None else {"a.yaml": rendered})


def check_invariants(ds) -> None:
    """What must hold for every input: nothing lost, every message in the agreed form."""
    acc = ds.accounting
    assert acc.documents == acc.resources + acc.load_errors
    assert acc.load_errors == int((ds.load_errors["part"] == "rendered").sum())
    # every document of apps/ is an Application, a skipped document or a load error
    assert acc.app_documents == acc.applications + acc.skipped_app_documents + \
        acc.app_load_errors
    assert acc.app_load_errors == int((ds.load_errors["part"] == "apps").sum())
    assert acc.applications == len(ds.apps)
    for frame in (ds.load_errors, ds.warnings):
        for reason, file, line in frame[["reason", "file", "line"]].itertuples(index=False):
            # file:line: what is wrong: what to do (file: what: to do, for a whole file)
            head = f"{file}:{line}: " if line > 0 else f"{file}: "
            assert reason.startswith(head), reason
            assert len(reason[len(head):].split(": ")) >= 2, reason
            assert "report it as a bug" not in reason, reason
            assert len(reason) < 600, reason
    # every non-empty document of every file is a resource or a load error (an empty List is
    # a warning): document indexes have no gaps
    seen: dict[str, set] = {}
    for frame in (ds.resources, ds.load_errors[ds.load_errors["part"] == "rendered"]):
        for file, index in frame[["file", "doc_index"]].itertuples(index=False):
            seen.setdefault(file, set()).add(index)
    empty_lists = ds.warnings[ds.warnings["reason"].str.contains("kind: List without items")]
    for file, index in empty_lists[["file", "doc_index"]].itertuples(index=False):
        seen.setdefault(file, set()).add(index)
    for file, indexes in seen.items():
        real = indexes - {-1}
        assert real == set(range(len(real))), (file, sorted(indexes))


def load_case(name: str, tmp_path: Path):
    src = CORPUS / name
    if src.is_dir():
        return load_dataset(src)
    return load_dataset(one_app(tmp_path, src.read_bytes()))


# --- the corpus -----------------------------------------------------------------------------

def test_the_corpus_is_complete():
    files = {p.name for p in CORPUS.iterdir() if p.name not in ("expected.json", ".gitattributes")}
    assert files == set(EXPECTED)
    assert len(EXPECTED) >= 30
    big = [p for p in CORPUS.rglob("*") if p.is_file() and p.stat().st_size > 64 << 10]
    assert not big, "generate big inputs at run time"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_case(name, tmp_path):
    expected = EXPECTED[name]
    ds = load_case(name, tmp_path)
    check_invariants(ds)
    acc = ds.accounting
    assert (acc.resources, acc.load_errors) == (expected["resources"], expected["load_errors"]), \
        list(ds.load_errors["reason"])
    reasons = list(ds.load_errors["reason"])
    if "reason" in expected:
        assert any(holds(r, expected["reason"]) for r in reasons), reasons
    if "warning" in expected:
        warnings = list(ds.warnings["reason"])
        assert any(holds(w, expected["warning"]) for w in warnings), warnings
    if "app_load_errors" in expected:
        assert acc.app_load_errors == expected["app_load_errors"]
        assert any(holds(r, expected["app_reason"]) for r in reasons), reasons


def holds(message: str, part: str) -> bool:
    """Whether ``part`` stands in ``message`` with its numbers whole ("a.yaml:1" is not in
    "a.yaml:12", "as 5" not in "as 50")."""
    pattern = ("(?<![0-9])" if part[:1].isdigit() else "") + re.escape(part) + \
        ("(?![0-9])" if part[-1:].isdigit() else "")
    return re.search(pattern, message) is not None


def test_holds_keeps_numbers_whole():
    assert holds("a.yaml:12: x", "a.yaml:12") and not holds("a.yaml:12: x", "a.yaml:1")
    assert not holds("treats it as 50", "treats it as 5") and holds("as 5; do", "as 5")


def test_errors_are_per_document_with_their_lines(tmp_path):
    ds = load_case("syntax-error-in-the-middle.yaml", tmp_path)
    assert list(ds.resources["name"]) == ["before", "after"]
    assert list(ds.resources["line"]) == [1, 13]
    assert list(ds.load_errors["doc_index"]) == [1]
    ds = load_case("not-utf8-in-the-middle.yaml", tmp_path / "b")
    assert list(ds.resources["doc_index"]) == [0, 2]
    assert list(ds.resources["line"]) == [1, 14]


def test_cr_and_crlf_files_read_like_lf(tmp_path):
    names = {}
    for case in ("cr-line-endings.yaml", "crlf-line-endings.yaml"):
        ds = load_case(case, tmp_path / case)
        names[case] = ds.resources[["name", "line", "content_hash"]].values.tolist()
    assert names["cr-line-endings.yaml"] == names["crlf-line-endings.yaml"]
    assert [n[:2] for n in names["cr-line-endings.yaml"]] == [["one", 1], ["two", 9]]


# --- nothing is executed --------------------------------------------------------------------

def test_python_tags_are_refused_never_run(tmp_path):
    marker = tmp_path / "pwned"
    docs = [
        f"!!python/object/apply:os.system ['touch {marker}']",
        f"!!python/object/apply:subprocess.call [['touch', '{marker}']]",
        f"!!python/object/new:subprocess.Popen [['touch', '{marker}']]",
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  k: !!python/object/apply:"
        f"builtins.exec [\"open('{marker}', 'w')\"]",
        "!!python/name:os.system",
        "!!python/module:os",
    ]
    ds = load_dataset(one_app(tmp_path / "ds", "\n---\n".join(docs)))
    check_invariants(ds)
    assert not marker.exists()
    assert ds.accounting.load_errors == len(docs)
    for reason in ds.load_errors["reason"]:
        assert re.search(r"YAML tag '[^']*python/[^']*' is not allowed", reason), reason


# --- bounded time and memory ----------------------------------------------------------------

def bounded(fn, seconds: float, megabytes: float):
    """Run fn; check it ends within ``seconds`` with a tracemalloc peak under ``megabytes``."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        result = fn()
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    assert elapsed < wall_clock_limit(seconds), f"{elapsed:.1f}s"
    assert peak < megabytes, f"peak {peak:.0f} MB"
    return result


DEEP = {
    "flow-sequences-10k": lambda: "[" * 10_000 + "]" * 10_000,
    # PyYAML's C composer recursed itself to a segfault on this before
    "flow-sequences-1M-unclosed": lambda: "[" * 1_000_000,
    "flow-mappings-100k": lambda: "{a: " * 100_000 + "1" + "}" * 100_000,
    "block-sequences-100k": lambda: "\n    " + "- " * 100_000 + "x",
    "explicit-keys-100k": lambda: "\n    " + "? " * 100_000 + "x",
    "block-mappings-2k": lambda: "\n" + "".join(" " * (i + 4) + f"k{i}:\n" for i in range(2_000)) +
    " " * 2_004 + "v",
    "mixed-flow-and-block": lambda: "\n" + "".join(" " * (i + 4) + f"k{i}:\n" for i in range(300)) +
    " " * 304 + "[" * 300 + "]" * 300,
}


@pytest.mark.parametrize("name", sorted(DEEP))
def test_deep_nesting_is_refused_per_document(name, tmp_path):
    text = cm("before") + "---\n" + cm("deep") + "data:\n  x: " + DEEP[name]() + "\n---\n" + \
        cm("after")
    root = one_app(tmp_path, text)
    ds = bounded(lambda: load_dataset(root), seconds=20, megabytes=200)
    check_invariants(ds)
    assert list(ds.resources["name"]) == ["before", "after"]
    (reason,) = ds.load_errors["reason"]
    assert re.search(r"rendered/a\.yaml:\d+: nested more than 500 levels deep: refused", reason)


def test_nesting_that_hides_from_the_estimate_is_refused_too(tmp_path):
    # each "[" followed by a quoted "]": the bracket estimate sees no nesting, the parser 3,000
    text = cm("sly") + "data:\n  x: " + '["]", ' * 3000 + "1" + "]" * 3000 + "\n---\n" + cm("after")
    ds = bounded(lambda: load_dataset(one_app(tmp_path, text)), seconds=20, megabytes=100)
    check_invariants(ds)
    assert list(ds.resources["name"]) == ["after"]
    (reason,) = ds.load_errors["reason"]
    assert "nested too deep to read: refused" in reason


def test_nesting_within_the_limit_loads(tmp_path):
    # 240 levels of flow and block mixed: below the limit, loads and hashes
    keys = "".join(" " * (i + 4) + f"k{i}:\n" for i in range(120))
    text = cm("deep") + "data:\n  x:\n" + keys + " " * 124 + "v: " + "[" * 100 + "]" * 100 + "\n"
    ds = load_dataset(one_app(tmp_path, text))
    check_invariants(ds)
    assert ds.accounting.resources == 1


def billion_laughs(levels: int) -> str:
    lines = ["  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "data:\n" + "\n".join(lines) + "\n"


ALIAS_BOMBS = {
    "billion-laughs-10": lambda: billion_laughs(10),
    "billion-laughs-30": lambda: billion_laughs(30),
    # few levels, big leaves: one 1 MB string referenced 2,000 times (2 GB expanded)
    "wide-bomb": lambda: "data:\n  big: &big '" + "x" * (1 << 20) + "'\n  copies: [" +
    ", ".join(["*big"] * 2000) + "]\n",
    "merge-key-bomb": lambda: "x0: &x0 {a: 1, b: 2}\n" + "".join(
        f"x{i}: &x{i} {{<<: [*x{i - 1}, *x{i - 1}]}}\n" for i in range(1, 60)),
}


@pytest.mark.parametrize("name", sorted(ALIAS_BOMBS))
def test_alias_bombs_are_refused_in_bounded_time_and_memory(name, tmp_path):
    text = cm("bomb") + ALIAS_BOMBS[name]() + "---\n" + cm("after")
    root = one_app(tmp_path, text)
    ds = bounded(lambda: load_dataset(root), seconds=20, megabytes=100)
    check_invariants(ds)
    assert list(ds.resources["name"]) == ["after"]
    (reason,) = ds.load_errors["reason"]
    assert reason.startswith("rendered/a.yaml:1: YAML aliases would expand this document")
    assert "alias bomb" in reason


def test_a_50mb_scalar_loads(tmp_path):
    size = 50 << 20
    path = tmp_path / "ds"
    root = one_app(path)
    with open(root / "rendered" / "a.yaml", "w") as f:
        f.write(cm("big") + "data:\n  blob: ")
        for _ in range(size >> 20):
            f.write("y" * (1 << 20))
        f.write("\n---\n" + cm("after"))
    # the document is held a few times (text, parser, value, JSON for the hash): not the file
    ds = bounded(lambda: load_dataset(root), seconds=30, megabytes=5 * size / 2**20)
    check_invariants(ds)
    assert list(ds.resources["name"]) == ["big", "after"]
    assert ds.resources.set_index("name").at["after", "line"] == 9


def test_a_document_over_the_size_limit_is_refused_without_holding_it(tmp_path, monkeypatch):
    monkeypatch.setattr(yaml_limits, "MAX_DOCUMENT_BYTES", 1 << 20)
    monkeypatch.setattr(yaml_stream, "CHUNK_BYTES", 64 << 10)
    line = "    " + "z" * 95 + "\n"
    text = cm("small") + "---\n# a comment\n" + cm("huge") + "data:\n  blob: |\n" + \
        line * 40_000 + "---\n" + cm("after")
    ds = bounded(lambda: load_dataset(one_app(tmp_path, text)), seconds=20, megabytes=8)
    check_invariants(ds)
    assert list(ds.resources["name"]) == ["small", "after"]
    (reason,) = ds.load_errors["reason"]
    assert reason.startswith("rendered/a.yaml:8: a document larger than 1 MiB: refused")
    assert ds.resources.set_index("name").at["after", "line"] == 40_016


def test_a_long_line_without_line_ends(tmp_path, monkeypatch):
    monkeypatch.setattr(yaml_stream, "CHUNK_BYTES", 4096)
    pairs = ", ".join(f"k{i}: v{i}" for i in range(100_000))
    text = ("--- {apiVersion: v1, kind: ConfigMap, metadata: {name: one-line}, data: {" + pairs +
            "}}\n---\n" + cm("after") + "--- " + "[" * 50_000)
    ds = load_dataset(one_app(tmp_path, text))
    check_invariants(ds)
    assert list(ds.resources["name"]) == ["one-line", "after"]
    assert list(ds.resources["line"]) == [1, 3]
    (reason,) = ds.load_errors["reason"]
    assert reason.startswith("rendered/a.yaml:8: nested more than 500 levels")


def write_many_documents(path: Path, size: int) -> int:
    body = ("    " + "x" * 95 + "\n") * 100  # ~10 KB a document
    count = written = 0
    with open(path, "w") as f:
        while written < size:
            doc = f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{count}\n" \
                  f"data:\n  big: |\n{body}"
            f.write(doc)
            written += len(doc)
            count += 1
    return count


def check_big_file(tmp_path: Path, size: int) -> None:
    root = one_app(tmp_path)
    count = write_many_documents(root / "rendered" / "a.yaml", size)
    # the whole file is never held, nor its documents' texts: the peak is the records kept
    ds = bounded(lambda: load_dataset(root), seconds=max(30, size / 2**20),
                 megabytes=size / 2**20 / 4)
    assert (ds.accounting.documents, ds.accounting.resources) == (count, count)
    assert ds.resources["line"].iloc[-1] == 1 + (count - 1) * 107 + 1


def test_a_20mb_file_is_read_in_bounded_memory(tmp_path):
    check_big_file(tmp_path, 20 << 20)


@pytest.mark.skipif(not SLOW, reason="slow (200 MB of input): set GA_SLOW=1 to run it")
def test_a_200mb_file_is_read_in_bounded_memory(tmp_path):
    check_big_file(tmp_path, 200 << 20)


# --- how the stream is cut ------------------------------------------------------------------

TRICKY = (b"\xef\xbb\xbf# Source: base\n" + cm("one").encode() + b"---\r\n" +
          cm("two").replace("\n", "\r\n").encode() + b"\xef\xbb\xbf---\n# Source: extra\n" +
          cm("three").replace("\n", "\r").encode() + b"\r--- {apiVersion: v1, kind: ConfigMap, "
          b"metadata: {name: four}}\n...\n# tail\n---\nkind: [bad\n---\t\n" + cm("five").encode() +
          b"---\n\tbad: tab\n--- \xff\n" + cm("six").encode() + b"--- |\n  a scalar\n")


def frames(ds):
    return (ds.resources.values.tolist(), ds.load_errors.values.tolist(),
            ds.warnings.values.tolist(), ds.accounting.as_dict())


def test_chunk_boundaries_change_nothing(tmp_path, monkeypatch):
    root = one_app(tmp_path, TRICKY)
    reference = frames(load_dataset(root))
    ds = load_dataset(root)
    check_invariants(ds)
    assert list(ds.resources["name"]) == ["one", "two", "three", "four", "five"]
    assert list(ds.resources["source"]) == ["base", "base", "extra", "extra", "extra"]
    assert len(ds.load_errors) == 4  # kind: [bad, a tab, bytes that are not UTF-8, a scalar
    for size in (1, 2, 3, 5, 7, 64):
        monkeypatch.setattr(yaml_stream, "CHUNK_BYTES", size)
        assert frames(load_dataset(root)) == reference, size


def test_the_raw_text_of_a_document_is_not_kept(tmp_path):
    # each document carries 1 MB of comments: its data is small, its text is not; the reader
    # must hold the data of all of them and the text of none
    filler = "".join(f"# {i:06d} " + "c" * 90 + "\n" for i in range(10_000))
    path = one_app(tmp_path, "---\n".join(cm(f"d{i}") + filler for i in range(20))) / \
        "rendered" / "a.yaml"
    tracemalloc.start()
    try:
        docs = list(yaml_reader.iter_documents(path, "rendered/a.yaml"))
        held = tracemalloc.get_traced_memory()[0] / 2**20
    finally:
        tracemalloc.stop()
    assert [d.data["metadata"]["name"] for d in docs] == [f"d{i}" for i in range(20)]
    assert held < 5, f"{held:.0f} MB held for 20 documents of 1 MB each"


# --- the file system ------------------------------------------------------------------------

def test_symbolic_links_and_special_files(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(cm("secret"))
    root = write_dataset(tmp_path / "ds", {"a": application("a"), "b": application("b")},
                         {"a.yaml": cm("x"), "b/one.yaml": cm("y")})
    r = root / "rendered"
    os.symlink(outside / "secret.yaml", r / "leaves.yaml")
    os.symlink(outside, r / "b" / "leaves-dir")
    os.symlink("loop2.yaml", r / "loop1.yaml")
    os.symlink("loop1.yaml", r / "loop2.yaml")
    os.symlink("missing.yaml", r / "dangling.yaml")
    os.symlink("..", r / "b" / "up")  # a folder loop that stays inside
    os.symlink("self", r / "b" / "self")
    os.symlink("../a.yaml", r / "b" / "inside.yaml")  # inside the dataset: followed
    os.mkfifo(r / "b" / "fifo.yaml")  # reading it would block forever
    os.symlink(outside / "secret.yaml", root / "apps" / "leaves.yaml")
    ds = bounded(lambda: load_dataset(root), seconds=10, megabytes=50)
    check_invariants(ds)
    assert sorted(ds.resources["name"]) == ["x", "x", "y"]
    assert "secret" not in set(ds.resources["name"])
    errors = dict(zip(ds.load_errors["file"], ds.load_errors["reason"]))
    assert errors["rendered/leaves.yaml"].endswith(
        "symbolic link that leaves the dataset: refused; copy the file into the dataset")
    assert "leaves the dataset" in errors["rendered/b/leaves-dir"]
    assert "leaves the dataset" in errors["apps/leaves.yaml"]
    assert "symbolic link loop" in errors["rendered/loop1.yaml"]
    assert "symbolic link loop" in errors["rendered/loop2.yaml"]
    assert "symbolic link loop" in errors["rendered/b/up"]
    assert "symbolic link loop" in errors["rendered/b/self"]
    assert "does not exist" in errors["rendered/dangling.yaml"]
    assert "not a regular file (a named pipe)" in errors["rendered/b/fifo.yaml"]
    assert ds.accounting.app_load_errors == 1


def test_odd_file_names_and_deep_folders(tmp_path):
    root = write_dataset(tmp_path, {"a": application("a"), "x:y": application("x:y")},
                         {"x:y.yaml": cm("colon") + "---\n[bad\n",
                          "odd: app/f.yaml": "\n\n" + cm("unknown")})
    (root / "rendered" / "a").mkdir()
    Path(os.fsdecode(bytes(root / "rendered" / "a") + b"/caf\xe9.yaml")).write_text(cm("latin"))
    (root / "rendered" / "caf\udce9.yaml").write_text(cm("x"))  # an app named caf\xe9
    # 1,200 nested folders: deeper than Python's recursion limit (Path.mkdir(parents=True) and
    # shutil.rmtree, pytest's clean-up, recurse: make and remove them here, one level at a time)
    base = (root / "rendered" / "a").resolve()
    try:
        fd = os.open(base, os.O_RDONLY)
        for _ in range(1200):
            os.mkdir("d", dir_fd=fd)
            fd, parent = os.open("d", os.O_RDONLY, dir_fd=fd), fd
            os.close(parent)
        with open("bottom.yaml", "w", opener=lambda name, flags: os.open(name, flags, dir_fd=fd)) \
                as f:
            f.write(cm("bottom"))
        os.close(fd)
        ds = load_dataset(root)
    finally:
        for depth in range(1200, 0, -1):
            folder = base.joinpath(*["d"] * depth)
            if folder.is_dir():
                for child in folder.iterdir():
                    if not child.is_dir():
                        child.unlink()
                folder.rmdir()
    check_invariants(ds)
    assert sorted(ds.resources["name"]) == ["bottom", "colon", "latin"]
    assert "rendered/a/caf\ufffd.yaml" in set(ds.resources["file"])
    assert any("a file name that is not UTF-8" in w for w in ds.warnings["reason"])
    lines = dict(zip(ds.load_errors["file"], ds.load_errors["line"]))
    assert lines == {"rendered/x:y.yaml": 7, "rendered/odd: app/f.yaml": 3,
                     "rendered/caf\ufffd.yaml": 1}


def test_a_rendered_folder_that_leaves_the_dataset(tmp_path):
    elsewhere = write_dataset(tmp_path / "elsewhere", {}, {"a.yaml": cm("foreign")})
    root = one_app(tmp_path / "ds")
    (root / "rendered").rmdir()
    os.symlink(elsewhere / "rendered", root / "rendered")
    ds = load_dataset(root)
    check_invariants(ds)
    assert ds.accounting.resources == 0
    (reason,) = ds.load_errors["reason"]
    assert reason == ("rendered: symbolic link that leaves the dataset: refused; copy the file "
                      "into the dataset")


def test_only_the_projects_own_errors_are_raised(tmp_path):
    with pytest.raises(NotADatasetError):
        load_dataset(tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADatasetError):
        load_dataset(tmp_path / "file")
    for name, make in {
        "binary": lambda p: p.write_bytes(b"\xff\xfe\x00"),
        "deep": lambda p: p.write_text("[" * 100_000 + "]" * 100_000),
        "folder": lambda p: p.mkdir(),
        "fifo": lambda p: os.mkfifo(p),
        "list": lambda p: p.write_text("[1, 2]"),
    }.items():
        root = one_app(tmp_path / name, cm("x"))
        make(root / "render-status.json")
        with pytest.raises(InputError, match="render-status.json"):
            load_dataset(root)
    assert issubclass(InputError, GitopsAnalysisError)
