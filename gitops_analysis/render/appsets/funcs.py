"""The functions an ApplicationSet's Go template may call, as Argo CD allows them.

Argo CD (``applicationset/utils/utils.go`` ``init``) takes Sprig's ``GenericFuncMap`` (Sprig
v3.3.0), removes ``env``, ``expandenv`` and ``getHostByName`` and adds ``normalize``,
``slugify``, ``toYaml``, ``fromYaml`` and ``fromYamlArray``. Nothing else: no Helm ``required``,
``include``, ``tpl`` or ``lookup``. Sprig comes from ``gotpl``'s port
(``gotpl.funcs.sprig.generic_func_map``); Argo CD's five functions are written here from its
source (``applicationset/utils/template_functions.go``, ``utils.go`` ``SlugifyName``, gosimple/slug
v1.15.0).

Two kinds of functions cannot be predicted offline and raise :class:`Unpredictable` (a coverage
gap, never a made-up value): those whose result changes on every reconcile (time, random, keys,
UUIDs) and those that read the local time zone. Functions that could make a result of any size
from a small template (``until``, ``repeat``, ``printf "%*d"``...) are bounded: past
:data:`MAX_RESULT` characters or items they raise :class:`OverLimit`.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from collections.abc import Callable
from typing import Any

import yaml
from gotpl.funcs.sprig import generic_func_map
from gotpl.runtime.gofmt import go_sprintf

from gitops_analysis.load.yaml_reader import parse_text

#: the largest string or list a template function may return (characters or items)
MAX_RESULT = 1_000_000
_INVALID_DNS = re.compile(r"[^-a-z0-9.]")
_NOT_SLUG = re.compile(r"[^a-zA-Z0-9\-_]")
_DASHES = re.compile(r"-+")
_WIDTH = re.compile(r"%[-+# 0]*(\d+|\*)?(?:\.(\d+|\*))?")

REMOVED = ("env", "expandenv", "getHostByName")
#: Sprig functions whose result is not the same on every call, or depends on the local zone
UNPREDICTABLE = frozenset({
    "now", "ago", "date", "dateInZone", "date_in_zone", "dateModify", "date_modify",
    "mustDateModify", "must_date_modify", "htmlDate", "htmlDateInZone", "toDate", "mustToDate",
    "unixEpoch", "durationRound", "randAlpha", "randAlphaNum", "randAscii", "randBytes",
    "randInt", "randNumeric", "shuffle", "uuidv4", "genCA", "genCAWithKey", "genPrivateKey",
    "genSelfSignedCert", "genSelfSignedCertWithKey", "genSignedCert", "genSignedCertWithKey",
    "bcrypt", "htpasswd", "encryptAES"})
#: functions whose integer arguments size their result
_SIZED = frozenset({"until", "untilStep", "seq", "repeat", "indent", "nindent"})


class Unpredictable(Exception):
    """A template called a function whose result cannot be known offline."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"the template calls {name}, whose result changes from one reconcile "
                         "to the next or depends on the controller's time zone")


class OverLimit(Exception):
    """A template function would return more than :data:`MAX_RESULT` characters or items."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"{name} would return more than {MAX_RESULT:,} characters or items "
                         "(a limit of the offline expansion)")


class FunctionError(Exception):
    """An error Argo CD's own function returns (Go's ``error calling <name>: <err>``)."""


def normalize(name: object) -> str:
    """``SanitizeName``: lowercase, ``[^-a-z0-9.]`` -> ``-``, at most 253 bytes, ``-``/``.``
    trimmed at both ends."""
    if not isinstance(name, str):
        raise FunctionError(f"wrong type for value; expected string; got {_go_type(name)}")
    # Go's strings.ToLower maps U+0130 to a single 'i'; Python's lower() to 'i' + U+0307
    text = _INVALID_DNS.sub("-", name.replace("\u0130", "i").lower())
    return text[:253].strip("-.")


def slugify(*args: object) -> str:
    """``SlugifyName``: args ``[maxSize int] [smartTruncate bool] name`` (the last one is always
    the name; defaults 50 and true), ``normalize``, then gosimple/slug ``Make``."""
    max_size, smart, name = 50, True, ""
    for i, arg in enumerate(args):
        if i == len(args) - 1:
            if not isinstance(arg, str):
                raise FunctionError(f"interface conversion: interface {{}} is "
                                    f"{_go_type(arg)}, not string")
            name = arg
        elif i == 0:
            if isinstance(arg, bool) or not isinstance(arg, int):
                raise FunctionError(f"interface conversion: interface {{}} is "
                                    f"{_go_type(arg)}, not int")
            max_size = arg
        elif i == 1:
            if not isinstance(arg, bool):
                raise FunctionError(f"interface conversion: interface {{}} is "
                                    f"{_go_type(arg)}, not bool")
            smart = arg
    text = normalize(name)  # ASCII from here on: slug's unidecode and substitutions are no-ops
    if not smart and len(text) >= max_size:
        text = text[:max(max_size, 0)]
    text = _DASHES.sub("-", _NOT_SLUG.sub("-", text)).strip("-_")
    if max_size > 0 and smart and len(text) > max_size:
        cut = text.rfind("-", 0, max_size + 1)
        text = text[:cut] if cut >= 0 else text[:max_size]
    return text


def _go_type(value: object) -> str:
    if value is None:
        return "nil"
    return {bool: "bool", int: "int", float: "float64", str: "string", list: "[]interface {}",
            dict: "map[string]interface {}"}.get(type(value), type(value).__name__)


def go_data(value: Any) -> Any:
    """Data as Argo CD holds it after ``json``/``sigs.k8s.io/yaml`` decoding: every number a
    float64, keys strings, timestamps the strings they were written as (approximately: the
    ISO form), tuples (Go ``[]string``) kept."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, float)):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {go_key(k): go_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [go_data(v) for v in value]
    if isinstance(value, tuple):
        return tuple(go_data(v) for v in value)
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    return str(value)


