"""Signals for the metrics endpoint: counters and timings per kind, queue depth per status.

Registered on prometheus-client's default registry, so ``/metrics`` (``core/metrics.py``)
exports them; under gunicorn, prometheus-client's multiprocess mode aggregates them.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

JOBS_ENQUEUED = Counter("dossier_jobs_enqueued_total", "Jobs enqueued.", ["kind"])
JOBS_STARTED = Counter("dossier_jobs_started_total", "Job attempts started.", ["kind"])
JOBS_SUCCEEDED = Counter("dossier_jobs_succeeded_total", "Jobs that succeeded.", ["kind"])
JOBS_FAILED = Counter("dossier_jobs_failed_total", "Jobs failed permanently.", ["kind"])
JOBS_RETRIED = Counter("dossier_jobs_retried_total", "Attempts that will be retried.", ["kind"])
JOBS_DEAD = Counter("dossier_jobs_dead_total", "Jobs dead after their last attempt.", ["kind"])
JOBS_CANCELLED = Counter("dossier_jobs_cancelled_total", "Running jobs that stopped.", ["kind"])
JOBS_RELEASED = Counter("dossier_jobs_released_total", "Claims given back on shutdown.", ["kind"])
JOBS_LEASE_LOST = Counter(
    "dossier_jobs_lease_lost_total", "Attempts whose outcome did not count (lease lost).", ["kind"]
)
JOBS_REAPED = Counter("dossier_jobs_reaped_total", "Expired leases returned by the reaper.")
JOBS_PURGED = Counter("dossier_jobs_purged_total", "Finished jobs deleted by retention.")
JOB_DURATION = Histogram(
    "dossier_job_duration_seconds",
    "Handler run time per attempt.",
    ["kind"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800),
)
JOB_CLAIM_LATENCY = Histogram(
    "dossier_job_claim_latency_seconds",
    "From a job being due (run_at) to a worker claiming it.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60),
)
JOBS_QUEUE_DEPTH = Gauge(
    "dossier_jobs",
    "Jobs per status (refreshed by the workers' maintenance loop).",
    ["status"],
    # Every process reads the same table: under multiprocess mode report one value, not a sum.
    multiprocess_mode="max",
)
