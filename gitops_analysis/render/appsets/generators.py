"""The generators that can run offline: list, clusters, Git directories and Git files.

Each one follows its file in ``applicationset/generators/`` of Argo CD (``list.go``,
``cluster.go``, ``git.go``, ``value_interpolation.go``): the same parameters, the same order
where Argo CD has one, the same error texts. Where Argo CD iterates over a Go map (cluster
Secrets), the order here is the Secrets' ``name``: Argo CD's is random, and nothing it creates
depends on it (Applications are sorted by name).
"""

from __future__ import annotations

import posixpath
from typing import Any

from gitops_analysis.load.clusters import IN_CLUSTER_NAME, IN_CLUSTER_SERVER, cluster_secrets_of
from gitops_analysis.load.yaml_reader import parse_text, read_text
from gitops_analysis.render.appsets.funcs import go_data, json_kind, normalize
from gitops_analysis.render.appsets.gitrepo import ls_files, path_match, walk_directories
from gitops_analysis.render.appsets.gotemplate import replace
from gitops_analysis.render.appsets.model import (
    AppSetError,
    AppSetInfo,
    ExpandContext,
    OfflineGap,
)
from gitops_analysis.render.appsets.selector import flatten_params, parse_selector
from gitops_analysis.render.repositories import url_key

Params = dict[str, Any]
EMPTY = "ApplicationSet is empty"


def _spec_error(what: str) -> AppSetError:
    return AppSetError(what, "spec")


