"""What document routes ask for: the storage adapter."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from dossier.core.storage import Storage


async def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


StorageDep = Annotated[Storage, Depends(get_storage)]
