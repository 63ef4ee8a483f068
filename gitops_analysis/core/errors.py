"""One root error class for everything the project raises on purpose.

Every error carries structured fields (file, line, what, todo) and prints as
``file:line: what is wrong: what to do``, the form every message of the CLI follows.
"""

from __future__ import annotations


class GitopsAnalysisError(Exception):
    """Root of every error the project raises on purpose."""

    exit_code = 2

    def __init__(self, what: str, *, file: str | None = None, line: int | None = None,
                 todo: str | None = None) -> None:
        self.what = what
        self.file = file
        self.line = line
        self.todo = todo
        super().__init__(self.format())

    def format(self) -> str:
        parts = []
        if self.file:
            parts.append(f"{self.file}:{self.line}" if self.line else self.file)
        parts.append(self.what)
        if self.todo:
            parts.append(self.todo)
        return ": ".join(parts)


class NotADatasetError(GitopsAnalysisError):
    """The path given is not a dataset in the layout the loader reads."""


class InputError(GitopsAnalysisError):
    """An input file (cluster API list, argocd-cm, ...) cannot be used."""


class UsageError(GitopsAnalysisError):
    """A command or function was called with arguments that cannot work."""
