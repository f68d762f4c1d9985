"""Gunicorn settings for the scaled-out shape: N uvicorn workers behind Nginx.

Run: ``gunicorn -c deploy/gunicorn.conf.py`` (the app factory comes from the environment).
Prometheus multiprocess mode needs ``PROMETHEUS_MULTIPROC_DIR`` pointing at a writable folder
(without it each worker would report only its own requests); this file uses a temporary one
when it is unset, empties it at start, tells prometheus-client about dead workers and removes a
temporary one at exit. With ``DOSSIER_METRICS_PORT`` set, the master serves that port (on
``DOSSIER_HOST``) with the sum over all workers (a worker cannot: only the first to bind it
would start).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import threading
import time
from typing import Any

from dossier.config import Settings
from dossier.core.metrics_port import (
    MULTIPROC_ENV,
    mark_supervised,
    multiprocess_dir,
    serve_workers_metrics,
    use_samples_dir,
)

wsgi_app = "dossier.app:create_app_from_env()"
worker_class = "uvicorn_worker.UvicornWorker"
_host = os.environ.get("DOSSIER_HOST", "0.0.0.0")  # noqa: S104
bind = os.environ.get("GUNICORN_BIND", f"{_host}:{os.environ.get('DOSSIER_PORT', '8000')}")
workers = int(os.environ.get("GUNICORN_WORKERS", str(max(2, multiprocessing.cpu_count()))))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
keepalive = 5
accesslog = None  # Dossier writes its own JSON access log with request ids
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# The temporary samples folder made here, named in the environment so that a configuration
# reload (HUP) and a new master started by USR2 (see pre_exec) still know it.
_TEMPORARY = "DOSSIER_PROMETHEUS_TEMPORARY_DIR"
_settings = Settings()  # the service's own settings (environment and .env), read once


def on_starting(server: Any) -> None:
    # In the master before any worker is forked, so every worker inherits the folder. A new
    # master started by USR2 (master_pid set) shares it with the old workers as it is.
    if _settings.metrics_enabled and not server.master_pid:
        temporary = use_samples_dir()
        if temporary is not None:
            os.environ[_TEMPORARY] = temporary


def when_ready(server: Any) -> None:
    port = _settings.metrics_port
    if not _settings.metrics_enabled or port is None:
        return
    # Before any worker is started, whether or not the port is free yet: they inherit it.
    mark_supervised()
    # In this thread, before the workers are forked: a fork while another thread imports or
    # holds a lock leaves that lock held forever in the child (a worker then hangs).
    try:
        serve_workers_metrics(port, _settings.host)
        return
    except OSError as exc:  # during a USR2 upgrade the old master holds it until it exits
        server.log.warning("metrics port %s busy, retrying every second: %s", port, exc)

    def retry() -> None:
        while True:
            time.sleep(1)
            with contextlib.suppress(OSError):
                serve_workers_metrics(port, _settings.host)
                return

    threading.Thread(target=retry, name="metrics-port", daemon=True).start()


def pre_exec(server: Any) -> None:
    # USR2 starts the new master with the environment gunicorn itself started with: hand it
    # the samples folder it shares with the old workers, and its ownership.
    for key in (MULTIPROC_ENV, _TEMPORARY):
        if key in os.environ:
            server.cfg.env_orig[key] = os.environ[key]


def child_exit(_server: Any, worker: Any) -> None:
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    temporary = os.environ.get(_TEMPORARY)
    # After USR2 the new master uses the folder (reexec_pid set): it removes it at its exit.
    if temporary and not server.reexec_pid:
        shutil.rmtree(temporary, ignore_errors=True)
