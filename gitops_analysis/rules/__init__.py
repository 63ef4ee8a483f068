"""Rules that predict Argo CD's conditions. Importing this package registers every rule."""

from . import (  # noqa: F401  (registration)
    apiversions,
    cascade,
    comparison,
    crds,
    exclusions,
    namespaces,
    ownership,
    projects,
    rollouts,
    sync_options,
    tracking,
    webhooks,
)
from .registry import (
                       FINDING_COLUMNS,
                       Context,
                       Rule,
                       all_rules,
                       get_rule,
                       register,
                       rules_markdown,
                       run_rules,
)

__all__ = ["FINDING_COLUMNS", "Context", "Rule", "all_rules", "get_rule", "register",
           "rules_markdown", "run_rules"]
