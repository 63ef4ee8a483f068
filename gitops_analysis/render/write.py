"""The dataset folder ``render`` writes: ``apps/``, ``rendered/`` and ``render-status.json``.

Nothing else in the folder is touched, and a folder that holds anything but a dataset's files
is refused before anything is rendered. The new files are written into a staging folder inside
it as the apps render, and replace the old ones together at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from gitops_analysis.core.errors import UsageError
from gitops_analysis.core.paths import inside
from gitops_analysis.load.yaml_reader import YAML_SUFFIXES
from gitops_analysis.render.discovery import AppInput
from gitops_analysis.render.results import AppRender, AppSetStatus, Unreachable

_PARTS = ("apps", "rendered", "render-status.json")
_TODO = "choose an empty folder or a dataset folder for --out"


def check_out(out: Path, repo_real: str) -> None:
    """Refuse a dataset folder that is inside the repository or holds other files."""
    if inside(os.path.realpath(out), repo_real):
        raise UsageError("the dataset folder is inside the repository", file=str(out),
                         todo="write the dataset to a folder outside the repository")
    if out.exists() and not out.is_dir():
        raise UsageError("not a folder", file=str(out), todo="pass a folder to --out")
    for part in ("apps", "rendered"):
        p = out / part
        if not os.path.lexists(p):
            continue
        if p.is_symlink() or not p.is_dir():
            raise UsageError(f"{part} is not a folder", file=str(p), todo=_TODO)
        for d, _, files in os.walk(p):
            for f in files:
                if not f.endswith(YAML_SUFFIXES) or os.path.islink(os.path.join(d, f)):
                    raise UsageError("holds files that are not YAML: refused to replace it",
                                     file=os.path.join(d, f), todo=_TODO)
    if (out / "render-status.json").is_dir():
        raise UsageError("render-status.json is a folder", file=str(out), todo=_TODO)


class DatasetWriter:
    """Stage the files of a dataset as apps render; :meth:`commit` puts them in place.

    Used as a context manager: the staging folder is removed on the way out, and the dataset
    folder too when it was created here and nothing was committed.
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self._created = not out.exists()
        try:
            out.mkdir(parents=True, exist_ok=True)
            self.staging = Path(tempfile.mkdtemp(dir=out, prefix=".render-"))
        except OSError as exc:
            raise UsageError(f"cannot be written ({exc.strerror})", file=str(out),
                             todo="choose a folder you can write to for --out") from None
        (self.staging / "apps").mkdir()
        (self.staging / "rendered").mkdir()
        self._results: dict[str, AppRender] = {}
        self._committed = False

    def add(self, app: AppInput, result: AppRender, text: str | None) -> Path | None:
        """Stage one app's files; the path of its rendered output (None when it has none)."""
        # file names are Argo CD's instance names: <name>, or <namespace>_<name> outside the
        # control-plane namespace, so two apps of one name in two namespaces both fit
        (self.staging / "apps" / f"{app.instance}.yaml").write_bytes(app.content)
        self._results[app.key] = result
        if text is None:
            return None
        path = self.staging / "rendered" / f"{app.instance}.yaml"
        path.write_bytes(text.encode("utf-8"))
        return path

    def drop(self, app: AppInput) -> None:
        """Unstage an app (one no root reaches)."""
        self._results.pop(app.key, None)
        for part in ("apps", "rendered"):
            (self.staging / part / f"{app.instance}.yaml").unlink(missing_ok=True)

    def commit(self, appsets: list[AppSetStatus] | None = None,
               unreachable: list[Unreachable] | None = None,
               argocd_namespace: str | None = None,
               repository_projects: list[dict] | None = None) -> None:
        """``render-status.json``, then the staged files replace the old ones;
        ``argocd_namespace``: the control-plane namespace render was given (left out when
        none was: the readers' default applies); ``repository_projects``: the AppProjects
        written in the repository's files (render.repo_projects)."""
        status = {name: self._results[name].status_entry() for name in sorted(self._results)}
        doc: dict = {"apps": status}
        if argocd_namespace:
            doc["argocd_namespace"] = argocd_namespace
        if appsets:
            doc["appsets"] = {s.name: s.status_entry() for s in sorted(appsets,
                                                                        key=lambda s: s.name)}
        if unreachable:
            doc["unreachable"] = [u.status_entry() for u in unreachable]
        if repository_projects:
            doc["repository_projects"] = repository_projects
        (self.staging / "render-status.json").write_text(
            json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
            encoding="utf-8")
        for part in _PARTS:
            old = self.out / part
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old)
            elif os.path.lexists(old):
                old.unlink()
            os.replace(self.staging / part, old)
        self._committed = True

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        if self._created and not self._committed:
            try:
                self.out.rmdir()
            except OSError:
                pass  # something else was written there meanwhile: left as it is
