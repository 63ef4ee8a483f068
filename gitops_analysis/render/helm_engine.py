"""``helm template`` on the Helm Go library that helm-python-sdk bundles, step for step as the
helm CLI runs it (``pkg/cmd/template.go``, ``pkg/cmd/install.go`` ``runInstall``,
``pkg/action/install.go``, ``pkg/action/action.go`` ``renderResources``, Helm v4.2.1):

1. release name: ``[NAME]``, ``--name-template``, else ``release-name``; checked as Helm
   checks it (``release name check failed: ...``);
2. values: :func:`~gitops_analysis.render.helm_values.merge_values` (files, then ``--set*``);
3. the chart: loaded by the library; ``library`` charts refused; every dependency of
   ``Chart.yaml`` must be in ``charts/`` (Helm's "found in Chart.yaml, but missing in charts/
   directory" error: the library itself would render without it);
4. ``values.schema.json`` enforced unless ``--skip-schema-validation`` (then the chart is
   rendered from a copy without its schema files);
5. ``kubeVersion`` of Chart.yaml against ``--kube-version`` (else the library's default);
6. the templates rendered by the library (a fresh load each time: rendering drops disabled
   subcharts from the loaded chart); ``lookup`` returns nothing, no cluster is contacted;
7. the output as Helm prints it: ``NOTES.txt`` out, partials out, each file split into
   documents, hooks (``helm.sh/hook``) apart and printed last, unknown hook types dropped,
   manifests in Helm's install order by kind, ``crds/`` of the chart and of every *enabled*
   subchart first with ``--include-crds``, tests left out with ``--skip-tests``; every
   document under a ``# Source: <chart>/templates/<file>`` line.

Errors are Helm's texts (:class:`HelmFailure`); the CLI prints them after ``Error: `` and, for
a failure while rendering, adds ``Use --debug flag to render out invalid YAML``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any

from gitops_analysis.render.helm_semver import admits, parse_generic
from gitops_analysis.render.helm_values import HelmFailure, merge_values

#: .Capabilities.KubeVersion when none is given: the client-go version the library was built
#: with (helm-python-sdk 0.2.2: Helm v4.2.3, client-go v0.36)
DEFAULT_KUBE_VERSION = "v1.36.0"
DEBUG_HINT = "\n\nUse --debug flag to render out invalid YAML"

INSTALL_ORDER = (
    "PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange",
    "PodSecurityPolicy", "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList",
    "ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
    "CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding",
    "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList", "Service",
    "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
    "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress",
    "APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
_ORDER = {k: i for i, k in enumerate(INSTALL_ORDER)}
HOOK_EVENTS = {"pre-install", "post-install", "pre-delete", "post-delete", "pre-upgrade",
               "post-upgrade", "pre-rollback", "post-rollback", "test"}
_SEPARATOR = re.compile(r"(?:^|[\t\n\f\r ]*\n)---[\t\n\f\r ]*")


@dataclass
class TemplateOptions:
    """The ``helm template`` flags Argo CD and kustomize pass (and a few more)."""

    positional: list[str] = field(default_factory=list)
    name_template: str = ""
    generate_name: bool = False
    namespace: str = ""
    kube_version: str = ""
    api_versions: list[str] = field(default_factory=list)
    value_files: list[str] = field(default_factory=list)
    sets: list[tuple[str, str]] = field(default_factory=list)  # (kind, expression)
    include_crds: bool = False
    skip_tests: bool = False
    skip_schema_validation: bool = False
    no_hooks: bool = False
    is_upgrade: bool = False


_VALUE_FLAGS = {"--name-template": "name_template", "--namespace": "namespace",
                "-n": "namespace", "--kube-version": "kube_version"}
_LIST_FLAGS = {"--values": "value_files", "-f": "value_files", "--api-versions": "api_versions",
               "-a": "api_versions"}
_SET_FLAGS = {"--set": "set", "--set-string": "set-string", "--set-file": "set-file",
              "--set-json": "set-json", "--set-literal": "set-literal"}
_BOOL_FLAGS = {"--include-crds": "include_crds", "--skip-tests": "skip_tests",
               "--skip-schema-validation": "skip_schema_validation", "--no-hooks": "no_hooks",
               "--generate-name": "generate_name", "-g": "generate_name",
               "--is-upgrade": "is_upgrade"}
_IGNORED_BOOLS = ("--debug", "--devel", "--dependency-update", "--validate", "--atomic",
                  "--create-namespace", "--wait", "--replace", "--disable-openapi-validation")


def parse_template_args(argv: list[str]) -> TemplateOptions:
    """The flags of ``helm template`` (cobra's rules: ``--flag value`` or ``--flag=value``)."""
    opts = TemplateOptions()
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if not arg.startswith("-") or arg == "-":
            opts.positional.append(arg)
            continue
        name, eq, inline = arg.partition("=")
        if name in _BOOL_FLAGS:
            setattr(opts, _BOOL_FLAGS[name], not eq or inline.lower() in ("true", "1", "t"))
            continue
        if name in _IGNORED_BOOLS:
            continue
        if name not in _VALUE_FLAGS and name not in _LIST_FLAGS and name not in _SET_FLAGS:
            raise HelmFailure(f"unknown flag: {name}" if name.startswith("--") else
                              f"unknown shorthand flag: {name[1:2]!r} in {arg}")
        if eq:
            value = inline
        elif i < len(argv):
            value, i = argv[i], i + 1
        else:
            raise HelmFailure(f"flag needs an argument: {name}")
        if name in _VALUE_FLAGS:
            setattr(opts, _VALUE_FLAGS[name], value)
        elif name in _LIST_FLAGS:
            target = getattr(opts, _LIST_FLAGS[name])
            target.extend(v for v in value.split(",") if v) if name in ("--api-versions", "-a") \
                else target.append(value)
        else:
            opts.sets.append((_SET_FLAGS[name], value))
    return opts


def _release_and_chart(opts: TemplateOptions) -> tuple[str, str]:
    """``Install.NameAndChart`` after ``helm template`` set the name to ``release-name``."""
    args = opts.positional
    if not args:
        raise HelmFailure('"helm template" requires at least 1 argument\n\nUsage:  helm '
                          "template [NAME] [CHART] [flags]")
    if len(args) > 2:
        raise HelmFailure("expected at most two arguments, unexpected arguments: " +
                          ", ".join(args[2:]))
    if len(args) == 2:
        if opts.generate_name:
            raise HelmFailure("cannot set --generate-name and also specify a name")
        if opts.name_template:
            raise HelmFailure("cannot set --name-template and also specify a name")
        return args[0], args[1]
    if opts.name_template:
        if "{{" in opts.name_template:
            raise HelmFailure(f"--name-template {opts.name_template}: Go templates in the "
                              "release name are not rendered by gitops-analysis")
        return opts.name_template, args[0]
    return "release-name", args[0]


def _kube_version(text: str) -> tuple[str, tuple[int, int, int]]:
    """(``.Capabilities.KubeVersion.Version``, the normalized version checked against
    Chart.yaml): Helm's ``ParseKubeVersion``."""
    parsed = parse_generic(text)
    if isinstance(parsed, str):
        raise HelmFailure(f"invalid kube version '{text}': {parsed}")
    return (text if text.startswith("v") else "v" + text), parsed


def _copy_without_schemas(chart_dir: str, tmp: str) -> str:
    """The chart copied with every ``values.schema.json`` left out (also in ``charts/*.tgz``,
    which are unpacked), for ``--skip-schema-validation``."""
    import helm_python

    dst = os.path.join(tmp, "unchecked", os.path.basename(os.path.normpath(chart_dir)) or "c")
    if os.path.isdir(chart_dir):
        shutil.copytree(chart_dir, dst, symlinks=False)
    else:
        helm_python.expand(os.path.dirname(dst), chart_dir)
        dst = os.path.join(os.path.dirname(dst), sorted(os.listdir(os.path.dirname(dst)))[0])
    pending = [dst]
    while pending:
        folder = pending.pop()
        schema = os.path.join(folder, "values.schema.json")
        if os.path.isfile(schema):
            os.remove(schema)
        charts = os.path.join(folder, "charts")
        if not os.path.isdir(charts):
            continue
        for name in sorted(os.listdir(charts)):
            path = os.path.join(charts, name)
            if name.endswith(".tgz") and os.path.isfile(path):
                unpacked = os.path.join(tmp, "unpacked", str(len(os.listdir(tmp))), name)
                os.makedirs(unpacked)
                helm_python.expand(unpacked, path)
                inner = sorted(os.listdir(unpacked))
                os.remove(path)
                if inner:
                    shutil.move(os.path.join(unpacked, inner[0]), os.path.join(charts, inner[0]))
                    pending.append(os.path.join(charts, inner[0]))
            elif os.path.isdir(path):
                pending.append(path)
    return dst


def _check_chart(chart: Any) -> None:
    meta = chart.metadata
    kind = meta.get("type") or ""
    if kind not in ("", "application"):
        raise HelmFailure(f"{kind} charts are not installable")
    loaded = {str(d.get("name")) for d in chart.dependencies}
    missing = [str(d.get("name")) for d in meta.get("dependencies") or []
               if isinstance(d, dict) and str(d.get("name")) not in loaded]
    if missing:
        raise HelmFailure("an error occurred while checking for chart dependencies. You may "
                          "need to run 'helm dependency build' to fetch missing dependencies: "
                          "found in Chart.yaml, but missing in charts/ directory: " +
                          ", ".join(missing))


@dataclass
class _Doc:
    path: str
    text: str
    kind: str
    events: list[str]
    hook: bool


def split_manifests(text: str) -> list[str]:
    """Helm ``releaseutil.SplitManifests``: the non-empty documents of one rendered file."""
    docs = []
    for d in _SEPARATOR.split(text.lstrip()):
        if d.strip():
            docs.append(d.lstrip())
    return docs


def _head(path: str, text: str) -> _Doc:
    """Helm's ``SimpleHead`` of one document: kind and hook annotations."""
    from gitops_analysis.load.yaml_reader import parse_text
    from gitops_analysis.render.reading import STDERR

    with STDERR:
        doc = parse_text(text, path)
    if doc.error is not None:
        raise HelmFailure(f"YAML parse error on {path}: {doc.error.what}", rendered=True)
    data = doc.data
    if data is not None and not isinstance(data, dict):
        raise HelmFailure(f"YAML parse error on {path}: error unmarshaling JSON: while "
                          f"decoding JSON: json: cannot unmarshal {_json_type(data)} into Go "
                          "value of type util.SimpleHead", rendered=True)
    head: dict[str, Any] = data or {}
    meta = head["metadata"] if isinstance(head.get("metadata"), dict) else {}
    annotations = meta["annotations"] if isinstance(meta.get("annotations"), dict) else {}
    for where, value in (("apiVersion", head.get("apiVersion")), ("kind", head.get("kind")),
                         ("metadata.name", meta.get("name")),
                         *((f"metadata.annotations.{k}", v) for k, v in annotations.items())):
        if value is not None and not isinstance(value, str):
            raise HelmFailure(f"YAML parse error on {path}: error unmarshaling JSON: while "
                              f"decoding JSON: json: cannot unmarshal {_json_type(value)} into "
                              f"Go struct field SimpleHead.{where} of type string",
                              rendered=True)
    kind = str(head.get("kind") or "")
    hook = annotations.get("helm.sh/hook")
    if not isinstance(hook, str):
        return _Doc(path, text, kind, [], False)
    events = [e.strip().lower() for e in hook.split(",")]
    events = ["test" if e == "test-success" else e for e in events]
    return _Doc(path, text, kind, events, True)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, dict):
        return "object"
    return "array" if isinstance(value, list) else "string"


