"""One entry of ``spec.generators`` -> parameter sets: ``Transform``, matrix and merge.

Follows ``applicationset/generators/generator_spec_processor.go``, ``matrix.go`` and
``merge.go`` of Argo CD:

- every generator set in an entry runs (``GetRelevantGenerators``, in the order of the Go
  struct), then the entry's ``selector`` filters its parameter sets;
- a matrix combines exactly two children; the second is first rendered with each parameter
  set of the first (strings everywhere, ``values`` pre-resolved with ``missingkey=error`` and
  kept verbatim when a key is missing); goTemplate sets are deep-merged (the first child wins),
  fasttemplate sets joined as strings (a key with two values is an error);
- a merge indexes each child's sets by the JSON of their ``mergeKeys`` (top-level keys only),
  keeps every set of the first child and overrides it with later matches;
- nesting: a top-level matrix or merge may hold a matrix or merge, whose children can only be
  plain generators: a third level is silently dropped by Go's JSON decoding, leaving an empty
  child (``child generator generated no parameters``).

Generators that need an API or a controller raise :class:`OfflineGap`.
"""

from __future__ import annotations

from typing import Any

from gitops_analysis.render.appsets.funcs import function_map, go_sprint
from gitops_analysis.render.appsets.generators import cluster_params, git_params, list_params
from gitops_analysis.render.appsets.gotemplate import is_missing_key, replace
from gitops_analysis.render.appsets.model import AppSetError, AppSetInfo, ExpandContext, OfflineGap
from gitops_analysis.render.appsets.selector import flatten_params, parse_selector

Params = dict[str, Any]
#: ApplicationSetGenerator's fields, in the order GetRelevantGenerators walks them
ORDER = ("list", "clusters", "git", "scmProvider", "clusterDecisionResource", "pullRequest",
         "matrix", "merge", "plugin")
UNSUPPORTED = {
    "scmProvider": "the SCM provider's API (the repositories of an organisation)",
    "pullRequest": "the SCM provider's API",
    "clusterDecisionResource": "a custom resource in the cluster and its controller",
    "plugin": "an HTTP call to a plugin service",
}
#: generators whose ``values`` (map[string]string) are pre-resolved by RenderGeneratorParams
_WITH_VALUES = ("clusters", "git", "scmProvider", "clusterDecisionResource", "pullRequest",
                "plugin")
TOP, NESTED, TERMINAL = 0, 1, 2
#: the most parameter sets a matrix may make offline (a matrix of two large Git generators)
MAX_PARAM_SETS = 100_000
NO_PARAMS = "child generator generated no parameters"


def relevant(entry: dict[str, Any], level: int) -> list[str]:
    """The generators set in an entry; at the terminal level matrix and merge do not exist."""
    names = [n for n in ORDER if entry.get(n) is not None]
    if level == TERMINAL:
        names = [n for n in names if n not in ("matrix", "merge")]
    return names


def unrecognized(entry: dict[str, Any]) -> list[str]:
    """Keys of an entry that are no generator Argo CD knows (it only logs them)."""
    return sorted(k for k in entry if k not in ORDER and k not in ("selector", "values"))


def transform(entry: Any, info: AppSetInfo, ctx: ExpandContext, level: int,
              gen_params: Params | None = None) -> list[tuple[str, list[Params]]]:
    """``Transform``: (generator name, parameter sets) for each generator of the entry."""
    if not isinstance(entry, dict):
        raise AppSetError("a generator entry must be a mapping", "spec")
    try:
        selector = parse_selector(entry.get("selector"), "selector")
    except AppSetError as exc:
        raise exc.wrap("error parsing label selector") from None
    out = []
    for name in relevant(entry, level):
        source = entry
        if gen_params:
            source = interpolate(entry, gen_params, info)
        params = generate(name, source, info, ctx, level)
        if entry.get("selector") is not None:
            params = [p for p in params if selector.matches(flatten_params(p))]
        out.append((name, params))
    return out


def generate(name: str, entry: dict[str, Any], info: AppSetInfo, ctx: ExpandContext,
             level: int) -> list[Params]:
    gen = entry[name]
    if name == "list":
        return list_params(gen, info)
    if name == "clusters":
        return cluster_params(gen, info, ctx)
    if name == "git":
        return git_params(gen, info, ctx)
    if name == "matrix":
        return matrix_params(gen, info, ctx, level)
    if name == "merge":
        return merge_params(gen, info, ctx, level)
    raise OfflineGap(f"ApplicationSet {info.name} uses the {name} generator, which needs "
                     f"{UNSUPPORTED[name]}: its Applications cannot be generated offline", name)


