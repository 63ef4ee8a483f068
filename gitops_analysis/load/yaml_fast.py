"""The fast path of the YAML reader: rapidyaml (C++) where it reads a document as PyYAML would.

rapidyaml parses a document and emits it as JSON, which json.loads turns into the same Python
objects PyYAML builds, for the plain data rendered manifests are made of. Wherever the two could
differ the document goes to PyYAML instead: anchors, aliases, tags, merge keys, complex keys and
directives (seen in the text); strings that PyYAML would read as something else when written
plain (yes, On, ~, 0755, 2001-12-14, 1:20, a key 8080; seen in the JSON, where ryml has already
written quoted and plain text alike as strings); numbers that PyYAML would read as text (1e3);
duplicate keys; and any error of either parser, so that PyYAML reports it with its line. False
alarms only cost speed. The reader (:mod:`gitops_analysis.load.yaml_reader`) calls
:func:`fast_load` after its own limits (size, depth) and uses PyYAML whenever it says no.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import yaml

try:
    import ryml as _ryml
except ImportError:  # pragma: no cover - rapidyaml is a dependency; keep working without it
    _ryml = None

# a tag starts a node: at the start of a line or after ": ", "- ", "? ", "[", "{" or ","
_TAG_MARK = re.compile(r"![!A-Za-z<][A-Za-z0-9_.(<>!:/-]*|&[A-Za-z0-9_-]+")  # tags, anchors
_TAG_BEFORE = frozenset(":-?[{,\n")


def _maybe_tags(text: str, emitted: str) -> bool:
    """Whether a "!" or "&" in the text could start a tag or an anchor (never a wrong 'no').

    A candidate that starts a node (at a line start or after ": ", "- ", "? ", "[", "{", ",")
    is still scalar text when the JSON holds it as often as the YAML does: a real tag or anchor
    is not written into the JSON. (CEL rules in CRDs are full of "!has(self...)".)
    """
    seen = set()
    for m in _TAG_MARK.finditer(text):
        i = m.start() - 1
        while i >= 0 and text[i] in " \t":
            i -= 1
        if i >= 0 and text[i] not in _TAG_BEFORE:
            continue
        token = m.group(0)
        if token in seen:
            continue
        seen.add(token)
        if emitted.count(token) < text.count(token):
            return True
    return False


# in the JSON: strings PyYAML could read otherwise, aliases (ryml writes "*name") and merge keys
# (of the words made of letters only those that can be doubtful: YAML 1.1's booleans and
# nulls, and the keys true, false and null; any other word is a string to PyYAML too)
_SUSPECT = re.compile(r'"((?:[-+]?\.?[0-9]|[-+]?\.[a-zA-Z]|~)[^"\\]*'
                      r'|(?:[yYnN]|[yY]es|YES|[nN]o|NO|[oO]n|ON|[oO]ff|OFF|[tT]rue|TRUE'
                      r'|[fF]alse|FALSE|[nN]ull|NULL)'
                      r'|\*[^"\\\s]*|<<|)"(:?)')
_YAML11_WORDS = frozenset("y Y yes Yes YES n N no No NO on On ON off Off OFF True TRUE False FALSE "
                          "Null NULL ~".split())
_SIMPLE_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
_STR_TAG = "tag:yaml.org,2002:str"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_INT_TAG = "tag:yaml.org,2002:int"
_resolver = yaml.resolver.Resolver()


class _Doubt(Exception):
    pass


def _pairs(pairs: list) -> dict:
    d = dict(pairs)
    if len(d) != len(pairs):  # a duplicate key: PyYAML reports it with its line
        raise _Doubt
    return d


def _float(literal: str) -> float:
    if _resolver.resolve(yaml.ScalarNode, literal, (True, False)) != _FLOAT_TAG:
        raise _Doubt  # 1e3 is a string to PyYAML
    return float(literal)


def _int(literal: str) -> int:
    if _resolver.resolve(yaml.ScalarNode, literal, (True, False)) != _INT_TAG:
        raise _Doubt
    return int(literal)


def _constant(literal: str):
    raise _Doubt


_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # the same, for ASCII text


def _unprintable(text: str) -> bool:
    """Characters PyYAML's reader refuses (its own class is slow on long ASCII texts)."""
    if text.isascii():
        return _ASCII_CONTROL.search(text) is not None
    return _NON_PRINTABLE.search(text) is not None


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_float=_float, parse_int=_int,
                            parse_constant=_constant)


