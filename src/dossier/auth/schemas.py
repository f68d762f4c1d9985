"""Request and response bodies of the auth endpoints."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TokenResponse(BaseModel):
    access_token: str = Field(description="A JWT for `Authorization: Bearer …`.")
    refresh_token: str = Field(description="Opaque; single use: each refresh returns a new one.")
    token_type: str = Field("bearer", description="Always `bearer`.")
    expires_in: int = Field(description="Seconds until the access token expires.")


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=512,
        description="The refresh token; may be omitted in cookie mode (the cookie is used).",
    )