def _values(raw: Any, where: str) -> dict[str, str]:
    """A generator's ``values`` (``map[string]string``)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise _spec_error(f"{where}.values must map keys to strings")
    return {str(k): v for k, v in raw.items()}


def append_values(values: dict[str, str], params: Params, info: AppSetInfo) -> None:
    """``appendTemplatedValues``: each value rendered with the parameters (values cannot see
    each other), stored as ``values.<k>`` (fasttemplate) or under ``values`` (goTemplate)."""
    if not values:
        return
    rendered: dict[str, str] = {}
    for key, value in values.items():
        try:
            rendered[key] = replace(value, params, info.go_template, info.mode)
        except AppSetError as exc:
            raise exc.wrap("failed to replace templated string with rendered values") \
                .wrap("failed to replace templated string") from None
    if info.go_template:
        params["values"] = rendered
    else:
        params.update({f"values.{k}": v for k, v in rendered.items()})


# --- list -------------------------------------------------------------------------------

def list_params(gen: Any, info: AppSetInfo) -> list[Params]:
    """``ListGenerator.GenerateParams``: ``elements``, then the items of ``elementsYaml``."""
    if not isinstance(gen, dict):
        raise AppSetError(EMPTY)
    elements = gen.get("elements") or []
    if not isinstance(elements, list):
        raise _spec_error("list.elements must be a list")
    out: list[Params] = []
    for element in elements:
        if not isinstance(element, dict):
            raise AppSetError("error unmarshling list element json: cannot unmarshal "
                              f"{json_kind(element)} into Go value of type "
                              "map[string]interface {}")
        element = go_data(element)
        if info.go_template:
            out.append(element)
            continue
        params: Params = {}
        for key, value in element.items():
            if key == "values":
                if not isinstance(value, dict):
                    raise AppSetError("error parsing values map")
                for k, v in value.items():
                    if not isinstance(v, str):
                        raise AppSetError("error parsing value as string %!w(<nil>)")
                    params[f"values.{k}"] = v
            elif not isinstance(value, str):
                raise AppSetError("error parsing value as string %!w(<nil>)")
            else:
                params[key] = value
        out.append(params)
    text = gen.get("elementsYaml")
    if isinstance(text, str) and text:
        doc = parse_text(text, "elementsYaml")
        data = doc.data
        if doc.error is not None:
            raise AppSetError(f"error unmarshling decoded ElementsYaml {doc.error.what}")
        if data is not None and (not isinstance(data, list) or
                                 not all(isinstance(d, dict) or d is None for d in data)):
            kind = json_kind(data if not isinstance(data, list) else
                              next(d for d in data if not isinstance(d, dict)))
            raise AppSetError("error unmarshling decoded ElementsYaml error unmarshaling JSON: "
                              f"while decoding JSON: json: cannot unmarshal {kind} into Go "
                              "value of type map[string]interface {}")
        out += [go_data(d) if d is not None else {} for d in data or []]
    return out


# --- clusters ---------------------------------------------------------------------------

def cluster_params(gen: Any, info: AppSetInfo, ctx: ExpandContext) -> list[Params]:
    """``ClusterGenerator.GenerateParams`` over the ``--clusters`` Secrets."""
    if not isinstance(gen, dict):
        raise AppSetError(EMPTY)
    if ctx.clusters is None:
        raise OfflineGap("the clusters generator reads Argo CD's cluster Secrets: pass them "
                         "with --clusters FILE", "clusters")
    raw_selector = gen.get("selector") or {}
    selector = parse_selector(raw_selector, "clusters.selector")
    values = _values(gen.get("values"), "clusters")
    by_name: dict[str, Any] = {}
    for secret in cluster_secrets_of(ctx.clusters, ctx.argocd_namespace):
        if selector.matches(secret.labels):
            by_name[secret.name] = secret  # Secrets with the same name collapse into one
    secrets = [by_name[k] for k in sorted(by_name)]
    out: list[Params] = []
    for secret in secrets:
        params: Params = {"name": secret.name, "nameNormalized": normalize(secret.name),
                          "server": secret.server, "project": secret.data.get("project", "")}
        if info.go_template:
            meta: Params = {}
            if secret.annotations:
                meta["annotations"] = dict(secret.annotations)
            if secret.labels:
                meta["labels"] = dict(secret.labels)
            params["metadata"] = meta
        else:
            params.update({f"metadata.annotations.{k}": v for k, v in secret.annotations.items()})
            params.update({f"metadata.labels.{k}": v for k, v in secret.labels.items()})
        try:
            append_values(values, params, info)
        except AppSetError as exc:
            raise exc.wrap("error appending templated values for cluster") from None
        out.append(params)
    if selector.empty and not any(s.server == IN_CLUSTER_SERVER for s in secrets):
        params = {"name": IN_CLUSTER_NAME, "nameNormalized": IN_CLUSTER_NAME,
                  "server": IN_CLUSTER_SERVER, "project": ""}
        try:
            append_values(values, params, info)
        except AppSetError as exc:
            raise exc.wrap("error appending templated values for local cluster") from None
        out.append(params)
    if gen.get("flatList") is True:
        return [{"clusters": out}]
    return out


# --- git ----------------------------------------------------------------------------------

def _checkout(gen: dict, ctx: ExpandContext) -> str:
    url = gen.get("repoURL")
    if not isinstance(url, str) or not url:
        raise _spec_error("git.repoURL must be a string")
    root = ctx.repos.get(url_key(url))
    if root is None:
        raise OfflineGap(f"the Git generator reads {url}, which is not here: pass "
                         f"--repo-map {url}=DIR with a checkout", "git")
    return root


def git_params(gen: Any, info: AppSetInfo, ctx: ExpandContext) -> list[Params]:
    """``GitGenerator.GenerateParams``: directories, else files."""
    if not isinstance(gen, dict):
        raise AppSetError(EMPTY)
    directories = gen.get("directories") or []
    files = gen.get("files") or []
    if not isinstance(directories, list) or not isinstance(files, list):
        raise _spec_error("git.directories and git.files must be lists")
    if not directories and not files:
        raise AppSetError(EMPTY)
    root = _checkout(gen, ctx)
    project = info.project
    if ctx.projects is not None and "{{" not in project and project not in ctx.projects:
        raise AppSetError(f'error getting project {project}: appprojects.argoproj.io '
                          f'"{project}" not found')
    values = _values(gen.get("values"), "git")
    prefix = gen.get("pathParamPrefix") or ""
    if not isinstance(prefix, str):
        raise _spec_error("git.pathParamPrefix must be a string")
    try:
        if directories:
            return _directory_params(root, directories, values, prefix, info, ctx)
        return _file_params(root, files, str(gen["repoURL"]), values, prefix, info, ctx)
    except AppSetError as exc:
        raise exc.wrap("error generating params from git") from None


def _items(entries: list, what: str) -> list[tuple[str, bool]]:
    out = []
    for e in entries:
        if not isinstance(e, dict) or not isinstance(e.get("path"), str):
            raise _spec_error(f"every git.{what} entry needs a string path")
        out.append((e["path"], e.get("exclude") is True))
    return out


def _directory_params(root: str, entries: list, values: dict[str, str], prefix: str,
                      info: AppSetInfo, ctx: ExpandContext) -> list[Params]:
    patterns = _items(entries, "directories")
    out = []
    for path in walk_directories(root, ctx.include_hidden_directories):
        include = exclude = False
        for pattern, is_exclude in patterns:
            if path_match(pattern, path):
                exclude |= is_exclude
                include |= not is_exclude
        if not include or exclude:
            continue
        params = _path_params(path, None, prefix, info.go_template)
        try:
            append_values(values, params, info)
        except AppSetError as exc:
            raise exc.wrap("failed to append templated values").wrap(
                "error generating params from apps") from None
        out.append(params)
    return out


def _path_params(directory: str, filename: str | None, prefix: str, go: bool) -> Params:
    base = posixpath.basename(directory)
    if go:
        obj: Params = {"path": directory, "basename": base}
        if filename is not None:
            obj["filename"] = filename
        obj["basenameNormalized"] = normalize(base)
        if filename is not None:
            obj["filenameNormalized"] = normalize(filename)
        obj["segments"] = tuple(directory.split("/"))  # a Go []string
        return {prefix: {"path": obj}} if prefix else {"path": obj}
    name = f"{prefix}.path" if prefix else "path"
    params: Params = {name: directory, f"{name}.basename": base}
    if filename is not None:
        params[f"{name}.filename"] = filename
    params[f"{name}.basenameNormalized"] = normalize(base)
    if filename is not None:
        params[f"{name}.filenameNormalized"] = normalize(filename)
    for i, segment in enumerate(directory.split("/")):
        if segment:
            params[f"{name}[{i}]"] = segment
    return params


def _file_params(root: str, entries: list, repo_url: str, values: dict[str, str], prefix: str,
                 info: AppSetInfo, ctx: ExpandContext) -> list[Params]:
    patterns = _items(entries, "files")
    found: set[str] = set()
    for pattern, is_exclude in patterns:
        if not is_exclude:
            found.update(ls_files(root, pattern, ctx.new_git_file_globbing))
    for pattern, is_exclude in patterns:
        if is_exclude:
            found.difference_update(ls_files(root, pattern, ctx.new_git_file_globbing))
    out: list[Params] = []
    for path in sorted(found):
        try:
            out += _one_file(root, path, values, prefix, info)
        except AppSetError as exc:
            raise exc.wrap(f"unable to process file '{path}' from repository "
                           f"'{repo_url}'") from None
    return out


def _one_file(root: str, path: str, values: dict[str, str], prefix: str,
              info: AppSetInfo) -> list[Params]:
    text = read_text(f"{root}/{path}", path)
    if not isinstance(text, str):
        raise AppSetError(f"unable to parse file: {text.what}")
    doc = parse_text(text, path)
    if doc.error is not None:
        raise AppSetError(f"unable to parse file: {doc.error.what}")
    data = doc.data
    if data is None:
        objects: list[Any] = [{}]
    elif isinstance(data, dict):
        objects = [data]
    elif isinstance(data, list) and all(isinstance(d, dict) or d is None for d in data):
        objects = [d or {} for d in data]
    else:
        raise AppSetError("unable to parse file: error unmarshaling JSON: while decoding JSON: "
                          f"json: cannot unmarshal {json_kind(data)} into Go value of type "
                          "[]map[string]interface {}")
    directory, filename = posixpath.dirname(path) or ".", posixpath.basename(path)
    out = []
    for obj in objects:
        obj = go_data(obj)
        if info.go_template:
            params = dict(obj)
        else:
            params = flatten_params(obj)
        params.update(_path_params(directory, filename, prefix, info.go_template))
        try:
            append_values(values, params, info)
        except AppSetError as exc:
            raise exc.wrap("failed to append templated values") from None
        out.append(params)
    return out
