"""What every stage shares: errors, Kubernetes kinds, Argo CD's messages, frame schemas."""
