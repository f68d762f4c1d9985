from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from dossier.core.cache import AppCache


async def get_cache(request: Request) -> AppCache:
    cache: AppCache = request.app.state.cache
    return cache


CacheDep = Annotated[AppCache, Depends(get_cache)]
