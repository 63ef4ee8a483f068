"""What Argo CD reported: importing exports as datasets, and reconciling them with predictions."""
