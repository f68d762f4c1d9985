"""Shared benchmark plumbing: servers pinned to one core, wrk pinned to the other.

Every scenario compares against a raw ASGI baseline measured in the same run on the same
machine, and reports ratios with p50/p99 — never a single absolute figure.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PERFORMANCE_DOC = ROOT / "docs" / "performance.md"
SERVER_CPU = "0"
LOAD_CPU = "1"


@dataclass(frozen=True)
class Result:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int

    def ratio_to(self, baseline: Result) -> float:
        return self.requests_per_second / baseline.requests_per_second


def median_result(name: str, runs: list[Result]) -> Result:
    """One row from repeated runs: the median of each figure, errors summed."""
    return Result(
        name,
        statistics.median(run.requests_per_second for run in runs),
        statistics.median(run.p50_ms for run in runs),
        statistics.median(run.p99_ms for run in runs),
        sum(run.errors for run in runs),
    )


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing; installing it from Debian's packages", file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        subprocess.run(["apt-get", "update"], check=False, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("could not install wrk")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pinned(command: list[str], cpu: str) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", cpu, *command]
    return command


@contextlib.contextmanager
def serve(
    app: str,
    *,
    env: Mapping[str, str] | None = None,
    factory: bool = False,
    ready_path: str = "/",
    cpu: str = SERVER_CPU,
) -> Iterator[str]:
    """Run ``uvicorn APP`` (one process, uvloop + httptools) and yield its base URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    if factory:
        command.append("--factory")
    process_env = {**os.environ, **(env or {})}
    process = subprocess.Popen(
        _pinned(command, cpu),
        env=process_env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                error = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"{app} exited: {error[-2000:]}")
            try:
                httpx.get(base + ready_path, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{app} did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


_LATENCY = re.compile(r"^\s*(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_ERRORS = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)|Socket errors:.*?timeout (\d+)")


def _to_ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(
    name: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    connections: int = 64,
    duration_s: int = 10,
    threads: int = 2,
    warmup_s: int = 2,
) -> Result:
    wrk = ensure_wrk()
    header_args = [
        arg for key, value in (headers or {}).items() for arg in ("-H", f"{key}: {value}")
    ]
    base = [wrk, f"-t{threads}", f"-c{connections}", "--latency", *header_args]
    subprocess.run(
        _pinned([*base, f"-d{warmup_s}s", url], LOAD_CPU), check=True, capture_output=True
    )
    output = subprocess.run(
        _pinned([*base, f"-d{duration_s}s", url], LOAD_CPU),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    latencies = {pct: _to_ms(value, unit) for pct, value, unit in _LATENCY.findall(output)}
    rps = _RPS.search(output)
    errors = sum(int(a or b or 0) for a, b in _ERRORS.findall(output))
    if rps is None or "50" not in latencies or "99" not in latencies:
        raise RuntimeError(f"could not read wrk output:\n{output}")
    return Result(name, float(rps.group(1)), latencies["50"], latencies["99"], errors)


def table(results: list[Result], baseline: Result) -> str:
    lines = [
        "| scenario | req/s | ratio to raw ASGI | p50 ms | p99 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        lines.append(
            f"| {result.name} | {result.requests_per_second:,.0f} | "
            f"{result.ratio_to(baseline):.2f}x | {result.p50_ms:.2f} | {result.p99_ms:.2f} | "
            f"{result.errors} |"
        )
    return "\n".join(lines)


def machine_line() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {sys.version.split()[0]}, "
        f"server pinned to core {SERVER_CPU}, wrk to core {LOAD_CPU}; "
        f"{time.strftime('%Y-%m-%d', time.gmtime())}"
    )


def write_section(name: str, markdown: str) -> None:
    """Replace the ``name`` section of docs/performance.md (between its markers)."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    text = PERFORMANCE_DOC.read_text() if PERFORMANCE_DOC.exists() else "# Performance\n"
    block = f"{start}\n{markdown.strip()}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    PERFORMANCE_DOC.write_text(text)
