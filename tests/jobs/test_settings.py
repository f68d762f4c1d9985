"""Job settings that would break the engine are refused."""

from __future__ import annotations

import pytest


def test_heartbeat_must_be_shorter_than_the_lease() -> None:
    from pydantic import ValidationError

    from dossier.config import Settings

    with pytest.raises(ValidationError, match="HEARTBEAT"):
        Settings(_env_file=None, job_lease_seconds=10, job_heartbeat_seconds=10)
