"""Counts as a person writes them: ``1 app``, ``9 apps``, never ``9 app(s)``."""

from __future__ import annotations


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"