def _by_kind(docs: list[_Doc]) -> list[_Doc]:
    """Helm ``sortManifestsByKind`` (stable): known kinds in install order, then unknown ones
    by name."""
    def key(d: _Doc) -> tuple[int, str]:
        return (_ORDER[d.kind], "") if d.kind in _ORDER else (len(_ORDER), d.kind)
    return sorted(docs, key=key)


def assemble(files: dict[str, str], crds: list[dict[str, str]], opts: TemplateOptions) -> str:
    """What ``helm template`` prints for the rendered ``files`` (template path -> text)."""
    manifests: list[_Doc] = []
    hooks: list[_Doc] = []
    for path in sorted(files):
        if path.endswith("NOTES.txt"):
            continue  # every NOTES.txt (the parent's and the subcharts') is taken out
        if os.path.basename(path).startswith("_") or not files[path].strip():
            continue
        for text in split_manifests(files[path]):
            d = _head(path, text)
            if not d.hook:
                manifests.append(d)
            elif all(e in HOOK_EVENTS for e in d.events):
                hooks.append(d)
            # a hook of an unknown type is dropped by Helm ("skipping unknown hooks")
    out = []
    if opts.include_crds:
        out += [f"---\n# Source: {c['filename']}\n{c['data']}\n" for c in crds]
    out += [f"---\n# Source: {d.path}\n{d.text}\n" for d in _by_kind(manifests)]
    text = "".join(out).strip() + "\n"
    if not opts.no_hooks:
        for d in _by_kind(hooks):
            if opts.skip_tests and "test" in d.events:
                continue
            text += f"---\n# Source: {d.path}\n{d.text}\n"
    return text


