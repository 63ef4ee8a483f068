"""The pattern matchers Argo CD uses for AppProjects and resource exclusions, as it uses them.

- :func:`glob_match`: ``util/glob.Match`` (gobwas/glob). With separators, ``*`` and ``?`` stop
  at them and ``**`` crosses them; ``[...]`` (``[!...]`` negated, ``a-z`` ranges), ``{a,b}``
  and ``\\`` escapes work as there. A pattern that does not compile matches nothing.
- :func:`path_match`: Go's ``filepath.Match`` (``*`` and ``?`` stop at ``/``; ``[^...]``
  negates). A bad pattern matches nothing (Argo CD ignores the error).
- :func:`match_in_list`: ``util/glob.MatchStringInList(list, item, REGEXP)``: an entry
  wrapped in ``/`` is a regular expression (regexp2, unanchored), any other a glob.
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=4096)
def _gobwas(pattern: str, separators: str) -> re.Pattern[str] | None:
    not_sep = f"[^{re.escape(separators)}]" if separators else "."
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
            j = i
            while j < n and pattern[j] == "*":
                j += 1
            out.append(".*" if j - i > 1 or not separators else f"{not_sep}*")
            i = j
            continue
        if c == "?":
            out.append(not_sep)
        elif c == "[":
            cls = _char_class(pattern, i, "!")
            if cls is None:
                return None
            out.append(cls[0])
            i = cls[1]
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


def _char_class(pattern: str, i: int, negation: str) -> tuple[str, int] | None:
    """``[...]`` starting at ``i`` as a regex class and the index of its ``]``; None: unclosed."""
    k = i + 1
    neg = pattern[k:k + 1] == negation
    if neg:
        k += 1
    parts: list[str] = []
    first = True
    while k < len(pattern):
        c = pattern[k]
        if c == "]" and not first:
            break
        first = False
        if c == "\\" and k + 1 < len(pattern):
            c = pattern[k + 1]
            k += 1
        if k + 2 < len(pattern) and pattern[k + 1] == "-" and pattern[k + 2] != "]":
            lo, hi = c, pattern[k + 2]
            if lo > hi:
                return None
            parts.append(re.escape(lo) + "-" + re.escape(hi))
            k += 3
            continue
        parts.append(re.escape(c))
        k += 1
    if k >= len(pattern) or not parts:
        return None
    return ("[^" if neg else "[") + "".join(parts) + "]", k


def glob_match(pattern: str, text: str, separators: str = "") -> bool:
    """gobwas/glob as ``util/glob.Match`` compiles it (invalid: matches nothing)."""
    rx = _gobwas(pattern, separators)
    return bool(rx and rx.match(text))


@lru_cache(maxsize=4096)
def _filepath(pattern: str) -> re.Pattern[str] | None:
    out: list[str] = []
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
            out.append("[^/]*")
            continue
        if c == "?":
            out.append("[^/]")
        elif c == "[":
            cls = _char_class(pattern, i, "^")
            if cls is None:
                return None
            out.append(cls[0])
            i = cls[1]
        else:
            out.append(re.escape(c))
        i += 1
    try:
        return re.compile("".join(out) + r"\Z", re.S)
    except re.error:
        return None


def path_match(pattern: str, text: str) -> bool:
    """Go's ``filepath.Match(pattern, text)`` on Linux; a bad pattern matches nothing."""
    rx = _filepath(pattern)
    return bool(rx and rx.match(text))


def regex_search(pattern: str, text: str) -> bool:
    """``util/regex.Match``: unanchored; a pattern that does not compile matches nothing."""
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


def match_in_list(patterns: tuple[str, ...] | list[str], item: str) -> bool:
    """``glob.MatchStringInList(patterns, item, glob.REGEXP)``."""
    for p in patterns:
        if len(p) >= 2 and p.startswith("/") and p.endswith("/") and regex_search(p[1:-1], item):
            return True
        if glob_match(p, item):
            return True
    return False
