"""Retry policy: exponential backoff with full jitter and a cap."""

from __future__ import annotations

import random
from datetime import timedelta


def backoff_delay(attempt: int, *, base: float, cap: float) -> timedelta:
    """Delay before the next try after ``attempt`` (1-based) failed.

    Full jitter (uniform over ``[0, min(cap, base·2^(attempt-1))]``) spreads retries of jobs that
    failed together, so a dependency coming back is not hit by all of them at once.
    """
    exponent = min(max(attempt - 1, 0), 32)
    ceiling = min(cap, base * (2**exponent))
    return timedelta(seconds=random.uniform(0, ceiling))
