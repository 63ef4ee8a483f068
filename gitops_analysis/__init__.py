"""gitops-analysis: find what will break an Argo CD GitOps repository before Argo CD syncs it."""

__version__ = "0.1.0"

from .dataset import Accounting, Dataset, load_dataset  # noqa: E402
from .errors import GitopsAnalysisError, InputError, NotADatasetError, UsageError  # noqa: E402


def __getattr__(name):
    # the rules and graph pull in more; load them on first use so `inventory` starts fast
    if name in ("run_rules", "all_rules"):
        from . import rules

        return getattr(rules, name)
    if name in ("wave_graph", "blast_radius"):
        from . import graph

        return getattr(graph, name)
    raise AttributeError(name)


__all__ = ["Accounting", "Dataset", "GitopsAnalysisError", "InputError", "NotADatasetError",
           "UsageError", "all_rules", "blast_radius", "load_dataset", "run_rules", "wave_graph",
           "__version__"]
