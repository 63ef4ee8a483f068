"""What a reader sees of the notebooks: tables without the pandas index, figures as PNG at a
known display width, and HTML that loads nothing from the network.

- :class:`Table` shows a frame as a plain table (text left, numbers right, no index, nothing
  cut short) or, when empty, as a sentence.
- :class:`FigureOutput` shows a figure as PNG bytes made here (no pyplot, no backend): the
  notebook keeps one ``image/png`` output, the same bytes as the file written beside it.
- :func:`notebook_html` turns an executed notebook into one self-contained HTML file: no
  require.js, MathJax or mermaid from a CDN, the defaults cell hidden when papermill injected
  the parameters, code in a monospace font.
"""

from __future__ import annotations

import html
import io
import struct
from pathlib import Path

import pandas as pd

DPI = 110
# The widest an image is shown: the HTML's main column is made wide enough for it (below), and
# an image wider than this gets this width, so its labels shrink by IMAGE_WIDTH_PX / its width.
IMAGE_WIDTH_PX = 1200


class Table:
    """A frame as a reader should see it; ``.frame`` is the data."""

    def __init__(self, frame: pd.DataFrame, empty: str = "Nothing to show."):
        self.frame = frame.reset_index(drop=True)
        self.empty = empty

    def __len__(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        return self.empty if self.frame.empty else self.frame.to_string(index=False)

    def _repr_html_(self) -> str:
        if self.frame.empty:
            return f'<p class="ga-empty">{html.escape(self.empty)}</p>'
        numeric = [pd.api.types.is_numeric_dtype(self.frame[c]) and
                   not pd.api.types.is_bool_dtype(self.frame[c]) for c in self.frame.columns]

        def cell(tag: str, value: object, num: bool) -> str:
            align = "right" if num else "left"
            return (f'<{tag} class="{"num" if num else "text"}" style="text-align: {align}">'
                    f"{html.escape(_text(value))}</{tag}>")
        head = "".join(cell("th", c, n) for c, n in zip(self.frame.columns, numeric))
        rows = "".join("<tr>" + "".join(cell("td", v, n) for v, n in zip(row, numeric)) +
                       "</tr>" for row in self.frame.itertuples(index=False))
        return (f'<div class="ga-scroll" style="overflow-x: auto"><table class="ga-table">'
                f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>")


def _text(value: object) -> str:
    if isinstance(value, (tuple, list, set, frozenset)):
        return ", ".join(str(v) for v in value)
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height in pixels of PNG bytes (from the IHDR chunk)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


class FigureOutput:
    """A matplotlib figure shown as one PNG output; ``.ax`` and ``.layout`` stay at hand."""

    def __init__(self, figure, ax, name: str, layout=None):
        self.figure, self.ax, self.name, self.layout = figure, ax, name, layout
        self._png: bytes | None = None

    def png(self) -> bytes:
        if self._png is None:
            buf = io.BytesIO()
            # no "Software" entry: the same figure gives the same bytes on every version
            self.figure.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
            self._png = buf.getvalue()
        return self._png

    def save(self, path: Path) -> None:
        path.write_bytes(self.png())

    def _repr_png_(self):
        data = self.png()
        width, _ = png_size(data)
        return (data, {"width": IMAGE_WIDTH_PX}) if width > IMAGE_WIDTH_PX else data

    def __repr__(self) -> str:
        width, height = png_size(self.png())
        return f"<{self.name}: {width} x {height} px>"


_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_css -%}
<style type="text/css">
main { max-width: @MAIN@px; margin: 0 auto; }
.jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th { text-align: left; vertical-align: top; }
.jp-RenderedHTMLCommon td.num, .jp-RenderedHTMLCommon th.num { text-align: right; }
.jp-RenderedHTMLCommon table.ga-table td { max-width: 48em; overflow-wrap: break-word; }
.jp-RenderedHTMLCommon pre, .jp-RenderedHTMLCommon code, .jp-RenderedHTMLCommon pre code,
.jp-RenderedHTMLCommon .highlight pre, .jp-RenderedText pre {
  font-family: var(--jp-code-font-family); }
.jp-RenderedMarkdown pre { background: #f6f6f6; border: 1px solid #e2e2e2; border-radius: 3px;
  padding: 6px 8px; margin: 0.3em 0 0.8em; overflow-x: auto; }
.jp-RenderedImage img { max-width: 100%; height: auto; }
p.ga-empty { font-style: italic; }
</style>
{%- endblock html_head_css -%}
"""
# the prompt column and the paddings of the lab template take about 110 px of the main column
MAIN_WIDTH_PX = IMAGE_WIDTH_PX + 120


def for_readers(book):
    """A copy of an executed notebook as the HTML shows it: when papermill injected the
    parameters, the cell of defaults above them is left out (the values used are shown once)."""
    import copy

    book = copy.deepcopy(book)
    tags = [set(c.get("metadata", {}).get("tags", [])) for c in book.cells]
    if any("injected-parameters" in t for t in tags):
        book.cells = [c for c, t in zip(book.cells, tags) if "parameters" not in t]
    return book


def notebook_html(book) -> str:
    """One self-contained HTML page for an executed notebook (nbformat node)."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab",
                            extra_loaders=[DictLoader({"ga.html.j2": _TEMPLATE.replace(
                                "@MAIN@", str(MAIN_WIDTH_PX))})],
                            template_file="ga.html.j2")
    body, _ = exporter.from_notebook_node(for_readers(book))
    return body


def write_html(ipynb: Path) -> Path:
    import nbformat

    out = ipynb.with_suffix(".html")
    out.write_text(notebook_html(nbformat.read(ipynb, as_version=4)), encoding="utf-8")
    return out
