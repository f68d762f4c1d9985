"""Who serves ``DOSSIER_METRICS_PORT``.

In one process the app starts prometheus-client's HTTP server on that port at startup. With
several processes (prometheus-client's multiprocess mode, ``PROMETHEUS_MULTIPROC_DIR`` set)
only the first worker could bind it and every other one would fail to start; there the
supervising process serves the port instead, with the sum over every worker's samples —
gunicorn's master (``deploy/gunicorn.conf.py``, ``when_ready``) or the parent process of
``dossier serve --workers N`` — and the workers serve nothing on it.

Kept apart from :mod:`dossier.core.metrics` so that a supervisor can import it without
creating the service's own metrics (and their sample files) in its own process.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, multiprocess, start_http_server

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def reset_multiprocess_dir(directory: str) -> None:
    """Empty (or create) the samples folder; stale files of an earlier run would be summed."""
    path = Path(directory)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)


def serve_workers_metrics(port: int, host: str) -> WSGIServer:
    """Serve the sum over all worker processes on ``port`` from a daemon thread of this
    (supervising) process; every scrape reads the workers' sample files afresh."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    server, _thread = start_http_server(port, host, registry=registry)
    return server
