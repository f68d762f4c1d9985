"""The time limit's shared clock: overdue requests get 503, others are left alone."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Callable

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from dossier.app import create_app
from dossier.config import Settings
from dossier.middleware.body_limit import BodyLimits
from dossier.middleware.edge import EdgeMiddleware
from dossier.middleware.headers import ResponseHeaders
from dossier.middleware.timeout import Deadlines
from tests.helpers import assert_problem


def _edge(app: Callable[[Scope, Receive, Send], object], deadlines: Deadlines) -> EdgeMiddleware:
    return EdgeMiddleware(
        app,  # type: ignore[arg-type]
        headers=ResponseHeaders(hsts=False),
        deadlines=deadlines,
        body_limits=BodyLimits(1024),
        gzip_minimum_size=1024,
    )


def _scope(path: str = "/probe") -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }


async def _receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def test_only_the_overdue_requests_of_many_get_503(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(request_timeout_seconds=0.4), configure_logs=False)

    @app.get("/_probe/sleep/{seconds}")
    async def sleep(seconds: float) -> dict[str, float]:
        await asyncio.sleep(seconds)
        return {"slept": seconds}

    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:

            async def call(delay: float, seconds: float) -> httpx.Response:
                await asyncio.sleep(delay)
                return await http.get(f"/_probe/sleep/{seconds}")

            # (start after, handler time): the deadlines of later requests come later, so the
            # timer must be set again after each expiry, not once for everyone.
            plan = [(0.0, 3.0), (0.0, 0.05), (0.15, 3.0), (0.3, 0.05), (0.3, 3.0), (0.5, 0.05)]
            responses = await asyncio.gather(*(call(d, s) for d, s in plan))
    statuses = [response.status_code for response in responses]
    assert statuses == [503, 200, 503, 200, 503, 200]
    timed_out = responses[0]
    assert_problem(timed_out, 503, "request_timeout")
    # The 503 passes the edge like any response: request id and security headers.
    assert timed_out.headers["x-request-id"]
    assert timed_out.headers["x-content-type-options"] == "nosniff"
    assert timed_out.headers["retry-after"] == "1"


async def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    sent: list[Message] = []
    started = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        started.set()
        await asyncio.sleep(10)

    async def send(message: Message) -> None:
        sent.append(message)

    deadlines = Deadlines(5)
    task = asyncio.create_task(_edge(app, deadlines)(_scope(), _receive, send))
    await started.wait()
    task.cancel()  # the server, e.g. on shutdown
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sent == []  # no 503 was made up for it
    assert deadlines.pending(asyncio.get_running_loop()) == 0


async def test_an_expired_request_cancelled_from_elsewhere_too_stays_cancelled() -> None:
    sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await asyncio.sleep(10)
        finally:
            # The deadline has cancelled this task; someone else cancels it as well.
            asyncio.current_task().cancel()  # type: ignore[union-attr]

    async def send(message: Message) -> None:
        sent.append(message)

    deadlines = Deadlines(0.05)
    task = asyncio.create_task(_edge(app, deadlines)(_scope(), _receive, send))
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sent == []  # not answered as a time-out: the other cancellation wins
    assert deadlines.pending(asyncio.get_running_loop()) == 0


async def test_a_handler_that_swallows_the_cancellation_ends_normally() -> None:
    sent: list[Message] = []
    cancelling_at_end: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        with contextlib.suppress(asyncio.CancelledError):  # ignored (bad, but it happens)
            await asyncio.sleep(10)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def send(message: Message) -> None:
        sent.append(message)

    deadlines = Deadlines(0.05)

    async def run() -> None:
        await _edge(app, deadlines)(_scope(), _receive, send)
        cancelling_at_end.append(asyncio.current_task().cancelling())  # type: ignore[union-attr]

    await asyncio.create_task(run())
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [200]
    assert cancelling_at_end == [0]  # the deadline's cancellation was withdrawn
    assert deadlines.pending(asyncio.get_running_loop()) == 0


async def test_a_deadline_that_hits_after_the_response_started_ends_quietly() -> None:
    """The response started on the way out of the cancellation (a ``finally`` that sends, a
    stream's own task): nothing more can be told to the client, and the request must not
    end with a cancellation the server did not ask for."""
    sent: list[Message] = []
    cancelling_at_end: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await asyncio.sleep(10)
        finally:
            await send({"type": "http.response.start", "status": 200, "headers": []})

    async def send(message: Message) -> None:
        sent.append(message)

    deadlines = Deadlines(0.05)

    async def run() -> None:
        await _edge(app, deadlines)(_scope(), _receive, send)  # no exception
        cancelling_at_end.append(asyncio.current_task().cancelling())  # type: ignore[union-attr]

    await asyncio.create_task(run())
    assert [m.get("status") for m in sent] == [200]  # no 503 after a started response
    assert cancelling_at_end == [0]
    assert deadlines.pending(asyncio.get_running_loop()) == 0


async def test_a_started_response_is_not_limited() -> None:
    sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(0.2)  # well past the limit, after the start
        await send({"type": "http.response.body", "body": b"late"})

    async def send(message: Message) -> None:
        sent.append(message)

    await _edge(app, Deadlines(0.05))(_scope(), _receive, send)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[1]["body"] == b"late"


def _overrun(deadlines: Deadlines) -> bool:
    """One request that overruns its deadline, on a new event loop: was it cut off?"""

    async def overrun() -> bool:
        task = asyncio.current_task()
        assert task is not None
        cancelling = task.cancelling()
        clock = deadlines.start(task)
        try:
            await asyncio.sleep(2)
        except asyncio.CancelledError:
            return clock.claim(task, cancelling) is False
        finally:
            clock.finish(task)
        return False

    return asyncio.run(overrun())


def test_one_deadlines_object_serves_successive_event_loops() -> None:
    """Tests (and a restarted server) run one app on several loops in turn."""
    deadlines = Deadlines(0.05)
    assert _overrun(deadlines) is True
    assert _overrun(deadlines) is True


def test_one_deadlines_object_serves_concurrent_event_loops() -> None:
    """Each loop (here one per thread) keeps its own requests and timer."""
    deadlines = Deadlines(0.05)
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: _overrun(deadlines), range(3)))
    assert results == [True, True, True]


@pytest.fixture
def app_with_limit(make_settings: Callable[..., Settings]) -> FastAPI:
    return create_app(make_settings(request_timeout_seconds=0), configure_logs=False)


async def test_a_zero_limit_means_no_limit(app_with_limit: FastAPI) -> None:
    @app_with_limit.get("/_probe/slow")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(0.3)
        return {"status": "done"}

    async with LifespanManager(app_with_limit):
        transport = httpx.ASGITransport(app=app_with_limit)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            assert (await http.get("/_probe/slow")).status_code == 200
