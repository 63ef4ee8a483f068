"""Rendering a repository the way Argo CD's repo server would, into a dataset."""
