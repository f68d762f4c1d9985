"""What the whole middleware stack costs: the same route with and without it, same run.

``GET /health/live`` is served by the full app and by ``app.router`` (the same routes and
dependencies without any middleware), next to the raw ASGI baseline. The access log writes
health checks at debug level, so the "every line logged" row runs with DOSSIER_LOG_LEVEL=DEBUG
to price the JSON access line too, and the "every layer on" row turns on the layers that are
off by default (trusted proxies, trusted hosts, CORS origins, rate limits — the route is not
under /api/, so those pass it through). Goal: the stack costs at most 15 % of throughput.

The servers run side by side (one core, one loaded at a time) and are measured in
interleaved rounds of a few seconds; each row is the median of its rounds, and the cost is
computed from those medians. On this shared VM two identical servers measured a few seconds
apart differed by up to 20 % (2026-12-01); interleaving spreads that drift over every row.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from pathlib import Path

from bench.harness import (
    Result,
    machine_line,
    median_result,
    run_wrk,
    serve,
    table,
    write_section,
)

GOAL = 0.15


def _env(data_dir: str, **extra: str) -> dict[str, str]:
    return {
        "DOSSIER_DATA_DIR": data_dir,
        "DOSSIER_LOG_LEVEL": "INFO",
        "DOSSIER_RATE_LIMIT_ENABLED": "false",
        **extra,
    }


def _migrate(data_dir: str) -> None:
    """The embedded job worker then idles as in a real install (not failing every poll)."""
    from dossier.config import Settings
    from dossier.db.migrate import upgrade

    upgrade(Settings(_env_file=None, data_dir=Path(data_dir)))  # type: ignore[call-arg]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--duration", type=int, default=3, help="seconds per row and round")
    args = parser.parse_args(argv)
    rows = {
        "route without middleware": ("bench.apps:bare_app", {}),
        "route with the full stack": ("dossier.app:create_app_from_env", {}),
        "full stack, every access line written": (
            "dossier.app:create_app_from_env",
            {"DOSSIER_LOG_LEVEL": "DEBUG"},
        ),
        "full stack, every layer on": (
            "dossier.app:create_app_from_env",
            {
                "DOSSIER_TRUSTED_PROXIES": "127.0.0.1",
                "DOSSIER_TRUSTED_HOSTS": "127.0.0.1,localhost",
                "DOSSIER_CORS_ORIGINS": "https://app.example.com",
                "DOSSIER_RATE_LIMIT_ENABLED": "true",
            },
        ),
    }
    runs: dict[str, list[Result]] = {name: [] for name in rows}
    with tempfile.TemporaryDirectory() as data_dir:
        _migrate(data_dir)
        with serve("bench.baseline:app") as base:
            baseline = run_wrk("raw ASGI baseline", base + "/", duration_s=args.duration * 2)
        with contextlib.ExitStack() as stack:
            urls = {
                name: stack.enter_context(
                    serve(app, env=_env(data_dir, **extra), factory=True, ready_path="/health/live")
                )
                + "/health/live"
                for name, (app, extra) in rows.items()
            }
            for round_ in range(args.rounds):
                for name, url in urls.items():
                    runs[name].append(
                        run_wrk(
                            name,
                            url,
                            duration_s=args.duration,
                            warmup_s=2 if round_ == 0 else 1,
                        )
                    )
    medians = {name: median_result(name, runs[name]) for name in rows}
    bare, full, logged, every = medians.values()

    def cost_of(row: Result) -> float:
        return 1 - row.requests_per_second / bare.requests_per_second

    bare_runs, full_runs = runs["route without middleware"], runs["route with the full stack"]
    spread = [
        1 - f.requests_per_second / b.requests_per_second
        for b, f in zip(bare_runs, full_runs, strict=True)
    ]
    cost = cost_of(full)
    results = [baseline, *medians.values()]
    verdict = "meets" if cost <= GOAL else "misses"
    markdown = f"""## Middleware stack

{machine_line()}; 64 connections; the four servers measured in {args.rounds} interleaved
rounds of {args.duration} s (after a warm-up), each row the median of its rounds; rate limits
off except in the last row.

{table(results, baseline)}

The full stack costs **{cost:.0%}** of the route's throughput (from the medians; round by
round it ranged from {min(spread):.0%} to {max(spread):.0%}) — it {verdict} the ≤ {GOAL:.0%}
goal; **{cost_of(every):.0%}** with every optional layer on, **{cost_of(logged):.0%}** when
every access line is written (health checks log at debug by default).
Reproduce with `make bench` (or `.venv/bin/python -m bench.run middleware`)."""
    write_section("middleware", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
