"""Gunicorn settings for the scaled-out shape: N uvicorn workers behind Nginx.

Run: ``gunicorn -c deploy/gunicorn.conf.py`` (the app factory comes from the environment).
Prometheus multiprocess mode needs ``PROMETHEUS_MULTIPROC_DIR`` pointing at a writable folder
(without it each worker would report only its own requests); this file uses a temporary one
when it is unset, empties it at start, tells prometheus-client about dead workers and removes a
temporary one at exit. With ``DOSSIER_METRICS_PORT`` set, the master serves that port with the
sum over all workers (a worker cannot: only the first to bind it would start).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from typing import Any

from dossier.config import Settings

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
# reload (HUP) and a new master started by USR2 (which inherit it) still know it.
_TEMPORARY = "DOSSIER_PROMETHEUS_TEMPORARY_DIR"
_settings = Settings()  # the service's own settings (environment and .env), read once
if _settings.metrics_enabled and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Set here, in the master before any worker is forked, so every worker inherits it.
    os.environ[_TEMPORARY] = tempfile.mkdtemp(prefix="dossier-prometheus-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.environ[_TEMPORARY]


def on_starting(server: Any) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    # A new master started by USR2 (master_pid set) shares the folder with the old workers.
    if directory and not server.master_pid:
        from dossier.core.metrics_port import reset_multiprocess_dir

        reset_multiprocess_dir(directory)


def when_ready(server: Any) -> None:
    port = _settings.metrics_port
    if (
        not _settings.metrics_enabled
        or port is None
        or not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    ):
        return
    from dossier.core.metrics_port import serve_workers_metrics

    try:
        # Before any worker is started: they inherit the note that the port is taken care of.
        serve_workers_metrics(port, _host)
    except OSError as exc:  # e.g. still held by the old master during a USR2 upgrade
        server.log.error("cannot serve metrics on port %s: %s", port, exc)


def child_exit(_server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    temporary = os.environ.get(_TEMPORARY)
    # After USR2 the new master uses the folder (reexec_pid set): it removes it at its exit.
    if temporary and not server.reexec_pid:
        shutil.rmtree(temporary, ignore_errors=True)
