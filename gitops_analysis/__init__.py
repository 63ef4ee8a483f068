"""gitops-analysis: find what will break an Argo CD GitOps repository before Argo CD syncs it."""

__version__ = "0.1.0"
