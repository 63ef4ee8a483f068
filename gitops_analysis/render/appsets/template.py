"""An ApplicationSet's template rendered into an Application, as Argo CD's controller does.

- ``RenderTemplateParams`` (``applicationset/utils/utils.go``): every string of the template is
  rendered with the parameter set (map keys too: labels, annotations, the keys inside
  ``helm.valuesObject``); booleans, numbers and whole objects are not; a nil inside a map is
  dropped; an empty parameter set leaves the template untouched. The finalizer
  ``resources-finalizer.argocd.argoproj.io`` is added unless the template has finalizers or
  ``syncPolicy.preserveResourcesOnDeletion`` is true.
- ``templatePatch`` (``controllers/template/template.go``, ``patch.go``): rendered as one string,
  read as YAML, applied as a strategic merge patch (an Application has no merge keys: maps are
  merged, lists replaced, ``null`` deletes), then ``spec.project`` is put back.
- A generator's own ``template`` is merged over the ApplicationSet's (``mergo.Merge`` without
  override: what the generator sets wins, what it leaves empty comes from ``spec.template``).
- The Application lives in the ApplicationSet's namespace, whatever the template says.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from gitops_analysis.load.yaml_reader import parse_text
from gitops_analysis.render.appsets.gotemplate import replace
from gitops_analysis.render.appsets.model import AppSetError

FINALIZER = "resources-finalizer.argocd.argoproj.io"
#: ApplicationSetTemplateMeta: the metadata fields a template carries
_META_FIELDS = ("name", "namespace", "labels", "annotations", "finalizers")


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == {} or value == [] or value is False or \
        value == 0


def merge_template(generator_tpl: Any, base: Any) -> Any:
    """``mergo.Merge(dst=generator's template, src=ApplicationSet's template)``: fields the
    generator leaves empty come from the base; maps are merged key by key."""
    if not isinstance(generator_tpl, dict) or not generator_tpl:
        return copy.deepcopy(base)
    if not isinstance(base, dict):
        return copy.deepcopy(generator_tpl)
    out = copy.deepcopy(generator_tpl)
    for key, value in base.items():
        mine = out.get(key)
        if isinstance(mine, dict) and isinstance(value, dict):
            out[key] = merge_template(mine, value)
        elif _empty(mine):
            out[key] = copy.deepcopy(value)
    return out


def deep_replace(value: Any, params: dict[str, Any], go: bool, mode: str) -> Any:
    """Every string of ``value`` rendered; map keys too; nil map values dropped."""
    if isinstance(value, str):
        return replace(value, params, go, mode)
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if v is None:
                continue
            out[replace(str(k), params, go, mode)] = deep_replace(v, params, go, mode)
        return out
    if isinstance(value, list):
        return [deep_replace(v, params, go, mode) for v in value]
    return value


def _application(template: dict[str, Any]) -> dict[str, Any]:
    """``GetTempApplication``: the template's metadata fields and spec, as an Application."""
    raw_meta, raw_spec = template.get("metadata"), template.get("spec")
    meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
    spec: dict[str, Any] = raw_spec if isinstance(raw_spec, dict) else {}
    app_meta = {k: copy.deepcopy(meta[k]) for k in _META_FIELDS if meta.get(k) not in
                (None, "", {}, [])}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": app_meta,
            "spec": copy.deepcopy(spec)}


def render_application(template: dict[str, Any], params: dict[str, Any], go: bool, mode: str,
                       preserve_on_deletion: bool) -> dict[str, Any]:
    """``RenderTemplateParams`` for one parameter set."""
    app = _application(template)
    if not params:
        return app
    rendered = {"apiVersion": app["apiVersion"], "kind": app["kind"],
                "metadata": deep_replace(app["metadata"], params, go, mode),
                "spec": deep_replace(app["spec"], params, go, mode)}
    if not preserve_on_deletion and not rendered["metadata"].get("finalizers"):
        rendered["metadata"]["finalizers"] = [FINALIZER]
    return rendered


def _strategic_merge(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict) or not isinstance(target, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    out = copy.deepcopy(target)
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            merged = _strategic_merge(out[key], value)
            if merged is None:
                out.pop(key, None)
            else:
                out[key] = merged
        else:
            out[key] = copy.deepcopy(value) if not isinstance(value, dict) else \
                _strategic_merge({}, value)
    return out


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def apply_patch(app: dict[str, Any], patch_source: str, params: dict[str, Any], go: bool,
                mode: str, where: str) -> dict[str, Any]:
    """``renderTemplatePatch`` + ``applyTemplatePatch``."""
    try:
        text = replace(patch_source, params, go, mode)
    except AppSetError as exc:
        raise exc.wrap("error replacing values in templatePatch") from None
    doc = parse_text(text, where)
    if doc.error is not None:
        raise AppSetError(f"error while converting template to json {_json(text)}: "
                          f"{doc.error.what}", "template")
    patch = doc.data
    if patch is None:
        patch = {}
    if not isinstance(patch, dict) or not isinstance(patch.get("metadata", {}), dict) or \
            not isinstance(patch.get("spec", {}), dict):
        raise AppSetError(f"invalid templatePatch {_json(_jsonable(patch))}: json: cannot "
                          "unmarshal into Go value of type v1alpha1.Application", "template")
    project = app.get("spec", {}).get("project")
    patched = _strategic_merge(app, _jsonable(patch))
    spec = patched.setdefault("spec", {}) if isinstance(patched.get("spec"), dict) else {}
    patched["spec"] = spec
    if project is None:
        spec.pop("project", None)
    else:
        spec["project"] = project
    return patched


def _jsonable(value: Any) -> Any:
    """YAML data as JSON sees it (sigs.k8s.io/yaml): keys strings, dates as strings."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
