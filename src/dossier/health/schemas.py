from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class DependencyCheck(BaseModel):
    status: Literal["ok", "down"]
    latency_ms: float | None = Field(None, description="Round trip of the check.")
    error: str | None = Field(None, description="Why the check failed (no internals).")


class Readiness(BaseModel):
    status: Literal["ok", "down"]
    checks: dict[str, DependencyCheck]
