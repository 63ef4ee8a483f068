"""What makes a valid Application name.

An Application is a custom resource, so the Kubernetes API server validates its
``metadata.name`` as a lowercase RFC 1123 DNS subdomain (``NameIsDNSSubdomain``): at most 253
characters of lowercase letters, digits, ``-`` and ``.``, each dot-separated part starting and
ending with a letter or a digit. Argo CD adds nothing to it; a name the API server refuses
never becomes an Application. Such a name is also safe as a file name (``apps/<name>.yaml``).
"""

from __future__ import annotations

import re

MAX_NAME_LENGTH = 253
_LABEL = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
#: the rule, as a message says it
APP_NAME_RULE = ("a DNS subdomain: at most 253 lowercase letters, digits, '-' and '.', starting "
                 "and ending with a letter or digit")


def valid_app_name(name: object) -> bool:
    """Whether ``name`` is a ``metadata.name`` the API server accepts for an Application."""
    return isinstance(name, str) and len(name) <= MAX_NAME_LENGTH and \
        _DNS_SUBDOMAIN.fullmatch(name) is not None
