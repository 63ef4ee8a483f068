"""An ApplicationSet expanded offline into the Applications Argo CD's controller creates.

The reconcile of ``applicationset/controllers/applicationset_controller.go`` and
``controllers/template/template.go``, in order:

1. for each entry of ``spec.generators``: its parameter sets (:mod:`.combine`), then for each
   set the template rendered (the generator's own template merged over ``spec.template``),
   ``templatePatch`` applied, the namespace set to the ApplicationSet's;
2. the first generator or template error stops everything: no Application is created or
   updated, the condition holds that error (all or nothing);
3. validation: an empty name, a duplicate name (both copies are left out: they share their
   ``namespace/name`` key), a project that does not exist, a destination that names no known
   cluster; those Applications are left out, the others created; the condition holds the last
   message in key order, with `` (and N more)``;
4. Applications sorted by name; a name the API server refuses is not created
   (``UpdateApplicationError``, the first such name).

What cannot be known offline is a :class:`~.model.Gap`, never a guess.
"""

from __future__ import annotations

from typing import Any

from gitops_analysis.core.names import valid_app_name
from gitops_analysis.load.clusters import (
    IN_CLUSTER_NAME,
    IN_CLUSTER_SERVER,
    ClusterSecret,
    cluster_secrets_of,
)
from gitops_analysis.render.appsets.combine import TOP, transform, unrecognized
from gitops_analysis.render.appsets.gotemplate import missing_key_mode
from gitops_analysis.render.appsets.model import (
    ERROR_OCCURRED,
    GENERATION_ERROR,
    RENDER_ERROR,
    VALIDATION_ERROR,
    AppSetError,
    AppSetInfo,
    Condition,
    ExpandContext,
    Expansion,
    Gap,
    GeneratedApp,
    OfflineGap,
)
from gitops_analysis.render.appsets.template import apply_patch, merge_template, render_application

UPDATE_ERROR = "UpdateApplicationError"
_DNS_RULE = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
             "'-' or '.', and must start and end with an alphanumeric character (e.g. "
             "'example.com', regex used for validation is "
             "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def is_application_set(data: Any) -> bool:
    return isinstance(data, dict) and data.get("kind") == "ApplicationSet" and \
        isinstance(data.get("apiVersion"), str) and data["apiVersion"].startswith("argoproj.io/")


def _condition(error: AppSetError) -> Condition:
    if error.kind == "panic":
        return Condition("", "", f"Recovered from panic: {error.message}")
    if error.kind == "spec":
        return Condition("", "InvalidSpec", error.message)
    reason = RENDER_ERROR if error.kind == "template" else GENERATION_ERROR
    return Condition(ERROR_OCCURRED, reason, error.message)


def expand(data: dict[str, Any], file: str, line: int, ctx: ExpandContext) -> Expansion:
    """Expand one ApplicationSet document (read from ``file:line``)."""
    meta = _mapping(data.get("metadata"))
    spec = _mapping(data.get("spec"))
    name = str(meta.get("name") or "")
    namespace = str(meta.get("namespace") or ctx.argocd_namespace)
    go = spec.get("goTemplate") is True
    result = Expansion(name, namespace, file, line, go, applications=None)
    strategy = _mapping(spec.get("strategy"))
    if strategy.get("type") == "RollingSync":
        steps = _mapping(strategy.get("rollingSync")).get("steps")
        result.rolling_steps = [s for s in steps if isinstance(s, dict)] \
            if isinstance(steps, list) else []
    template = _mapping(spec.get("template"))
    project = _mapping(template.get("spec")).get("project")
    preserve = _mapping(spec.get("syncPolicy")).get("preserveResourcesOnDeletion") is True
    patch = spec.get("templatePatch")
    try:
        options = spec.get("goTemplateOptions") or []
        if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
            raise AppSetError("spec.goTemplateOptions must be a list of strings", "spec")
        mode = missing_key_mode(options) if go else "default"
        info = AppSetInfo(name, namespace, go, mode, project if isinstance(project, str) else "")
        generated = _generate(spec, template, patch, info, ctx, result, preserve)
    except AppSetError as exc:
        result.applications = []
        result.condition = _condition(exc)
        return result
    if generated is None:
        return result  # nothing could be generated offline: the gaps say why
    _validate(generated, result, ctx)
    if result.rolling_steps:
        for app in result.applications or []:
            app.rolling_step = rolling_step(result.rolling_steps, app.manifest)
    return result


def rolling_step(steps: list[dict[str, Any]], manifest: dict[str, Any]) -> int | None:
    """The first RollingSync step whose ``matchExpressions`` select the Application by its
    labels (``progressivesync/progressive_sync.go`` ``buildAppDependencyList``): a missing label
    fails ``In`` only; operators other than ``In`` and ``NotIn`` select nothing."""
    labels = _mapping(_mapping(manifest.get("metadata")).get("labels"))
    for index, step in enumerate(steps):
        selected = True
        exprs = step.get("matchExpressions")
        for expr in exprs if isinstance(exprs, list) else []:
            expr = _mapping(expr)
            op, key = expr.get("operator"), expr.get("key")
            raw = expr.get("values")
            values: list[Any] = raw if isinstance(raw, list) else []
            if key in labels:
                if op not in ("In", "NotIn") or (labels[key] in values) != (op == "In"):
                    selected = False
                    break
            elif op == "In":
                selected = False
                break
        if selected:
            return index
    return None


