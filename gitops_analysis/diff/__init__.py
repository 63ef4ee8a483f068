"""Two revisions of a repository -> findings new, fixed and unchanged, and what changed.

:func:`run_diff` (in :mod:`~gitops_analysis.diff.run`) does the work; baselines
(:mod:`~gitops_analysis.diff.baseline`) match findings by the same identity.
"""
