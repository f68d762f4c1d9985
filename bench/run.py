"""Run every benchmark scenario (or the ones named): ``python -m bench.run [name …]``.

Each scenario module has ``main(argv)`` and writes its own section of docs/performance.md.
"""

from __future__ import annotations

import importlib
import sys

SCENARIOS = ["middleware", "tasks", "jobs", "documents"]


def main() -> None:
    names = sys.argv[1:] or SCENARIOS
    for name in names:
        if name not in SCENARIOS:
            raise SystemExit(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
        print(f"=== bench: {name}", flush=True)
        importlib.import_module(f"bench.{name}").main([])


if __name__ == "__main__":
    main()
