"""The raw ASGI baseline: the smallest app that answers a small JSON body."""

from __future__ import annotations

from typing import Any

BODY = b'{"status":"ok","id":"6f1c2a8e-4f7b-4d7e-9a51-0c3b8f2d9e11","title":"baseline"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
