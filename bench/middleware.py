"""What the whole middleware stack costs: the same route with and without it, same run.

``GET /health/live`` is served by the full app and by ``app.router`` (the same routes and
dependencies without any middleware), next to the raw ASGI baseline. The access log writes
health checks at debug level, so the "every line logged" row runs with DOSSIER_LOG_LEVEL=DEBUG
to price the JSON access line too. Goal: the stack costs at most 15 % of throughput.
"""

from __future__ import annotations

import argparse
import tempfile

from bench.harness import Result, machine_line, run_wrk, serve, table, write_section

GOAL = 0.15


def _env(data_dir: str, **extra: str) -> dict[str, str]:
    return {
        "DOSSIER_DATA_DIR": data_dir,
        "DOSSIER_LOG_LEVEL": "INFO",
        "DOSSIER_RATE_LIMIT_ENABLED": "false",
        **extra,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10)
    args = parser.parse_args(argv)
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as data_dir:
        with serve("bench.baseline:app") as base:
            baseline = run_wrk("raw ASGI baseline", base + "/", duration_s=args.duration)
        with serve(
            "bench.apps:bare_app", env=_env(data_dir), factory=True, ready_path="/health/live"
        ) as base:
            bare = run_wrk(
                "route without middleware", base + "/health/live", duration_s=args.duration
            )
        with serve(
            "dossier.app:create_app_from_env",
            env=_env(data_dir),
            factory=True,
            ready_path="/health/live",
        ) as base:
            full = run_wrk(
                "route with the full stack", base + "/health/live", duration_s=args.duration
            )
        with serve(
            "dossier.app:create_app_from_env",
            env=_env(data_dir, DOSSIER_LOG_LEVEL="DEBUG"),
            factory=True,
            ready_path="/health/live",
        ) as base:
            logged = run_wrk(
                "full stack, every access line written",
                base + "/health/live",
                duration_s=args.duration,
            )
    results = [baseline, bare, full, logged]
    cost = 1 - full.requests_per_second / bare.requests_per_second
    cost_logged = 1 - logged.requests_per_second / bare.requests_per_second
    verdict = "meets" if cost <= GOAL else "misses"
    markdown = f"""## Middleware stack

{machine_line()}; 64 connections, {args.duration} s per row after a 2 s warm-up.

{table(results, baseline)}

The full stack costs **{cost:.0%}** of the route's throughput ({verdict} the ≤ {GOAL:.0%} goal);
**{cost_logged:.0%}** when every access line is written (health checks log at debug by default).
Reproduce with `make bench` (or `.venv/bin/python -m bench.run middleware`)."""
    write_section("middleware", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
