"""Garbage-collector settings for long-running processes (API servers, job workers).

CPython's cyclic collector runs its youngest generation every 700 net allocations of container
objects and, every hundredth of those, a full collection that walks every object the process
holds: the application's modules, routes, schemas and mappings — several hundred thousand
objects that live as long as the process. Under load that full walk is a pause of tens of
milliseconds that every request in flight waits out, and the young collections keep tracing
the objects of the requests in flight (64 concurrent requests hold several thousand).

After startup, :func:`tune_garbage_collector` freezes what is alive (``gc.freeze``: those
objects are never traced again; memory they free by reference counting is still freed) and
raises the first threshold above what concurrent requests hold, so collections run less often
and trace only what was created since. Cyclic garbage made of frozen objects is never
collected; startup creates little of it (a collection runs first). Measured in
docs/performance.md.
"""

from __future__ import annotations

import gc

import structlog

logger = structlog.get_logger("dossier.memory")

FIRST_THRESHOLD = 10_000


def tune_garbage_collector() -> None:
    """Collect, freeze the survivors, and raise the youngest generation's threshold."""
    gc.collect()
    gc.freeze()
    _, second, third = gc.get_threshold()
    gc.set_threshold(FIRST_THRESHOLD, second, third)
    logger.info("gc_tuned", frozen=gc.get_freeze_count(), threshold=FIRST_THRESHOLD)
