"""A process pool for extraction when no job engine provides one (CLI, benchmarks, tests)."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from dossier.documents.ingestion import RunCpu


def create_extraction_pool(processes: int) -> ProcessPoolExecutor:
    # forkserver: workers start from a clean process, not a fork of one running threads.
    context = multiprocessing.get_context("forkserver")
    return ProcessPoolExecutor(max_workers=processes, mp_context=context)


def pool_runner(pool: ProcessPoolExecutor) -> RunCpu:
    async def run_cpu(function: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(pool, function, *args)

    return run_cpu
