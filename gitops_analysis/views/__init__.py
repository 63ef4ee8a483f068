"""What a reader sees: text, JSON, SARIF, plots, the incident write-up, the notebook API."""
