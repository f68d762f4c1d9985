"""The authenticated caller, as every service sees it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from dossier.models.user import Role


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    role: Role
    token_id: str | None = None  # the access token's `jti`, for logout's deny-list
    token_expires_at: int | None = None  # its `exp`: how long the deny-list must remember it

    @property
    def is_moderator(self) -> bool:
        return self.role.at_least(Role.MODERATOR)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def has_role(self, role: Role) -> bool:
        return self.role.at_least(role)