def _has_tags(tree) -> bool:
    """Tags and anchors: the JSON shows neither (an anchor can even change the structure)."""
    return any(tree.has_val_tag(i) or tree.has_key_tag(i) or tree.has_val_anchor(i) or
               tree.has_key_anchor(i) for i in range(tree.size()))


_PLAIN_PATTERNS: dict[str, re.Pattern] = {}


def _plain_in(text: str, value: str) -> bool:
    """Whether ``value`` stands in the text as a whole plain scalar (not quoted, not inside a
    longer scalar): only then can PyYAML read it as something other than a string.

    The regex finds the literal with a blank, a flow indicator or a line start before it; the
    context before it is then checked by hand (a node starts at a line start or after ": ",
    "- ", "? ", "[", "{" or ","), which keeps the scan as fast as a search for the literal.
    """
    pattern = _PLAIN_PATTERNS.get(value)
    if pattern is None:
        pattern = re.compile(r"(?:(?<=[\s\[{,])|^)" + re.escape(value) +
                             r"(?=[ \t]*(?:$|[,\]}#]|:[ \t]|:$))", re.M)
        if len(_PLAIN_PATTERNS) < 256:
            _PLAIN_PATTERNS[value] = pattern
    for m in pattern.finditer(text):
        i = m.start() - 1
        while i >= 0 and text[i] in " \t":
            i -= 1
        if i < 0 or text[i] in "\n\r[{,":
            return True
        if text[i] in ":-?" and text[i + 1] in " \t":
            return True
    return False


class _Quiet:
    """rapidyaml prints its parse errors on the C stderr; PyYAML reports them here instead.

    Re-entrant: ``quiet()`` around a whole file costs four system calls, not four a document.
    """

    depth = 0
    saved: int | None = None

    def __enter__(self):
        if _Quiet.depth == 0:
            try:
                _Quiet.saved = os.dup(2)
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, 2)
                os.close(null)
            except OSError:
                _Quiet.saved = None
        _Quiet.depth += 1
        return self

    def __exit__(self, *exc):
        _Quiet.depth -= 1
        if _Quiet.depth == 0 and _Quiet.saved is not None:
            os.dup2(_Quiet.saved, 2)
            os.close(_Quiet.saved)
            _Quiet.saved = None


def quiet() -> _Quiet:
    """Silence rapidyaml's own error printing while documents are read (see _Quiet)."""
    return _Quiet()


def fast_load(text: str) -> tuple[bool, Any]:
    """(True, data) when rapidyaml reads the document exactly as PyYAML would."""
    if _ryml is None or "\\u" in text or "\\U" in text or _unprintable(text):
        # escapes the two parsers may judge differently (PyYAML refuses lone surrogates), and
        # characters PyYAML's reader refuses where rapidyaml reads on
        return False, None
    try:
        with _Quiet():
            tree = _ryml.parse_in_arena(text.encode("utf-8"))
        root = tree.root_id()
        emitted = _ryml.emit_json_malloc(tree, root)
        # a cheap look for "!" and "&" first; the tree says for sure where a node has a tag
        if ("!" in text or "&" in text) and _maybe_tags(text, emitted) and _has_tags(tree):
            return False, None
        checked: set = set()  # a value that stands in the text only quoted is checked once
        for m in _SUSPECT.finditer(emitted):
            value, is_key = m.group(1), m.group(2) == ":"
            if value == "" and is_key or value == "<<" or value[:1] == "*" and len(value) > 1:
                return False, None  # an empty key (PyYAML refuses it), a merge key, an alias
            if value == "":
                continue
            if value == "*" or value in _YAML11_WORDS:
                doubtful = True
            elif value[0] in "yYnNoOtTfF":
                # a key true, false or null is not a string to PyYAML (as values ryml writes
                # them as JSON literals, so a string "true" was quoted)
                doubtful = is_key and value in ("true", "false", "null")
            elif _SIMPLE_NUMBER.fullmatch(value):
                # ryml writes a plain 2 as a JSON number, so a JSON string "2" was quoted;
                # but it writes every key as a string
                doubtful = is_key
            else:
                doubtful = _resolver.resolve(yaml.ScalarNode, value, (True, False)) != _STR_TAG
            # these read the same in the JSON whether quoted or plain: look at the text
            if doubtful and value not in checked:
                if _plain_in(text, value):
                    return False, None
                checked.add(value)
        data = _DECODER.decode(emitted)
    except Exception:
        return False, None
    if tree.is_stream(root):
        if not isinstance(data, list) or len(data) != 1:
            return False, None
        data = data[0]
    return True, data

