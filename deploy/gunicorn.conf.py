"""Gunicorn settings for the scaled-out shape: N uvicorn workers behind Nginx.

Run: ``gunicorn -c deploy/gunicorn.conf.py`` (the app factory comes from the environment).
Prometheus multiprocess mode needs ``PROMETHEUS_MULTIPROC_DIR`` pointing at an empty,
writable folder; this file empties it at start and tells prometheus-client about dead workers.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
from pathlib import Path
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


def on_starting(_server: Any) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        path = Path(directory)
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)


def child_exit(_server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
