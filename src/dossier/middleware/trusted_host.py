"""Only answer for the configured host names (defends against Host header attacks).

:class:`TrustedHosts` is the rule; the edge layer (``middleware.edge``) applies it to every
request before anything else runs and answers 400 ``invalid_host`` otherwise. ``*`` allows any
host: :func:`trusted_hosts` then gives no rule at all.
"""

from __future__ import annotations

from collections.abc import Sequence


class TrustedHosts:
    def __init__(self, allowed_hosts: Sequence[str]) -> None:
        self.exact = {host.lower() for host in allowed_hosts if not host.startswith("*.")}
        self.suffixes = tuple(host[1:].lower() for host in allowed_hosts if host.startswith("*."))

    def allowed(self, host: str) -> bool:
        host = host.lower()
        # Strip the port; an IPv6 literal keeps its brackets.
        host = host.split("]", 1)[0] + "]" if host.startswith("[") else host.split(":", 1)[0]
        return host in self.exact or (bool(self.suffixes) and host.endswith(self.suffixes))


def trusted_hosts(allowed_hosts: Sequence[str]) -> TrustedHosts | None:
    """The rule for ``DOSSIER_TRUSTED_HOSTS``; ``None`` when ``*`` lets every host in."""
    return None if "*" in allowed_hosts else TrustedHosts(allowed_hosts)
