"""ApplicationSets expanded offline into the Applications Argo CD's controller would create.

Entry point: :func:`expand` (one ApplicationSet document -> :class:`Expansion`), with an
:class:`ExpandContext` (local checkouts, cluster Secrets, known projects). What is and is not
expanded is listed in the README, section "ApplicationSets"; Argo CD's semantics with their
source lines are in ``docs/notes/applicationsets.md``.
"""

from gitops_analysis.render.appsets.expand import expand, is_application_set
from gitops_analysis.render.appsets.model import (
    Condition,
    ExpandContext,
    Expansion,
    Gap,
    GeneratedApp,
)

__all__ = ["Condition", "ExpandContext", "Expansion", "Gap", "GeneratedApp", "expand",
           "is_application_set"]
