"""``gitops-analysis report``: the main job. Runs the analysis once, then the four notebooks with
papermill on it, and writes ``DIR/NN-name.ipynb``, ``DIR/NN-name.html``, ``DIR/incident.md``
(and the figures, the fix), plus the findings as text, JSON and SARIF.

The notebooks run in ``DIR`` (their kernel's working folder) with ``output_dir = "."`` and
``analysis = "analysis.pickle"``: no path of the machine is written into them, and the file
holding the analysis is removed when they are done.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

from gitops_analysis.analysis.coverage import coverage
from gitops_analysis.core.errors import GitopsAnalysisError, UsageError
from gitops_analysis.views import formats
from gitops_analysis.views.notebook import ANALYSIS_FILE, prepare, save_analysis
from gitops_analysis.views.sarif import findings_sarif
from gitops_analysis.views.text import findings_text, fold, summary_line

NOTEBOOKS = ("01-inventory", "02-overlap-matrix", "03-wave-graph", "04-incident-writeup")
# papermill and nbclient record when each cell ran: not wanted in a report that must not change
_TIMING_KEYS = ("start_time", "end_time", "duration", "exception")


def notebooks_dir() -> Path:
    here = Path(__file__).resolve().parents[1] / "notebooks"
    if not all((here / f"{n}.ipynb").is_file() for n in NOTEBOOKS):
        raise UsageError("the notebooks are not found", file=str(here),
                         todo="run report from a checkout of gitops-analysis")
    return here


def write_report(dataset: str, out: str, *, app: str | None = None,
                 argocd_cm: str | None = None, cluster_api: str | None = None,
                 repo: str | None = None, projects: str | None = None,
                 argocd_namespace: str | None = None,
                 cluster_namespaces: str | None = None, date: str | None = None) -> int:
    # validate every parameter and do the analysis once before any notebook starts
    if date is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        raise UsageError(f"--date {date}: not a date", todo="pass it as YYYY-MM-DD")
    ctx = prepare(dataset, app=app or "", output_dir=out, cluster_api=cluster_api or "",
                  argocd_cm=argocd_cm or "", repo=repo or "", projects=projects or "",
                  argocd_namespace=argocd_namespace or "",
                  cluster_namespaces=cluster_namespaces or "")
    folder = ctx.output_dir
    assert folder is not None  # prepare() makes it when output_dir is given
    from gitops_analysis.rules import all_rules

    cov = coverage(ctx.ds)  # once, for every file that states it
    texts = {
        "inventory.txt": formats.inventory_text(ctx.ds, cov),
        "check.txt": findings_text(ctx.ds, ctx.findings, cov),
        "check.json": formats.findings_json(ctx.ds, ctx.findings, cov),
        "check.sarif": findings_sarif(ctx.ds, ctx.findings, all_rules(), cov),
    }
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    cache = save_analysis(ctx, folder / ANALYSIS_FILE, date=date)
    # paths as the user gave them (shown in the notebooks, used in commands), never resolved
    params = {"dataset": dataset, "app": app or "", "output_dir": ".",
              "cluster_api": cluster_api or "", "argocd_cm": argocd_cm or "",
              "repo": repo or "", "analysis": ANALYSIS_FILE}
    try:
        failures = run_notebooks(params, folder)
    finally:
        cache.unlink(missing_ok=True)
    sys.stderr.write(f"report: {folder}/ has {len(NOTEBOOKS)} notebooks, their HTML, "
                     f"incident.md and {', '.join(texts)}\n")
    sys.stdout.write("".join(part + "\n" for part in fold(summary_line(ctx.findings))))
    if failures:
        for f in failures:
            sys.stderr.write(f"report: {f}\n")
        return 1
    return 0


def kernel_manager_class(kernel_log: Path | None = None):
    """The kernel manager of the notebooks: local IPC sockets instead of TCP (ipykernel warns
    that TCP is unencrypted), and no SIGINT on shutdown. jupyter_client interrupts a kernel
    before asking it to shut down; an idle kernel then logs ``KeyboardInterrupt caught in
    kernel`` while the notebook ran fine. The cells are done when nbclient shuts it down.

    With ``kernel_log``, what the kernel process itself writes to its stdout and stderr (not
    the cells' output, which ipykernel sends to the notebook) goes to that file instead of the
    terminal. libzmq may abort a kernel while it tears its sockets down after the last cell
    (``Assertion failed: pfd.revents & POLLIN (src/signaler.cpp:...)``, a race in libzmq's
    context termination): the notebook is complete by then, and the line only scrambled the
    progress output. The log is shown when a notebook fails."""
    import uuid

    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.paths import jupyter_runtime_dir
    from traitlets import CaselessStrEnum, default

    class QuietKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        @default("ip")
        def _ipc_in_runtime_dir(self) -> str:
            # the sockets in Jupyter's private runtime folder, not in the working folder
            folder = jupyter_runtime_dir()
            os.makedirs(folder, mode=0o700, exist_ok=True)
            return os.path.join(folder, f"gitops-analysis-{uuid.uuid4().hex[:12]}-ipc")

        async def _async_interrupt_kernel(self) -> None:
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
            if kernel_log is None:
                await super()._async_launch_kernel(kernel_cmd, **kw)
                return
            # the child keeps its own copy of the descriptor
            with open(kernel_log, "ab") as log:
                kw["stdout"] = kw["stderr"] = log
                await super()._async_launch_kernel(kernel_cmd, **kw)

    return QuietKernelManager


def run_notebooks(params: dict, folder: Path) -> list[str]:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from gitops_analysis.views.html import write_html

    source = notebooks_dir()
    failures = []
    for i, name in enumerate(NOTEBOOKS, start=1):
        target = folder / f"{name}.ipynb"
        log = _kernel_log_file()
        manager = kernel_manager_class(log)
        sys.stderr.write(f"[{i}/{len(NOTEBOOKS)}] {name} ... ")
        sys.stderr.flush()
        started = time.perf_counter()
        try:
            papermill.execute_notebook(str(source / f"{name}.ipynb"), str(target),
                                       parameters=params, kernel_name="python3",
                                       cwd=str(folder), progress_bar=False, log_output=False,
                                       report_mode=False, kernel_manager_class=manager)
        except PapermillExecutionError as exc:
            sys.stderr.write("failed\n")
            failures.append(f"{target}: cell {exc.exec_count} failed: {exc.ename}: "
                            f"{exc.evalue}: open the notebook to see the traceback"
                            + _kernel_said(log))
        except GitopsAnalysisError as exc:
            sys.stderr.write("failed\n")
            failures.append(f"{target}: {exc}" + _kernel_said(log))
        except Exception as exc:  # the kernel died or did not start: say what it printed
            sys.stderr.write("failed\n")
            failures.append(f"{target}: the notebook's kernel failed: {type(exc).__name__}: "
                            f"{exc}" + _kernel_said(log))
        else:
            sys.stderr.write(f"ok ({time.perf_counter() - started:.1f} s)\n")
        finally:
            log.unlink(missing_ok=True)
        if target.exists():
            _strip_timing(target)
            write_html(target)
    return failures


def _kernel_log_file() -> Path:
    handle, name = tempfile.mkstemp(prefix="gitops-analysis-kernel-", suffix=".log")
    os.close(handle)
    return Path(name)


def _kernel_said(log: Path, lines: int = 20) -> str:
    """The last lines the kernel process printed, for a failure message."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""
    if not text:
        return ""
    tail = text.splitlines()[-lines:]
    return "\n  the kernel printed:\n" + "\n".join(f"    {line}" for line in tail)


def _strip_timing(path: Path) -> None:
    import nbformat

    book = nbformat.read(path, as_version=4)
    meta = book.metadata.get("papermill", {})
    for key in _TIMING_KEYS:
        meta.pop(key, None)
    # the injected parameters are already in the notebook; the input path is the checkout's
    meta.pop("input_path", None)
    meta.pop("output_path", None)
    for number, cell in enumerate(book.cells):
        cell.metadata.pop("execution", None)
        # papermill gives the cell it injects a random id; a stable one keeps reports equal
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell["id"] = f"injected-parameters-{number}"
        pm = cell.metadata.get("papermill", {})
        for key in _TIMING_KEYS:
            pm.pop(key, None)
    nbformat.write(book, path)
