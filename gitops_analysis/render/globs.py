"""Argo CD's glob for ``directory.include`` / ``directory.exclude`` (``util/glob``).

Argo CD compiles these patterns with gobwas/glob and no separators, so ``*`` also matches
``/``; ``{a,b}`` alternatives and ``[...]`` classes (``[!...]`` negated) work as there.
"""

from __future__ import annotations

import re


def glob_regex(pattern: str) -> re.Pattern[str] | None:
    """gobwas/glob as Argo CD compiles it (no separators: ``*`` matches ``/``); None: invalid."""
    out: list[str] = []
    depth = 0
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                return None
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "*":
            while i < n and pattern[i] == "*":
                i += 1
            out.append(".*")
            continue
        if c == "?":
            out.append(".")
        elif c == "[":
            j = pattern.find("]", i + 2 if pattern[i + 1:i + 2] in ("!", "^") else i + 1)
            if j < 0:
                return None
            body = pattern[i + 1:j]
            neg = body[:1] in ("!", "^")
            if neg:
                body = body[1:]
            parts = []
            k = 0
            while k < len(body):
                if k + 2 < len(body) and body[k + 1] == "-":
                    parts.append(re.escape(body[k]) + "-" + re.escape(body[k + 2]))
                    k += 3
                else:
                    parts.append(re.escape(body[k]))
                    k += 1
            out.append(("[^" if neg else "[") + "".join(parts) + "]")
            i = j
        elif c == "{":
            out.append("(?:")
            depth += 1
        elif c == "}" and depth:
            out.append(")")
            depth -= 1
        elif c == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(c))
        i += 1
    if depth:
        return None
    try:
        return re.compile("".join(out) + r"\Z", re.S)
    except re.error:
        return None


def glob_match(pattern: str, text: str) -> bool:
    """Whether ``text`` matches ``pattern`` (an invalid pattern matches nothing)."""
    rx = glob_regex(pattern)
    return bool(rx and rx.match(text))
