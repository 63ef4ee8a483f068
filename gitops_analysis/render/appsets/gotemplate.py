"""``Render.Replace`` of Argo CD (``applicationset/utils/utils.go``): one string rendered with
one parameter set, by Go's ``text/template`` (``goTemplate: true``) or by fasttemplate.

Go templates run in ``gotpl`` 0.1.0, a pure-Python ``text/template`` with Sprig, inside its
sandbox: templates are data, they reach the parameters and the functions of
:mod:`~gitops_analysis.render.appsets.funcs` and nothing else (no Python attribute or method),
within an execution budget. Each distinct (string, missingkey mode) is compiled once.

Errors carry Argo CD's text: ``failed to parse template <tmpl>: template: base:<line>:
<reason>`` and ``failed to execute go template <tmpl>: template: base:<line>:<col>: executing
"base" at <<node>>: <reason>``. Missing keys, unknown functions and unclosed actions are
written exactly as Go writes them (Go places a field chain's error at its second field);
other reasons keep gotpl's wording after Go's prefix.
"""

from __future__ import annotations

import copy
import functools
import re
from typing import Any

import gotpl

from gitops_analysis.render.appsets.funcs import (
    FunctionError,
    OverLimit,
    Unpredictable,
    function_map,
    go_data,
)
from gitops_analysis.render.appsets.model import AppSetError, OfflineGap

_BUDGET = gotpl.ExecutionBudget(max_output_chars=1_000_000, max_iterations=100_000,
                                max_template_depth=100, max_function_calls=100_000)
_MISSING = re.compile(r"missing key or attribute '(.*)'\Z", re.S)
_ATTRIBUTE = re.compile(r"(?:attribute|method|property) '(.*)' is not allowed\Z", re.S)
_FUNCTION_FAILED = re.compile(r"function '([^']*)' failed: (.*)\Z", re.S)
_NOT_DEFINED = re.compile(r"function '([^']*)' not defined\Z")
_CHAIN = re.compile(r"(\$[\w]*|\.[\w]*)((?:\.[\w]+)*)")
_TEMPLATED = re.compile(r".*\{\{.*\}\}.*")  # Go's isTemplatedRegex: '.' stops at a newline
_GO_OPTIONS = {"missingkey=default": "default", "missingkey=invalid": "default",
               "missingkey=zero": "zero", "missingkey=error": "error"}


def missing_key_mode(options: list[str]) -> str:
    """The missingkey mode of ``goTemplateOptions`` (the last one wins, as ``Option`` does).
    An option Go does not know makes ``Template.Option`` panic: the controller recovers and
    generates nothing (:class:`AppSetError` with reason ``panic``)."""
    mode = "default"
    for opt in options:
        if opt not in _GO_OPTIONS:
            raise AppSetError(f"unrecognized option: {opt}", "panic")
        mode = _GO_OPTIONS[opt]
    return mode


@functools.lru_cache(maxsize=4096)
def _compile(source: str, mode: str) -> gotpl.Template:
    funcs = function_map()
    policy = gotpl.SandboxPolicy(allow_functions=funcs.keys(), default_budget=_BUDGET)
    return gotpl.Template(source, name="base", functions=funcs, missing_key=mode,  # type: ignore[arg-type]
                          sandbox=policy)


def go_render(source: str, params: dict[str, Any], mode: str) -> str:
    """Go's ``text/template`` with Argo CD's function map; raises :class:`AppSetError` with
    Argo CD's message, or :class:`OfflineGap` when the result cannot be known offline."""
    try:
        tpl = _compile(source, mode)
    except gotpl.TemplateSyntaxError as exc:
        raise AppSetError(f"failed to parse template {source}: template: base:{exc.line}: "
                          f"{_parse_reason(str(exc))}", "template") from None
    except RecursionError:
        raise OfflineGap("a template nested too deep to read") from None
    except gotpl.TemplateError as exc:  # the sandbox's size limit
        raise OfflineGap(f"{exc} (a limit of the offline expansion)") from None
    try:
        # a copy: Sprig's set/unset change the map, and no change may reach another string
        return tpl.render(copy.deepcopy(params))
    except gotpl.TemplateExecutionError as exc:
        cause = exc.__cause__
        if isinstance(cause, Unpredictable):
            raise OfflineGap(str(cause)) from None
        if isinstance(cause, OverLimit):
            raise OfflineGap(str(cause)) from None
        if isinstance(exc, gotpl.BudgetExceededError):
            raise OfflineGap(f"{exc.message} (a limit of the offline expansion)") from None
        raise AppSetError(f"failed to execute go template {source}: "
                          f"{_execution_reason(source, exc, params)}", "template") from None
    except RecursionError:
        raise OfflineGap("a template that recurses too deep") from None


def is_missing_key(error: AppSetError) -> bool:
    """Argo CD's ``isMissingKeyError``."""
    return "map has no entry for key" in error.message or \
        "can't evaluate field" in error.message


