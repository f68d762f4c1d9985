"""Run the benchmark scenarios: every ``bench/<name>.py`` with a ``main()`` (sync or async).

``python -m bench.run`` runs them all; ``python -m bench.run jobs`` only the named ones.
Modules starting with ``_`` are helpers, not scenarios. Add a scenario by adding a module.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def scenarios() -> list[str]:
    return sorted(
        path.stem
        for path in HERE.glob("*.py")
        if not path.stem.startswith("_") and path.stem != "run"
    )


def main(argv: list[str]) -> int:
    names = argv or scenarios()
    unknown = sorted(set(names) - set(scenarios()))
    if unknown:
        print(f"unknown scenarios: {', '.join(unknown)}; known: {', '.join(scenarios())}")
        return 2
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        entry = getattr(module, "main", None)
        if entry is None:
            continue
        print(f"\n## bench/{name}.py\n", flush=True)
        result = entry()
        if inspect.isawaitable(result):
            asyncio.run(result)  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
