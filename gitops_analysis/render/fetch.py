"""Fetches that failed because of where gitops-analysis runs, not because of the repository.

A remote kustomize base, a chart from a Helm repository or an OCI registry, or a values file
from a URL is fetched here only with ``--allow-remote``. When that fetch fails on a DNS lookup,
a refused or reset connection, a timeout, TLS, or a 401/403 (Argo CD's repo server has its
network and its repository credentials, we have neither for sure), the render tells nothing
about what Argo CD would do: the app is a coverage gap (render status ``fetch-failed``), never
a ComparisonError. A reachable server that answers "no such chart version" or a kustomize,
Helm or YAML error is what the repo server would hit too: those stay ``failed``.
"""

from __future__ import annotations

import re

#: (pattern of the fetch error, the short cause a reader sees), the first that matches wins
_CAUSES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"lookup (?P<host>[^\s:]+)(?::\d+)? on [^\s]+: no such host|"
                r"could not resolve host:? '?(?P<host2>[^\s':]+)|no such host|"
                r"name or service not known|temporary failure in name resolution|"
                r"nodename nor servname provided", re.I), "DNS lookup failed"),
    (re.compile(r"connection refused", re.I), "connection refused"),
    (re.compile(r"network is unreachable|no route to host|connection reset by peer|"
                r"failed to connect to", re.I), "network unreachable"),
    (re.compile(r"i/o timeout|context deadline exceeded|client\.timeout exceeded|"
                r"tls handshake timeout|connection timed out|operation timed out|"
                r"timed out while|read timed out", re.I), "timed out"),
    (re.compile(r"x509: |tls: |ssl certificate problem|certificate verify failed|"
                r"certificate signed by unknown authority|ssl: ", re.I), "TLS error"),
    (re.compile(r"\b401\b|unauthorized|could not read username|terminal prompts disabled|"
                r"authentication (?:failed|required)|basic credential", re.I),
     "authentication required (401)"),
    (re.compile(r"\b403\b|forbidden|access denied|denied: ", re.I), "access denied (403)"),
)

FETCH_TODO = ("our fetch failed, not the repository: Argo CD's repo server, with its network "
              "and credentials, may well fetch it; render again where the network reaches it "
              "(with --allow-remote)")
CHART_CACHE_TODO = ", or put the chart in --chart-cache DIR"


def fetch_cause(text: str) -> str | None:
    """The short cause when ``text`` (a renderer's or Helm's error) says a fetch failed for a
    reason of this machine's network or credentials; None otherwise."""
    for pattern, cause in _CAUSES:
        found = pattern.search(text)
        if found is None:
            continue
        groups = found.groupdict()
        host = groups.get("host") or groups.get("host2")
        return f"{cause} ({host})" if host else cause
    return None


def fetch_message(cause: str, what: str, detail: str, chart: bool = False) -> str:
    """The render message of a fetch that failed here: the cause and what to do first, the
    renderer's own text last."""
    todo = FETCH_TODO + (CHART_CACHE_TODO if chart else "")
    return f"fetch failed: {cause}: {what}: {todo}; the error: {detail}"