def _replace_all(value: Any, params: Params, info: AppSetInfo, in_generator: str = "") -> Any:
    if isinstance(value, str):
        return replace(value, params, info.go_template, info.mode)
    if isinstance(value, list):
        return [_replace_all(v, params, info) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if item is None:
            continue
        if key == "values" and in_generator in _WITH_VALUES and isinstance(item, dict):
            out[key] = _pre_resolve(item, params, info)
            continue
        child = key if key in ORDER else ""
        out[replace(str(key), params, info.go_template, info.mode)] = \
            _replace_all(item, params, info, child)
    return out


def _pre_resolve(values: dict[str, Any], params: Params, info: AppSetInfo) -> dict[str, Any]:
    mode = "error" if info.go_template else info.mode
    out = {}
    for key, value in values.items():
        if not isinstance(value, str):
            out[key] = value
            continue
        try:
            out[key] = replace(value, params, info.go_template, mode)
        except AppSetError as exc:
            if is_missing_key(exc):
                out[key] = value
                continue
            raise exc.wrap(f'failed to pre-resolve Values key "{key}"') from None
    return out


def interpolate(entry: dict[str, Any], params: Params, info: AppSetInfo) -> dict[str, Any]:
    """``InterpolateGenerator``: the entry rendered with another generator's parameters."""
    try:
        out: dict[str, Any] = _replace_all(entry, params, info)
        return out
    except AppSetError as exc:
        raise exc.wrap("failed to replace parameters in generator") from None


def _child_params(child: Any, info: AppSetInfo, ctx: ExpandContext, level: int,
                  params: Params | None) -> list[Params]:
    """``getParams`` of a matrix or merge child (``level``: the child's level)."""
    if isinstance(child, dict) and level == TERMINAL:
        child = {k: v for k, v in child.items() if k not in ("matrix", "merge")}
    try:
        results = transform(child, info, ctx, level, params)
    except AppSetError as exc:
        if exc.kind == "spec":
            raise
        raise exc.wrap("child generator returned an error on parameter generation") from None
    if not results:
        raise AppSetError(NO_PARAMS)
    if len(results) > 1:
        raise AppSetError("found more than one generator in matrix.Generators")
    return results[0][1]


def _children(gen: Any, what: str) -> list[Any]:
    if not isinstance(gen, dict):
        raise AppSetError("ApplicationSet is empty")
    children = gen.get("generators") or []
    if not isinstance(children, list):
        raise AppSetError(f"{what}.generators must be a list", "spec")
    return children


def merge_override(dst: Params, src: Params) -> Params:
    """``mergo.Merge(&dst, src, mergo.WithOverride)`` on parameter maps: nested maps merged
    key by key, everything else replaced by ``src``."""
    out = dict(dst)
    for key, value in src.items():
        mine = out.get(key)
        if isinstance(value, dict) and isinstance(mine, dict) and mine:
            out[key] = merge_override(mine, value)
        else:
            out[key] = value
    return out


def _as_strings(params: Params) -> dict[str, str]:
    return {k: go_sprint(v) for k, v in params.items()}


def matrix_params(gen: Any, info: AppSetInfo, ctx: ExpandContext, level: int) -> list[Params]:
    """``MatrixGenerator.GenerateParams``."""
    children = _children(gen, "matrix")
    if len(children) < 2:
        raise AppSetError("found less than two generators, Matrix support only two")
    if len(children) > 2:
        raise AppSetError("found more than two generators, Matrix support only two")
    child_level = NESTED if level == TOP else TERMINAL
    try:
        first = _child_params(children[0], info, ctx, child_level, None)
    except AppSetError as exc:
        raise exc.wrap("error failed to get params for first generator in matrix generator") \
            from None
    out: list[Params] = []
    for a in first:
        try:
            second = _child_params(children[1], info, ctx, child_level, a)
        except AppSetError as exc:
            raise exc.wrap("failed to get params for second generator in the matrix "
                           "generator") from None
        if len(out) + len(second) > MAX_PARAM_SETS:
            raise OfflineGap(f"ApplicationSet {info.name}: its matrix makes more than "
                             f"{MAX_PARAM_SETS:,} parameter sets (a limit of the offline "
                             "expansion)", "matrix")
        for b in second:
            if info.go_template:
                out.append(merge_override(merge_override({}, b), a))
                continue
            combined = _as_strings(a)
            for key, value in _as_strings(b).items():
                if key in combined and combined[key] != value:
                    raise AppSetError("failed to combine string maps with merging params for "
                                      f"the matrix generator: found duplicate key {key} with "
                                      f"different value, a: {combined[key]} ,b: {value}")
                combined[key] = value
            out.append(dict(combined))
    return out


def _merge_key(keys: list[str], params: Params) -> str:
    to_json = function_map()["toJson"]
    return str(to_json({k: params.get(k) for k in keys}))


def _by_merge_key(keys: list[str], sets: list[Params]) -> dict[str, Params]:
    if not keys:
        raise AppSetError("no merge keys were specified, Merge requires at least one")
    out: dict[str, Params] = {}
    for params in sets:
        key = _merge_key(keys, params)
        if key in out:
            raise AppSetError("the parameters from a generator were not unique by the given "
                              "mergeKeys, Merge requires all param sets to be unique. Duplicate "
                              f"key was {key}")
        out[key] = params
    return out


def merge_params(gen: Any, info: AppSetInfo, ctx: ExpandContext, level: int) -> list[Params]:
    """``MergeGenerator.GenerateParams`` (the first child's order is kept; Argo CD's is a Go
    map's)."""
    children = _children(gen, "merge")
    if len(children) < 2:
        raise AppSetError("found less than two generators, Merge requires two or more")
    keys = gen.get("mergeKeys") or []
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise AppSetError("merge.mergeKeys must be a list of strings", "spec")
    keys = sorted(set(keys))
    child_level = NESTED if level == TOP else TERMINAL
    sets = []
    for i, child in enumerate(children):
        try:
            sets.append(_child_params(child, info, ctx, child_level, None))
        except AppSetError as exc:
            raise exc.wrap(f"error getting params from generator {i + 1} of {len(children)}") \
                .wrap("error getting param sets from generators") from None
    try:
        base = _by_merge_key(keys, sets[0])
        for later in sets[1:]:
            overrides = _by_merge_key(keys, later)
            for key, params in base.items():
                if key in overrides:
                    base[key] = merge_override(params, overrides[key]) if info.go_template \
                        else {**params, **overrides[key]}
    except AppSetError as exc:
        raise exc.wrap("error getting param sets by merge key") from None
    return list(base.values())
