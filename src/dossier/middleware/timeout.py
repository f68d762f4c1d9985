"""The time limit: a request whose response has not started in time gets a 503 problem.

Only the time until the handler starts its response is limited, so streaming responses
(Server-Sent Events, downloads) run as long as they need once they have begun. The edge layer
(``middleware.edge``) starts a request's clock when it arrives, stops it when the handler's
response starts (also when gzip holds that start back until the first chunk of body) and
answers the 503; the clock covers the whole stack, rate-limit checks included.

Every request has the same limit, so the requests of an event loop reach their deadlines in
the order they arrived: :class:`Deadlines` keeps one timer per loop, set for the oldest request
still waiting, instead of a timer per request (``asyncio.timeout`` schedules and cancels a
timer handle per request and leaves the loop's heap full of cancelled ones;
docs/performance.md). When the timer fires it cancels every overdue request's task, as
``asyncio.timeout`` would, and is set again for the next deadline.
"""

from __future__ import annotations

import asyncio
import threading
import weakref

from starlette.responses import Response
from starlette.types import Scope

from dossier.core.errors import problem_response

Task = asyncio.Task[object]


class LoopDeadlines:
    """The waiting requests of one event loop and its one timer."""

    def __init__(self, loop: asyncio.AbstractEventLoop, seconds: float) -> None:
        self.loop = loop
        self.seconds = seconds
        # Task → deadline, in arrival order, which is also deadline order.
        self.waiting: dict[Task, float] = {}
        # Cancelled by their deadline; the value says whether the response started after.
        self.expired: dict[Task, bool] = {}
        self.timer: asyncio.TimerHandle | None = None

    def stop(self, task: Task) -> None:
        """The handler's response started: no deadline any more."""
        if self.waiting.pop(task, None) is None and task in self.expired:
            self.expired[task] = True  # started after its deadline cancelled it

    def claim(self, task: Task, cancelling: int) -> bool | None:
        """For a request that ended with ``CancelledError``: ``None`` if that is not (only)
        its deadline's cancellation — it must propagate (the server cancelling a request on
        shutdown stays a cancellation) — else the deadline's cancellation is withdrawn and
        the answer says whether the response had started. ``cancelling`` is
        ``task.cancelling()`` from when the request arrived."""
        started = self.expired.pop(task, None)
        if started is None or task.uncancel() > cancelling:
            return None
        return started

    def finish(self, task: Task) -> None:
        """Forget the request; withdraw a cancellation its handler swallowed."""
        self.waiting.pop(task, None)
        if self.expired.pop(task, None) is not None:
            task.uncancel()

    def fire(self) -> None:
        self.timer = None
        now = self.loop.time()
        overdue = []
        for task, deadline in self.waiting.items():
            if deadline > now:
                self.timer = self.loop.call_at(deadline, self.fire)
                break
            overdue.append(task)
        for task in overdue:
            del self.waiting[task]
            self.expired[task] = False
            task.cancel()


class Deadlines:
    """Deadlines of ``seconds`` for requests, on any number of event loops."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopDeadlines] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()  # taken only the first time a loop is seen
        self._last: LoopDeadlines | None = None  # the loop almost every request comes from

    def _for(self, loop: asyncio.AbstractEventLoop) -> LoopDeadlines:
        last = self._last
        if last is not None and last.loop is loop:
            return last
        state = self._loops.get(loop)
        if state is None:
            with self._lock:
                state = self._loops.setdefault(loop, LoopDeadlines(loop, self.seconds))
        self._last = state
        return state

    def start(self, task: Task) -> LoopDeadlines:
        """Start the request's clock; the returned object stops, claims and forgets it."""
        state = self._for(task.get_loop())
        deadline = state.loop.time() + self.seconds
        state.waiting[task] = deadline
        if state.timer is None:
            state.timer = state.loop.call_at(deadline, state.fire)
        return state

    def pending(self, loop: asyncio.AbstractEventLoop) -> int:
        """Requests of ``loop`` still tracked (waiting or expired): for tests."""
        state = self._loops.get(loop)
        return 0 if state is None else len(state.waiting) + len(state.expired)


def timeout_problem(scope: Scope, seconds: float) -> Response:
    return problem_response(
        scope,
        status=503,
        code="request_timeout",
        detail=f"The request took longer than {seconds:g} s and was stopped.",
        headers={"Retry-After": "1"},
    )
