"""Gunicorn settings for the scaled-out shape: N uvicorn workers behind Nginx.

Run: ``gunicorn -c deploy/gunicorn.conf.py`` (the app factory comes from the environment).
Prometheus multiprocess mode needs ``PROMETHEUS_MULTIPROC_DIR`` pointing at an empty,
writable folder (without it each worker would report only its own requests); this file uses a
temporary one when it is unset, empties it at start, tells prometheus-client about dead workers
and removes a temporary one at exit.
With ``DOSSIER_METRICS_PORT`` set, the master serves that port with the sum over all workers
(a worker cannot: only the first to bind it would start).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from typing import Any

wsgi_app = "dossier.app:create_app_from_env()"
worker_class = "uvicorn_worker.UvicornWorker"
bind = os.environ.get(
    "GUNICORN_BIND",
    f"{os.environ.get('DOSSIER_HOST', '0.0.0.0')}:"  # noqa: S104
    f"{os.environ.get('DOSSIER_PORT', '8000')}",
)
workers = int(os.environ.get("GUNICORN_WORKERS", str(max(2, multiprocessing.cpu_count()))))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
keepalive = 5
accesslog = None  # Dossier writes its own JSON access log with request ids
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


# Set here, in the master before any worker is forked, so every worker inherits it.
_own_multiproc_dir: str | None = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _own_multiproc_dir = tempfile.mkdtemp(prefix="dossier-prometheus-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _own_multiproc_dir


def on_starting(_server: Any) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        from dossier.core.metrics_port import reset_multiprocess_dir

        reset_multiprocess_dir(directory)


def when_ready(_server: Any) -> None:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    from dossier.config import Settings

    settings = Settings()
    if settings.metrics_enabled and settings.metrics_port is not None:
        from dossier.core.metrics_port import serve_workers_metrics

        serve_workers_metrics(settings.metrics_port, settings.host)


def child_exit(_server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_exit(_server: Any) -> None:
    if _own_multiproc_dir is not None:
        shutil.rmtree(_own_multiproc_dir, ignore_errors=True)
