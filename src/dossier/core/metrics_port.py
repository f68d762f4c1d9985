"""Who serves ``DOSSIER_METRICS_PORT``.

In one process the app starts prometheus-client's HTTP server on that port at startup. With
several worker processes only the first to bind it could start; there the supervising process
serves the port instead, with the sum over every worker's samples (prometheus-client's
multiprocess mode, ``PROMETHEUS_MULTIPROC_DIR``) — gunicorn's master (``deploy/gunicorn.conf.py``,
``when_ready``) or the parent process of ``dossier serve --workers N`` — and says so to the
workers it starts through :data:`SUPERVISOR_ENV`, so they do not bind it.

Kept apart from :mod:`dossier.core.metrics` so that a supervisor can import it without
creating the service's own metrics (and their sample files) in its own process. It imports
prometheus-client only when serving: prometheus-client chooses between in-process and
multiprocess values when it is first imported, from ``PROMETHEUS_MULTIPROC_DIR``, and forked
workers inherit that choice — so the folder must be named before.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Set by a supervisor serving the metrics port; inherited by its workers. Not a setting.
SUPERVISOR_ENV = "DOSSIER_METRICS_PORT_SERVED_BY_SUPERVISOR"


def multiprocess_dir() -> str | None:
    """The samples folder of prometheus-client's multiprocess mode, when it is on."""
    return os.environ.get(MULTIPROC_ENV) or None


def use_samples_dir() -> str | None:
    """Make ``PROMETHEUS_MULTIPROC_DIR`` name a folder for the workers about to be started:
    the one given, emptied, or else a new temporary one, which is returned (its maker removes
    it at exit)."""
    directory = multiprocess_dir()
    if directory is not None:
        reset_multiprocess_dir(directory)
        return None
    directory = tempfile.mkdtemp(prefix="dossier-prometheus-")
    os.environ[MULTIPROC_ENV] = directory  # inherited by the workers started from now on
    return directory


def supervisor_serves_port() -> bool:
    return os.environ.get(SUPERVISOR_ENV) == "1"


def mark_supervised() -> None:
    """Tell the workers started from now on to leave the metrics port alone."""
    os.environ[SUPERVISOR_ENV] = "1"


def reset_multiprocess_dir(directory: str) -> None:
    """Empty (or create) the samples folder: stale files of an earlier run would be summed.
    Its contents only, so that the folder may be a mount point."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for entry in path.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def serve_workers_metrics(port: int, host: str) -> WSGIServer:
    """Serve the sum over all worker processes on ``port`` from a daemon thread of this
    (supervising) process; every scrape reads the workers' sample files afresh. Workers
    started after this call leave the port alone."""
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    server, _thread = start_http_server(port, host, registry=registry)
    mark_supervised()
    return server