def _generate(spec: dict[str, Any], template: dict[str, Any], patch: Any, info: AppSetInfo,
              ctx: ExpandContext, result: Expansion, preserve: bool) -> list[GeneratedApp] | None:
    generators = spec.get("generators") or []
    if not isinstance(generators, list):
        raise AppSetError("spec.generators must be a list", "spec")
    generated: list[GeneratedApp] = []
    expanded_any = not generators
    for index, entry in enumerate(generators):
        if isinstance(entry, dict) and unrecognized(entry):
            result.warnings.append(f"ApplicationSet {info.name} contains unrecognized "
                                   f"generators: {', '.join(unrecognized(entry))}")
        try:
            results = transform(entry, info, ctx, TOP)
        except OfflineGap as gap:
            result.gaps.append(Gap(gap.generator, gap.message))
            continue
        except AppSetError as exc:
            if exc.kind == "template":  # a template inside a generator: still Transform's
                exc.kind = "generator"
            raise
        expanded_any = True
        for gen_name, param_sets in results:
            merged = merge_template(_mapping(entry[gen_name]).get("template"), template)
            for params in param_sets:
                try:
                    app = render_application(merged, params, info.go_template, info.mode,
                                             preserve)
                    if isinstance(patch, str):
                        app = apply_patch(app, patch, params, info.go_template, info.mode,
                                          f"{result.file}:{result.line}")
                except AppSetError as exc:
                    if exc.kind == "generator":
                        exc.kind = "template"
                    raise
                except OfflineGap as gap:
                    result.gaps.append(Gap("", f"ApplicationSet {info.name}: {gap.message}"))
                    continue
                meta = app.setdefault("metadata", {})
                meta["namespace"] = info.namespace
                meta["ownerReferences"] = [{
                    "apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
                    "name": info.name, "controller": True, "blockOwnerDeletion": True}]
                name = meta.get("name")
                generated.append(GeneratedApp(name if isinstance(name, str) else "",
                                              info.namespace, app, params, index))
    return generated if expanded_any else None


def _key(app: GeneratedApp) -> str:
    return f"{app.namespace}/{app.name}" if app.namespace else app.name


def _destination_error(dest: Any, clusters: list[ClusterSecret]) -> str | None:
    """``argoutil.GetDestinationCluster`` against the known clusters (in-cluster enabled)."""
    dest = _mapping(dest)
    server = dest.get("server") if isinstance(dest.get("server"), str) else ""
    name = dest.get("name") if isinstance(dest.get("name"), str) else ""
    if name and server:
        return f"application destination can't have both name and server defined: {name} " \
               f"{server}"
    servers = {s.server.rstrip("/") for s in clusters} | {IN_CLUSTER_SERVER}
    if server:
        url = server.rstrip("/")
        if url not in servers:
            return (f'error getting cluster by server "{server}": rpc error: code = NotFound '
                    f'desc = cluster "{url}" not found')
        return None
    if name:
        matches = sorted({s.server for s in clusters if s.name == name})
        if not matches and name == IN_CLUSTER_NAME:
            matches = [IN_CLUSTER_SERVER]
        if not matches:
            return f"there are no clusters with this name: {name}"
        if len(matches) > 1:
            return f"there are {len(matches)} clusters with the same name: [{' '.join(matches)}]"
        return None
    return "Destination server missing from app spec"


def _validate(generated: list[GeneratedApp], result: Expansion, ctx: ExpandContext) -> None:
    """``validateGeneratedApplications`` and what follows it in the reconcile."""
    errors: dict[str, str] = {}
    names: set[str] = set()
    clusters = cluster_secrets_of(ctx.clusters, ctx.argocd_namespace) \
        if ctx.clusters is not None else None
    for app in generated:
        key = _key(app)
        spec = _mapping(app.manifest.get("spec"))
        if not app.name:
            errors[key] = (f"ApplicationSet {result.name} contains an application with no name; "
                           "a name must be set in the template's metadata.name or via a "
                           "templatePatch (generateName is not supported)")
            continue
        if app.name in names:
            errors[key] = (f"ApplicationSet {result.name} contains applications with duplicate "
                           f"name: {app.name}")
            continue
        names.add(app.name)
        project = spec.get("project")
        project = project if isinstance(project, str) else ""
        if ctx.projects is not None and project not in ctx.projects:
            errors[key] = f"application references project {project} which does not exist"
            continue
        if clusters is not None:
            problem = _destination_error(spec.get("destination"), clusters)
            if problem:
                errors[key] = f"application destination spec is invalid: {problem}"
    valid = sorted((a for a in generated if _key(a) not in errors), key=lambda a: a.name)
    result.skipped = sorted((a for a in generated if _key(a) in errors), key=lambda a: a.name)
    if errors:
        message = errors[sorted(errors)[-1]]
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more)"
        result.condition = Condition(ERROR_OCCURRED, VALIDATION_ERROR, message)
    refused = [a for a in valid if not valid_app_name(a.name)]
    if refused:
        first = refused[0].name
        result.condition = Condition(
            ERROR_OCCURRED, UPDATE_ERROR, f'Application.argoproj.io "{first}" is invalid: '
            f'metadata.name: Invalid value: "{first}": {_DNS_RULE}')
        result.skipped = sorted(result.skipped + refused, key=lambda a: a.name)
        valid = [a for a in valid if valid_app_name(a.name)]
    result.applications = valid
