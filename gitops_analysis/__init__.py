"""gitops-analysis: find what will break an Argo CD GitOps repository before Argo CD syncs it.

The public API is loaded on first use, so that the command line starts without pandas when it
can answer from the cache.
"""

__version__ = "0.1.0"

_API = {
    "Accounting": "dataset", "Dataset": "dataset", "load_dataset": "dataset",
    "GitopsAnalysisError": "errors", "InputError": "errors", "NotADatasetError": "errors",
    "UsageError": "errors",
    "run_rules": "rules", "all_rules": "rules",
    "wave_graph": "graph", "blast_radius": "graph",
    "load_live": "live",
}


def __getattr__(name):
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'gitops_analysis' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + list(_API))


__all__ = sorted(_API) + ["__version__"]
