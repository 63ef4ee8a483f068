"""The HTML of the notebooks as a reader's browser sees it: parsed with html.parser.

:func:`check_page` is what every report's pages must pass (test_report runs it on the demo and
Kubeflow reports): nothing is loaded from the network (no ``src``/``href`` to an http(s) URL,
no ``import()`` or ``url()`` of one), every image is embedded, the cells of default parameters
are not shown beside the injected ones, tables have no pandas index.
"""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd

from gitops_analysis.views.html import (
    IMAGE_WIDTH_PX,
    Table,
    for_readers,
    notebook_html,
    png_size,
)

_REMOTE = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
_SCRIPT_URL = re.compile(r"""(import\s*\(|url\s*\(|@import)\s*['"]?\s*(https?:)?//""",
                         re.IGNORECASE)


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.remote: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self.code_text: list[str] = []  # what <script> and <style> hold
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._raw: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        for name in ("src", "href", "data", "action", "poster", "srcset"):
            value = a.get(name)
            if value and _REMOTE.match(value):
                self.remote.append(f"<{tag} {name}={value}>")
        if tag == "img":
            self.images.append(a)
        if tag in ("script", "style"):
            self._raw = tag

    def handle_endtag(self, tag):
        if tag == self._raw:
            self._raw = None

    def handle_data(self, data):
        if self._raw:
            self.code_text.append(data)


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    return page


def check_page(path: Path) -> Page:
    """Assert what every page of a report must hold; returns the parsed page."""
    page = parse(path.read_text(encoding="utf-8"))
    assert page.remote == [], (path.name, page.remote[:5])
    loads = [m.group(0) for text in page.code_text for m in _SCRIPT_URL.finditer(text)]
    assert loads == [], (path.name, loads[:5])
    for img in page.images:
        src = img.get("src") or ""
        assert src.startswith("data:image/"), (path.name, src[:60])
        if src.startswith("data:image/png;base64,"):
            width, _ = png_size(base64.b64decode(src.split(",", 1)[1]))
            shown = int(img["width"]) if img.get("width") else width
            assert shown == min(width, IMAGE_WIDTH_PX), (path.name, width, img.get("width"))
    return page


def _executed(cells: list) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})


def test_a_page_loads_nothing_from_the_network_and_shows_parameters_once():
    defaults = nbformat.v4.new_code_cell('dataset = "../../data/demo/broken"',
                                         metadata={"tags": ["parameters"]})
    injected = nbformat.v4.new_code_cell('# Parameters\ndataset = "data/demo/broken"',
                                         metadata={"tags": ["injected-parameters"]})
    png = base64.b64encode(bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
        "0000000d4944415478da63f8cfc0f01f0005000201a1e4a8f40000000049454e44ae426082")).decode()
    figure = nbformat.v4.new_code_cell("nb.plot_wave_graph(ctx)", outputs=[
        nbformat.v4.new_output("execute_result", data={"image/png": png,
                                                       "text/plain": "<wave graph>"},
                               execution_count=3)])
    mermaid = nbformat.v4.new_code_cell("show()", outputs=[nbformat.v4.new_output(
        "display_data", data={"text/markdown": "# T\n\n$x$ and code:\n\n```sh\nls\n```\n"})])
    book = _executed([nbformat.v4.new_markdown_cell("# Title"), defaults, injected, figure,
                      mermaid])
    text = notebook_html(book)
    page = parse(text)
    assert page.remote == [] and "cdnjs" not in text and "require.min.js" not in text
    assert not [t for t in page.code_text if "mermaid" in t or "MathJax" in t]
    assert text.count("data/demo/broken") == 1 and "../../data/demo/broken" not in text
    assert len(page.images) == 1 and page.images[0]["src"].startswith("data:image/png;base64,")
    # code in Markdown outputs is set in the code font
    assert re.search(r"\.highlight pre[^{]*\{[^}]*font-family: var\(--jp-code-font-family\)",
                     text)


def test_the_defaults_cell_stays_when_nothing_was_injected():
    defaults = nbformat.v4.new_code_cell('dataset = "x"', metadata={"tags": ["parameters"]})
    assert len(for_readers(_executed([defaults])).cells) == 1


def test_tables_have_no_index_align_text_left_and_cut_nothing():
    long = "Internal error occurred: failed calling webhook " + "x" * 120
    t = Table(pd.DataFrame({"app": ["a", "b"], "resources": [3, 12], "message": [long, ""]},
                           index=[7, 9]))
    page = parse(t._repr_html_())
    cells = [(tag, a.get("class")) for tag, a in page.tags if tag in ("th", "td")]
    # three header cells and two rows of three: no index column
    assert len(cells) == 9
    assert [c for _, c in cells[:3]] == ["text", "num", "text"]
    assert long in t._repr_html_() and "..." not in t._repr_html_()
    assert "7" not in repr(t).split() and repr(t).splitlines()[0].split() == \
        ["app", "resources", "message"]


def test_an_empty_table_is_a_sentence():
    t = Table(pd.DataFrame(columns=["type", "reason"]), "No load error and no warning.")
    assert t._repr_html_() == '<p class="ga-empty">No load error and no warning.</p>'
    assert repr(t) == "No load error and no warning." and len(t) == 0


def test_cell_values_are_escaped():
    t = Table(pd.DataFrame({"name": ["<script>alert(1)</script>"], "apps": [("a", "b")]}))
    out = t._repr_html_()
    assert "<script>" not in out and "&lt;script&gt;" in out and ">a, b<" in out
