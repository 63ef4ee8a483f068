"""gitops-analysis: find what will break an Argo CD GitOps repository before Argo CD syncs it.

The public API is imported on first use, so that the command line starts without pandas when it
can answer from the cache; the imports under ``TYPE_CHECKING`` tell static tools what it is.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gitops_analysis.core.version import __version__

if TYPE_CHECKING:
    from gitops_analysis.analysis.graph import blast_radius, wave_graph
    from gitops_analysis.core.errors import (
        GitopsAnalysisError,
        InputError,
        NotADatasetError,
        UsageError,
    )
    from gitops_analysis.load.dataset import Accounting, Dataset, load_dataset
    from gitops_analysis.load.live_export import load_live
    from gitops_analysis.rules import all_rules, run_rules

_API = {
    "Accounting": "load.dataset", "Dataset": "load.dataset", "load_dataset": "load.dataset",
    "GitopsAnalysisError": "core.errors", "InputError": "core.errors",
    "NotADatasetError": "core.errors", "UsageError": "core.errors",
    "run_rules": "rules", "all_rules": "rules",
    "wave_graph": "analysis.graph", "blast_radius": "analysis.graph",
    "load_live": "load.live_export",
}

__all__ = ["Accounting", "Dataset", "GitopsAnalysisError", "InputError", "NotADatasetError",
           "UsageError", "__version__", "all_rules", "blast_radius", "load_dataset", "load_live",
           "run_rules", "wave_graph"]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'gitops_analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