def template(argv: list[str], cwd: str) -> str:
    """``helm template ARGS`` in ``cwd``: what it prints; HelmFailure with Helm's message."""
    import helm_python
    from helm_python import _native

    opts = parse_template_args(argv)
    caps_version, kube = _kube_version(opts.kube_version) if opts.kube_version else \
        (DEFAULT_KUBE_VERSION, (1, 36, 0))
    release, chart_ref = _release_and_chart(opts)
    chart_path = os.path.join(cwd, chart_ref)
    if not os.path.exists(chart_path):
        raise HelmFailure(f'path "{chart_ref}" not found')
    values = merge_values(opts.value_files, opts.sets, cwd)
    tmp = tempfile.mkdtemp(prefix="gitops-analysis-helm-")
    try:
        try:
            with helm_python.Chart.load(chart_path) as chart:
                _check_chart(chart)
        except helm_python.HelmError as exc:
            raise HelmFailure(str(exc)) from None
        try:
            helm_python.validate_release_name(release)
        except helm_python.HelmError as exc:
            raise HelmFailure(f'release name check failed: release name "{release}": {exc}') \
                from None
        if opts.skip_schema_validation:
            chart_path = _copy_without_schemas(chart_path, tmp)
        render_opts: dict[str, Any] = {"name": release,
                                       "namespace": opts.namespace or "default"}
        if opts.kube_version:
            render_opts["kube_version"] = opts.kube_version
        if opts.api_versions:
            render_opts["api_versions"] = list(opts.api_versions)
        if opts.is_upgrade:
            render_opts.update(is_upgrade=True, is_install=False)
        try:
            with helm_python.Chart.load(chart_path) as chart:
                constraint = str(chart.metadata.get("kubeVersion") or "")
                if constraint and not admits(constraint, kube):
                    raise HelmFailure(f"chart requires kubeVersion: {constraint} which is "
                                      f"incompatible with Kubernetes {caps_version}",
                                      rendered=True)
                files = json.loads(_native.call_string(
                    "helm_render", chart._raw(), json.dumps(values), json.dumps(render_opts)))
                crds = chart.crds if opts.include_crds else []  # after the disabled are gone
        except helm_python.HelmRenderError as exc:
            raise HelmFailure(str(exc), rendered=True) from None
        except helm_python.HelmError as exc:
            raise HelmFailure(str(exc)) from None
        return assemble(files, crds, opts)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def engine_version() -> str:
    """``v4.2.3+helm-python-sdk.0.2.2``: what ``helm version --short`` prints here."""
    import helm_python

    return f"{helm_python.helm_sdk_version()}+helm-python-sdk.{helm_python.__version__}"


def run(argv: list[str], cwd: str) -> tuple[int, str, str]:
    """``helm ARGS`` as a process would end: (exit code, stdout, stderr). ``template`` and
    ``version``; ``pull`` is :mod:`~gitops_analysis.render.helm_remote`'s."""

    command = next((a for a in argv if not a.startswith("-")), "")
    rest = list(argv)
    if command:
        rest.remove(command)
    try:
        if command == "version":
            return 0, engine_version() + "\n", ""
        if command == "template":
            return 0, template(rest, cwd), ""
        if command == "pull":
            from gitops_analysis.render.helm_remote import library_pull, pull_command
            if "--untar" not in rest:
                return library_pull(rest, cwd)
            return 0, pull_command(rest, cwd), ""  # kustomize's helmCharts
        raise HelmFailure(f'unknown command "{command}" for "helm" (gitops-analysis runs '
                          "only template, pull and version)")
    except HelmFailure as exc:
        return 1, "", f"Error: {exc}{DEBUG_HINT if exc.rendered else ''}\n"
