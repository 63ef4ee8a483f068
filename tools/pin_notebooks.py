"""Execute each notebook on its defaults and keep outputs only in cells tagged
``nbval-check-output`` (the stable summaries nbval compares); every other output is stripped.

Run by ``make notebooks`` after a change that alters a pinned summary.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from gitops_analysis.views.report import kernel_manager_class

HERE = Path(__file__).resolve().parents[1] / "gitops_analysis" / "notebooks"
PIN = "nbval-check-output"


def pin(path: Path) -> None:
    book = nbformat.read(path, as_version=4)
    # the report's kernel manager: IPC sockets, no interrupt on shutdown (no kernel warnings)
    NotebookClient(book, kernel_name="python3", timeout=600,
                   kernel_manager_class=kernel_manager_class(),
                   resources={"metadata": {"path": str(HERE)}}).execute()
    for number, cell in enumerate(book.cells, start=1):
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        if PIN in cell.metadata.get("tags", []):
            # nbval compares only cells that look run: give them a fixed count
            cell.execution_count = number
            for out in cell.outputs:
                if "execution_count" in out:
                    out["execution_count"] = number
        else:
            cell.outputs = []
            cell.execution_count = None
    nbformat.write(book, path)


if __name__ == "__main__":
    for nb in sorted(HERE.glob("*.ipynb")) if len(sys.argv) < 2 else map(Path, sys.argv[1:]):
        pin(nb)
        print(f"pinned {nb.name}")
