"""Argo CD cluster Secrets (``--clusters FILE``): what the clusters generator of an
ApplicationSet and the destination check of its Applications see.

The file holds Secrets as ``kubectl get secrets -n argocd -o yaml`` prints them (a ``List``) or
as a declarative setup writes them (one Secret per document). Argo CD reads a cluster from a
Secret labelled ``argocd.argoproj.io/secret-type: cluster``: its ``name``, ``server`` and
``project`` data fields, its labels and annotations. ``data`` is base64 as the API server returns
it; ``stringData`` (what a declarative setup writes) stands for ``data`` and wins over it, key by
key, as the API server merges them. Every Secret is kept here, whatever its labels and
namespace: the generator selects.

The file is read by the one hardened reader (:mod:`gitops_analysis.load.yaml_reader`); a
problem is an :class:`~gitops_analysis.core.errors.InputError` at its line. Credentials in the
``config`` field are never kept.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_analysis.core.errors import InputError
from gitops_analysis.load.yaml_reader import read_documents

SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
IN_CLUSTER_NAME = "in-cluster"
_TODO = "pass Argo CD cluster Secrets (kubectl get secrets -n argocd -o yaml)"
#: the data fields Argo CD reads from a cluster Secret (config holds credentials: not kept)
_FIELDS = ("name", "server", "project")


@dataclass(frozen=True)
class ClusterSecret:
    """One Secret of the file, as the clusters generator sees it."""

    secret_name: str
    namespace: str  # "" when the Secret names none (it lands where it is applied)
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)  # name, server, project (decoded)
    file: str = ""
    line: int = 0

    @property
    def is_cluster(self) -> bool:
        return self.labels.get(SECRET_TYPE_LABEL) == "cluster"

    @property
    def name(self) -> str:
        return self.data.get("name", "")

    @property
    def server(self) -> str:
        return self.data.get("server", "")


def _strings(value: Any, what: str, display: str, line: int) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise InputError(f"{what} is not a mapping of strings", file=display, line=line,
                         todo="write key: value pairs")
    out = {}
    for k, v in value.items():
        if not isinstance(v, str):
            raise InputError(f"{what}.{k} is not a string", file=display, line=line,
                             todo="quote the value")
        out[k] = v
    return out


def _secret(item: dict, display: str, line: int) -> ClusterSecret:
    meta = item.get("metadata")
    if not isinstance(meta, dict):
        raise InputError("Secret without metadata", file=display, line=line,
                         todo="give it metadata.name and its labels")
    name = meta.get("name")
    namespace = meta.get("namespace") or ""
    if not isinstance(name, str) or not isinstance(namespace, str):
        raise InputError("Secret without a string metadata.name", file=display, line=line,
                         todo="give it metadata.name")
    labels = _strings(meta.get("labels"), "metadata.labels", display, line)
    annotations = _strings(meta.get("annotations"), "metadata.annotations", display, line)
    data: dict[str, str] = {}
    for key, raw in _strings(item.get("data"), "data", display, line).items():
        if key not in _FIELDS:
            continue
        try:
            data[key] = base64.b64decode(raw, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise InputError(f"data.{key} of Secret {name} is not base64 of UTF-8 text",
                             file=display, line=line,
                             todo="write it base64-encoded, or under stringData as text") \
                from None
    for key, text in _strings(item.get("stringData"), "stringData", display, line).items():
        if key in _FIELDS:
            data[key] = text
    return ClusterSecret(name, namespace, labels, annotations, data, display, line)


def load_cluster_secrets(path: str | Path) -> list[ClusterSecret]:
    """Every Secret of the file, in file order (a ``List``'s items in their order)."""
    display = str(path)
    try:
        docs, _, problem = read_documents(Path(path), display, item_lines=True)
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc})", file=display,
                         todo=_TODO) from None
    if problem is not None:
        raise problem.input_error(_TODO)
    out: list[ClusterSecret] = []
    for doc in docs:
        if doc.error is not None:
            raise doc.error.input_error()
        data = doc.data
        if not isinstance(data, dict):
            raise InputError("not a Kubernetes object", file=display, line=doc.line, todo=_TODO)
        if isinstance(data.get("items"), list):  # kubectl get -o yaml: a List
            lines = doc.item_lines or [doc.line] * len(data["items"])
            items = list(zip(data["items"], lines))
        else:
            items = [(data, doc.line)]
        for item, line in items:
            if not isinstance(item, dict) or item.get("kind") != "Secret":
                continue
            out.append(_secret(item, display, line))
    return out


def cluster_secrets_of(secrets: list[ClusterSecret], argocd_namespace: str) -> list[ClusterSecret]:
    """The Secrets Argo CD reads as clusters: labelled as such, in its own namespace."""
    return [s for s in secrets if s.is_cluster and s.namespace in ("", argocd_namespace)]
