"""The reader's limits: how large, how deep and how far aliases may expand a document.

A document is refused, with its line, before anything that could blow up sees it:

- deeper than :data:`MAX_DEPTH` levels: PyYAML's C composer recurses on the C stack (200,000
  brackets crash it), Python's ``json`` on the Python stack;
- aliases that would expand past :func:`alias_limit` ("billion laughs"), or that refer to a node
  that holds them;
- larger than :data:`MAX_DOCUMENT_BYTES`: refused while it is read, without being held.
"""

from __future__ import annotations

import re

import yaml

#: PyYAML's C loader when it is built (much faster), else the pure-Python one; both are safe
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_DEPTH = 500  # Kubernetes objects nest a few dozen levels; PyYAML's C composer recurses
MAX_DOCUMENT_BYTES = 64 << 20  # etcd stores at most ~1.5 MiB per object

# may nest deeper than MAX_DEPTH: block nesting needs indentation (or "- "/"? " on one line) ...
_DEEP_LINE = re.compile(r"\n[ \t?:-]{150,}")
_DEEP_FIRST_LINE = re.compile(r"[ \t?:-]{150,}")
# ... flow nesting needs brackets
_FLOW_OPENERS = 200
_BRACKETS = re.compile(r"[\[\]{}]")
_C_SAFE_DEPTH = 5_000  # PyYAML's C composer recursed 10,000 levels fine, 100,000 crashed
_ALIAS_OR_ANCHOR = re.compile(r"[*&][^\s,\[\]{}]")
# JSON: a string (brackets in it do not count) or a bracket
_JSON_TOKEN = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]')


def alias_limit(text_length: int) -> int:
    """How large (in characters of JSON, roughly) aliases may expand a document."""
    return 2 * text_length + 10_000_000


def too_deep(text: str) -> tuple[int, int] | None:
    """(0-based line, depth) where the document nests deeper than MAX_DEPTH, else None.

    Cheap bounds first: a document with few flow brackets and no long run of indentation (or of
    "- " / "? " entries on one line) cannot nest that deep. Otherwise count the parser's events
    (libyaml's parser does not recurse; its composer, which builds the tree, does).

    Many brackets that do not nest (JSON in descriptions of a big CRD) are let through on an
    estimate of their nesting; a document built to fool the estimate still holds too few
    brackets to hurt the composer, and is refused later, when it is hashed (RecursionError).
    """
    if not _DEEP_LINE.search(text) and not _DEEP_FIRST_LINE.match(text):
        openers = text.count("[") + text.count("{")
        if openers <= _FLOW_OPENERS or openers <= _C_SAFE_DEPTH and \
                bracket_depth(text) <= _FLOW_OPENERS:
            return None
    loader = SAFE_LOADER(text)
    depth = 0
    opening = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    closing = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    try:
        while True:
            event = loader.get_event()
            if event is None or isinstance(event, yaml.StreamEndEvent):
                return None
            if isinstance(event, opening):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    return (mark.line if mark else 0), depth
            elif isinstance(event, closing):
                depth -= 1
    except yaml.YAMLError:
        return None  # the full parse reports it
    finally:
        loader.dispose()


def bracket_depth(text: str) -> int:
    """How deep the brackets of a text nest, quotes or not (a closer never goes below 0)."""
    depth = top = 0
    for ch in _BRACKETS.findall(text):
        if ch == "[" or ch == "{":
            depth += 1
            if depth > top:
                top = depth
        elif depth:
            depth -= 1
    return top


def expansion(node: yaml.Node, limit: int) -> str | None:
    """Why the aliases of a composed document cannot be expanded (too large, recursive)."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    while stack:
        current, done = stack.pop()
        key = id(current)
        if done:
            on_path.discard(key)
            if isinstance(current, yaml.MappingNode):
                total = 2 + sum(sizes[id(k)] + sizes[id(v)] for k, v in current.value)
            else:
                total = 2 + sum(sizes[id(c)] for c in current.value)
            if total > limit:
                return "expanded"
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if isinstance(current, yaml.ScalarNode):
            sizes[key] = len(current.value) + 3
            continue
        if key in on_path:
            return "recursive"
        on_path.add(key)
        stack.append((current, True))
        if isinstance(current, yaml.MappingNode):
            for k, v in current.value:
                stack.append((k, False))
                stack.append((v, False))
        else:
            stack.extend((c, False) for c in current.value)
    return None


def has_aliases(text: str) -> bool:
    """Whether the text may hold an anchor and an alias (a quick scan, never a wrong 'no')."""
    seen = set()
    for m in _ALIAS_OR_ANCHOR.finditer(text):
        i = m.start()
        if i == 0 or text[i - 1] in " \t\n\r[{,:?-":
            seen.add(text[i])
            if len(seen) == 2:
                return True
    return False


def json_too_deep(text: str) -> int | None:
    """Offset of the first bracket nested deeper than MAX_DEPTH in a JSON text, else None.

    The count of brackets, quoted or not, is a bound that is almost always enough; only a text
    that could nest that deep is scanned string by string.
    """
    if bracket_depth(text) <= MAX_DEPTH:
        return None
    depth = 0
    for m in _JSON_TOKEN.finditer(text):
        ch = m.group(0)
        if ch == "[" or ch == "{":
            depth += 1
            if depth > MAX_DEPTH:
                return m.start()
        elif ch == "]" or ch == "}":
            depth -= 1
    return None