def _parse_reason(text: str) -> str:
    reason = re.sub(r"\Atemplate:\d+:\d+: ", "", text)
    m = _NOT_DEFINED.match(reason)
    if m:
        return f'function "{m.group(1)}" not defined'
    if reason == "unexpected end":
        return "unexpected {{end}}"
    return reason


def _chain_at(source: str, position: int) -> tuple[str, int, list[str]] | None:
    """(text, Go's position, field names) of the field or variable chain at a byte offset."""
    text = source.encode("utf-8")[position:].decode("utf-8", "replace")
    m = _CHAIN.match(text)
    if not m or (m.group(1) == "." and not m.group(2)):
        return None
    chain = m.group(0)
    fields = [f for f in chain.split(".")[1:] if f]
    head = m.group(1)
    # Go's parser gives a chain (".a.b", "$x.b") the position of its second element
    go_pos = position + len(head.encode("utf-8")) if m.group(2) else position
    return chain, go_pos, fields


def _location(source: str, position: int) -> str:
    before = source.encode("utf-8")[:position]
    line = before.count(b"\n") + 1
    col = position - (before.rfind(b"\n") + 1)
    return f"base:{line}:{col}"


def _walk_type(params: Any, fields: list[str], name: str) -> str:
    """Go's reason for a field read on something that is no map. Go names the static type,
    ``interface {}`` for every value of decoded data; a nil is a nil pointer. The data is walked
    from the root (a chain inside ``range``/``with`` starts elsewhere: then the generic text)."""
    value = params
    for field in fields:
        if field == name and not isinstance(value, dict):
            break
        if not isinstance(value, dict) or field not in value:
            return f"can't evaluate field {name} in type interface {{}}"
        value = value[field]
    if value is None:
        return f"nil pointer evaluating interface {{}}.{name}"
    return f"can't evaluate field {name} in type interface {{}}"


def _command_at(source: str, position: int) -> str:
    """The text of the command that starts at a byte offset (up to ``|``, ``)`` or ``}}``)."""
    text = source.encode("utf-8")[position:].decode("utf-8", "replace")
    depth, quote, i = 0, "", 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'`":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and (c == "|" or text.startswith("}}", i) or text.startswith(" -}}", i)):
            break
        i += 1
    return text[:i].strip()


def _execution_reason(source: str, exc: gotpl.TemplateExecutionError, params: Any) -> str:
    message = exc.message
    position = exc.position or 0
    m = _MISSING.match(message) or _ATTRIBUTE.match(message)
    chain = _chain_at(source, position)
    if m and chain is not None:
        text, go_pos, fields = chain
        if _MISSING.match(message):
            reason = f'map has no entry for key "{m.group(1)}"'
        elif text.startswith("$"):
            reason = f"can't evaluate field {m.group(1)} in type interface {{}}"
        else:
            reason = _walk_type(params, fields, m.group(1))
        return f'template: {_location(source, go_pos)}: executing "base" at <{text}>: {reason}'
    f = _FUNCTION_FAILED.match(message)
    if f:
        cause = exc.__cause__
        detail = str(cause) if isinstance(cause, FunctionError) else f.group(2)
        node = _command_at(source, position)
        return (f'template: {_location(source, position)}: executing "base" at <{node}>: '
                f"error calling {f.group(1)}: {detail}")
    return f'template: {_location(source, position)}: executing "base": {message}'


def fast_render(source: str, params: dict[str, Any]) -> str:
    """fasttemplate as Argo CD drives it: ``{{ key }}`` is the flat key, trimmed; a missing key
    or a value that is not a string leaves the tag as written. Never an error, except a tag
    without end on a string that holds a complete one."""
    if not _TEMPLATED.search(source):
        return source
    out: list[str] = []
    rest = source
    while True:
        start = rest.find("{{")
        if start < 0:
            out.append(rest)
            break
        out.append(rest[:start])
        rest = rest[start + 2:]
        end = rest.find("}}")
        if end < 0:
            raise AppSetError(f"invalid template: Cannot find end tag={_go_quote('}}')} in the "
                              f"template={_go_quote(source)} starting from "
                              f"{_go_quote(rest)}", "template")
        tag = rest[:end]
        rest = rest[end + 2:]
        key = tag.strip()
        value = params.get(key) if key else None
        out.append(value if isinstance(value, str) else "{{" + tag + "}}")
    return "".join(out)


def _go_quote(text: str) -> str:
    """Go's ``%q`` for ordinary text."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") \
        .replace("\t", "\\t") + '"'


def replace(source: str, params: dict[str, Any], go_template: bool, mode: str) -> str:
    """``Render.Replace``: one string, one parameter set."""
    if go_template:
        return go_render(source, params, mode)
    return fast_render(source, params)


def go_params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as Go holds them (numbers float64)."""
    out: dict[str, Any] = go_data(params)
    return out