def go_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return go_sprint(go_data(key))


def go_sprint(value: Any) -> str:
    """Go's ``fmt.Sprintf("%v", v)`` of decoded data (``<nil>`` for nil, floats as ``%v``)."""
    if value is None:
        return "<nil>"
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_sprint(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(go_sprint(v) for v in value) + "]"
    return str(go_sprintf("%v", value))


def _json_ready(value: Any) -> Any:
    """Go's ``json.Marshal`` then ``yaml.Unmarshal``: a float64 with an integer value below 1e21
    is written without a fraction and read back as an int."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    return value


def to_yaml(value: object) -> str:
    """``toYaml``: sigs.k8s.io/yaml ``Marshal`` (keys sorted), the trailing newline removed.
    PyYAML writes it: quoting may differ from go-yaml (``'true'`` where Go writes ``"true"``)."""
    text = yaml.safe_dump(_json_ready(value), sort_keys=True, default_flow_style=False,
                          allow_unicode=True)
    if text.endswith("\n...\n"):
        text = text[:-4]
    return text.removesuffix("\n")


def _yaml_value(text: object, name: str) -> Any:
    if not isinstance(text, str):
        raise FunctionError(f"wrong type for value; expected string; got {_go_type(text)}")
    doc = parse_text(text, f"({name} argument)")
    if doc.error is not None:
        raise FunctionError(f"error converting YAML to JSON: {doc.error.what}")
    return go_data(doc.data)


def from_yaml(text: object) -> dict:
    """``fromYaml``: a map, or an error (not Helm's map with ``Error``)."""
    data = _yaml_value(text, "fromYaml")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FunctionError("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal "
                            f"{json_kind(data)} into Go value of type map[string]interface {{}}")
    return data


def from_yaml_array(text: object) -> list:
    """``fromYamlArray``: a list, or an error."""
    data = _yaml_value(text, "fromYamlArray")
    if data is None:
        return []
    if not isinstance(data, list):
        raise FunctionError("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal "
                            f"{json_kind(data)} into Go value of type []interface {{}}")
    return data


def json_kind(value: Any) -> str:
    """How Go's encoding/json names a decoded value's type in its errors."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    return "number" if value is not None else "null"


def _printf(fmt: object, *args: object) -> str:
    """Go's builtin ``printf``, with widths and precisions bounded."""
    if isinstance(fmt, str):
        for m in _WIDTH.finditer(fmt):
            for part in m.groups():
                if part and part != "*" and int(part) > MAX_RESULT:
                    raise OverLimit("printf")
        if "*" in fmt and any(isinstance(a, int) and not isinstance(a, bool) and
                              abs(a) > MAX_RESULT for a in args):
            raise OverLimit("printf")
    return str(go_sprintf(fmt, *args))


def _stub(name: str) -> Callable[..., object]:
    def unpredictable(*_args: object) -> object:
        raise Unpredictable(name)
    return unpredictable


def _bounded(name: str, fn: Callable[..., object]) -> Callable[..., object]:
    @functools.wraps(fn)
    def call(*args: object) -> object:
        ints = [a for a in args if isinstance(a, int) and not isinstance(a, bool)]
        if name in _SIZED and any(abs(a) > MAX_RESULT for a in ints):
            raise OverLimit(name)
        if name == "repeat" and len(args) == 2 and isinstance(args[0], int) and \
                isinstance(args[1], str) and args[0] * len(args[1]) > MAX_RESULT:
            raise OverLimit(name)
        if name in ("replace", "regexReplaceAll", "regexReplaceAllLiteral",
                    "mustRegexReplaceAll", "mustRegexReplaceAllLiteral") and len(args) == 3:
            texts = [a for a in args if isinstance(a, str)]
            if len(texts) == 3 and len(texts[2]) * (len(texts[1]) + 1) > MAX_RESULT:
                raise OverLimit(name)
        out = fn(*args)
        if isinstance(out, (str, bytes, list, tuple, dict)) and len(out) > MAX_RESULT:
            raise OverLimit(name)
        return out
    return call


@functools.cache
def function_map() -> dict[str, Callable[..., object]]:
    """Argo CD's function map for ApplicationSet Go templates."""
    funcs: dict[str, Callable[..., object]] = {}
    for name, fn in generic_func_map().items():
        if name in REMOVED:
            continue
        funcs[name] = _stub(name) if name in UNPREDICTABLE else _bounded(name, fn)
    funcs.update(normalize=normalize, slugify=slugify, toYaml=_bounded("toYaml", to_yaml),
                 fromYaml=from_yaml, fromYamlArray=from_yaml_array, printf=_printf)
    return funcs
