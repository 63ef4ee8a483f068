"""Read the argocd-cm ConfigMap: the Application health check, the tracking method, resource
exclusions and inclusions.

The file, and the blocks inside it (``resource.customizations``, ``resource.exclusions``,
``resource.inclusions``), are read by the one hardened reader
(:mod:`gitops_analysis.load.yaml_reader`), with its limits.

Defaults are Argo CD 3.x's (``util/settings/settings.go``): ``application.resourceTrackingMethod``
unset means ``annotation`` (``GetTrackingMethod``), ``application.instanceLabelKey`` unset means
``app.kubernetes.io/instance`` (``GetAppInstanceLabelKey``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gitops_analysis.core.errors import InputError
from gitops_analysis.load.exclusions import DEFAULT_FILTER, ResourceFilter, filter_from_configmap
from gitops_analysis.load.yaml_reader import parse_text, read_documents

HEALTH_KEY = "resource.customizations.health.argoproj.io_Application"
TRACKING_KEY = "application.resourceTrackingMethod"
LABEL_KEY = "application.instanceLabelKey"
DEFAULT_TRACKING = "annotation"
DEFAULT_LABEL_KEY = "app.kubernetes.io/instance"
_TODO = "pass the argocd-cm ConfigMap (kubectl get cm argocd-cm -n argocd -o yaml)"


@dataclass(frozen=True)
class ArgoCDSettings:
    """What the rules read from argocd-cm; ``ArgoCDSettings()`` is Argo CD 3.x with the stock
    argocd-cm."""

    health_check_configured: bool = False
    tracking_method: str = DEFAULT_TRACKING  # annotation, label or annotation+label
    instance_label_key: str = DEFAULT_LABEL_KEY
    resource_filter: ResourceFilter = field(default=DEFAULT_FILTER)
    file: str = ""  # '' when no argocd-cm was given

    @property
    def label_tracking(self) -> bool:
        """Ownership is read from the instance label (``GetAppName``: only for ``label``)."""
        return self.tracking_method == "label"


def read_settings(path: str | Path) -> ArgoCDSettings:
    """argocd-cm -> its settings. The first ConfigMap of the file is argocd-cm."""
    display = str(path)
    try:
        docs, _, problem = read_documents(Path(path), display)
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc})", file=display,
                         todo=_TODO) from None
    if problem:
        raise problem.input_error()
    for doc in docs:
        if doc.error:
            raise doc.error.input_error()
    for doc in docs:
        if not isinstance(doc.data, dict) or doc.data.get("kind") != "ConfigMap":
            continue
        data = doc.data.get("data") or {}
        return settings_from_data(data if isinstance(data, dict) else {}, display, doc.line)
    raise InputError("no ConfigMap in the file", file=display, todo="pass the argocd-cm ConfigMap")


def settings_from_data(data: dict, display: str, line: int) -> ArgoCDSettings:
    """argocd-cm's ``data`` -> its settings; ``display`` says where it comes from."""
    tracking = data.get(TRACKING_KEY)
    label_key = data.get(LABEL_KEY)
    return ArgoCDSettings(
        health_check_configured=_health_check(data, display, line),
        tracking_method=tracking if isinstance(tracking, str) and tracking
        else DEFAULT_TRACKING,
        instance_label_key=label_key if isinstance(label_key, str) and label_key
        else DEFAULT_LABEL_KEY,
        resource_filter=filter_from_configmap(data, display, line),
        file=display)


#: the tracking methods argocd-operator passes on (``ParseResourceTrackingMethod``; anything
#: else becomes annotation): argoproj-labs/argocd-operator ``controllers/argocd/configmap.go``
_TRACKING_METHODS = ("label", "annotation", "annotation+label")


def argocd_cr_data(spec: dict) -> dict:
    """The argocd-cm ``data`` argocd-operator (OpenShift GitOps) writes for an ``ArgoCD``
    resource's ``spec``, as far as the rules read it (``reconcileArgoConfigMap``):
    ``resourceHealthChecks`` become ``resource.customizations.health.<group>_<kind>``;
    ``resourceExclusions`` (else Argo CD 3.0's default list, the stock argocd-cm's) and
    ``resourceInclusions``; ``resourceTrackingMethod`` (unset or invalid: annotation);
    ``applicationInstanceLabelKey``; then ``extraConfig`` over all of it. The operator rewrites
    argocd-cm from the resource, so this wins over an argocd-cm deployed beside it."""
    data: dict = {}
    checks = spec.get("resourceHealthChecks")
    for check in checks if isinstance(checks, list) else []:
        if isinstance(check, dict) and isinstance(check.get("kind"), str):
            group = str(check.get("group") or "")
            key = "resource.customizations.health." + (f"{group}_" if group else "") + \
                check["kind"]
            data[key] = str(check.get("check") or "")
    for field_name, key in (("resourceExclusions", "resource.exclusions"),
                            ("resourceInclusions", "resource.inclusions")):
        if isinstance(spec.get(field_name), str) and spec[field_name]:
            data[key] = spec[field_name]
    method = spec.get("resourceTrackingMethod")
    data[TRACKING_KEY] = method if method in _TRACKING_METHODS else DEFAULT_TRACKING
    label_key = spec.get("applicationInstanceLabelKey")
    if isinstance(label_key, str) and label_key:
        data[LABEL_KEY] = label_key
    extra = spec.get("extraConfig")
    if isinstance(extra, dict):
        data.update({str(k): v for k, v in extra.items() if isinstance(v, str)})
    return data


def _health_check(data: dict, display: str, line: int) -> bool:
    """Either the per-kind key, or the older ``resource.customizations`` block with an
    ``argoproj.io/Application`` entry that has ``health.lua``."""
    if str(data.get(HEALTH_KEY) or "").strip():
        return True
    block = data.get("resource.customizations")
    if isinstance(block, str):
        # a block that cannot be read configures nothing (its errors are not reported)
        parsed = parse_text(block, display, line).data
        entry = parsed.get("argoproj.io/Application") if isinstance(parsed, dict) else None
        if isinstance(entry, dict) and entry.get("health.lua"):
            return True
    return False


def health_check_configured(path: str | Path) -> bool:
    """True when argocd-cm defines a health check for argoproj.io/Application."""
    return read_settings(path).health_check_configured
