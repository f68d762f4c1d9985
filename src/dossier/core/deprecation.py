"""Deprecation of an API version: ``Deprecation`` (RFC 9745), ``Sunset`` (RFC 8594) and a
``Link`` to the successor (``rel="successor-version"``).

:func:`deprecation_headers` builds the headers; the edge layer adds them to every response
under the deprecated path prefixes, errors and 304s included (``middleware.headers``); routes
also pass ``deprecated=True`` so the OpenAPI document marks them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.utils import format_datetime


@dataclass(frozen=True, slots=True)
class Deprecation:
    """One deprecated family of routes: paths starting with ``prefix``."""

    prefix: str
    successor: str
    sunset: date
    deprecated_since: date | None = None

    def matches(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix.rstrip("/") + "/")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def deprecation_headers(
    *, successor: str, sunset: date, deprecated_since: date | None = None
) -> list[tuple[str, str]]:
    """The three headers. ``Deprecation`` is ``?1`` (deprecated) or ``@<epoch>`` since a date."""
    deprecation = (
        "?1" if deprecated_since is None else f"@{int(_midnight(deprecated_since).timestamp())}"
    )
    return [
        ("Deprecation", deprecation),
        ("Sunset", format_datetime(_midnight(sunset), usegmt=True)),
        ("Link", f'<{successor}>; rel="successor-version"'),
    ]
