"""Prometheus metrics: route templates not raw paths, token protection, several processes."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from prometheus_client import REGISTRY

from dossier.app import create_app
from dossier.config import Settings
from tests.conftest import SESSION_TAG, TEST_REDIS_URL
from tests.helpers import assert_problem


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_requests_are_counted_by_route_template(client: httpx.AsyncClient) -> None:
    before = sample("dossier_http_requests_total", method="GET", route="/health/live", status="200")
    for _ in range(3):
        await client.get("/health/live")
    await client.get("/no/such/path/123")
    after = sample("dossier_http_requests_total", method="GET", route="/health/live", status="200")
    assert after - before == 3

    for method in ("BREW", "X-RANDOM-1", "X-RANDOM-2"):
        await client.request(method, "/health/live")
    other = sample(
        "dossier_http_requests_total", method="OTHER", route="/health/live", status="405"
    )
    assert other >= 3

    exposition = (await client.get("/metrics")).text
    assert "BREW" not in exposition  # methods are a closed set
    assert "X-RANDOM" not in exposition
    assert 'route="/health/live"' in exposition
    assert "/no/such/path/123" not in exposition  # raw paths never become labels
    assert 'route="<unmatched>"' in exposition
    for name in (
        "dossier_http_request_duration_seconds_bucket",
        "dossier_http_requests_in_flight",
        "dossier_db_pool_connections_in_use",
    ):
        assert name in exposition


async def test_pool_gauge_follows_checkouts(client: httpx.AsyncClient) -> None:
    from dossier.db.engine import Database

    database: Database = client._transport.app.state.database  # type: ignore[attr-defined]
    baseline = sample("dossier_db_pool_connections_in_use")
    async with database.engine.connect():
        assert sample("dossier_db_pool_connections_in_use") == baseline + 1
    assert sample("dossier_db_pool_connections_in_use") == baseline


async def test_metrics_token_protects_the_endpoint(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(metrics_token="s3cret-metrics-token"), configure_logs=False)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            assert_problem(await http.get("/metrics"), 401, "not_authenticated")
            wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            ok = await http.get(
                "/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"}
            )
            assert ok.status_code == 200
            assert ok.headers["content-type"].startswith("text/plain")


async def test_metrics_can_be_turned_off(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(metrics_enabled=False), configure_logs=False)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            assert (await http.get("/metrics")).status_code == 404


@pytest.mark.parametrize("samples_dir_set", [False, True])
async def test_one_process_serves_the_metrics_port_itself(
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    samples_dir_set: bool,
) -> None:
    # The image sets PROMETHEUS_MULTIPROC_DIR; a single process must still serve the port.
    if samples_dir_set:
        monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    metrics_port = _free_port()
    app = create_app(make_settings(metrics_port=metrics_port), configure_logs=False)
    async with httpx.AsyncClient(timeout=5) as scraper:
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                assert (await http.get("/metrics")).status_code == 404  # moved to its own port
            scraped = await scraper.get(f"http://127.0.0.1:{metrics_port}/")
        assert scraped.status_code == 200
        assert "dossier_http_requests_total" in scraped.text
        with pytest.raises(httpx.ConnectError):  # the listening socket is closed at shutdown
            await scraper.get(f"http://127.0.0.1:{metrics_port}/")
    with socket.socket() as again:
        # As a server binds (the scrape's closed connection may linger in TIME_WAIT): this
        # fails only while something still listens on the port.
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", metrics_port))
        again.listen()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _live_count(exposition: str) -> float:
    for row in exposition.splitlines():
        if (
            row.startswith("dossier_http_requests_total{")
            and 'route="/health/live"' in row
            and 'status="200"' in row
        ):
            return float(row.rsplit(" ", 1)[1])
    return 0.0


def _wait_for(condition: Callable[[], object], what: str, seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return result


def _answers(port: int) -> bool:
    # A long timeout: a request given up on while it waits for a booting worker would still
    # be answered, and counted, later.
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=30).status_code == 200
    except httpx.TransportError:
        return False


@contextlib.contextmanager
def _server(
    command: list[str], env: dict[str, str], port: int
) -> Iterator[subprocess.Popen[bytes]]:
    """A real server process, from the first answer of ``/health/live`` to its shutdown."""
    log = Path(env["TMPDIR"]) / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:

        def started() -> bool:
            assert process.poll() is None, "the server exited"
            return _answers(port)

        _wait_for(started, "the server to start")
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            tail = log.read_text(errors="replace")[-3000:]
            raise AssertionError(f"the server did not stop within 30 s:\n{tail}") from None


def _server_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DOSSIER_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(
        DOSSIER_DATABASE_URL=database_url,
        DOSSIER_DATA_DIR=str(tmp_path / "data"),
        DOSSIER_LOG_LEVEL="WARNING",
        # As for every app of the suite (conftest): no embedded job workers. They would run
        # what earlier tests left queued in the shared test database, and a worker process
        # finishing such a job at shutdown outlasts the wait below.
        DOSSIER_WORKER_CONCURRENCY="0",
        TMPDIR=str(tmp_path),  # temporary samples folders are made here
        **extra,
    )
    return env


def _samples_dirs(tmp_path: Path) -> set[Path]:
    return set(tmp_path.glob("dossier-prometheus-*"))


def _gunicorn_env(
    database_url: str, tmp_path: Path, port: int, workers: int, **extra: str
) -> dict[str, str]:
    return _server_env(
        database_url,
        tmp_path,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS=str(workers),
        **extra,
    )


def _children(process: subprocess.Popen[bytes]) -> list[str]:
    """The command lines of the process's children."""
    path = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    return [
        Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        for pid in path.read_text().split()
    ]


def _scraped_live_count(metrics_url: str, settled: Callable[[float], bool]) -> float:
    """The /health/live counter once ``settled(count)`` holds: a worker counts a request just
    after sending its response, so a scrape right after the response may not see it yet."""
    deadline = time.monotonic() + 10
    while True:
        count = _live_count(httpx.get(metrics_url, timeout=5).text)
        if settled(count) or time.monotonic() > deadline:
            return count
        time.sleep(0.1)


def _count_live_requests(port: int, metrics_url: str, requests: int = 40) -> float:
    """Requests to /health/live on new connections (the kernel spreads them over the
    workers), and how much the scraped counter grew meanwhile."""
    last: list[float] = []

    def steady(count: float) -> bool:  # the same in two scrapes in a row
        last.append(count)
        return len(last) > 1 and last[-2] == count

    before = _scraped_live_count(metrics_url, steady)
    for _ in range(requests):
        assert httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=5).status_code == 200
    after = _scraped_live_count(metrics_url, lambda count: count - before >= requests)
    return after - before


GUNICORN_CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py"
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG)]


def test_counts_are_aggregated_over_gunicorn_worker_processes(
    database_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    multiproc = tmp_path / "prom"
    env = _gunicorn_env(database_url, tmp_path, port, 2, PROMETHEUS_MULTIPROC_DIR=str(multiproc))
    with _server(GUNICORN, env, port):
        # Every request counted once, whichever process answered the scrape.
        assert _count_live_requests(port, f"http://127.0.0.1:{port}/metrics") == 40
        pids = {
            match.group(1)
            for path in multiproc.iterdir()
            if (match := re.search(r"_(\d+)\.db$", path.name))
        }
        assert len(pids) >= 2, "expected samples from two worker processes"


def test_gunicorn_master_serves_the_metrics_port_for_all_workers(
    database_url: str, tmp_path: Path
) -> None:
    # Each worker binding DOSSIER_METRICS_PORT would fail after the first; no
    # PROMETHEUS_MULTIPROC_DIR given either: the config file makes a temporary one.
    port, metrics_port = _free_port(), _free_port()
    env = _gunicorn_env(database_url, tmp_path, port, 2, DOSSIER_METRICS_PORT=str(metrics_port))
    before = _samples_dirs(tmp_path)
    with _server(GUNICORN, env, port) as master:
        assert httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).status_code == 404
        assert _count_live_requests(port, f"http://127.0.0.1:{metrics_port}/") == 40
        assert len(_children(master)) == 2  # both workers started and stayed up
        assert len(_samples_dirs(tmp_path) - before) == 1  # the config made one
    assert _samples_dirs(tmp_path) == before  # the temporary samples folder is gone


def _new_master(old: subprocess.Popen[bytes]) -> int | None:
    """The master USR2 started: the old master's child that has children (workers) of its own."""
    path = Path(f"/proc/{old.pid}/task/{old.pid}/children")
    for pid in path.read_text().split():
        children = Path(f"/proc/{pid}/task/{pid}/children")
        if children.exists() and children.read_text().split():
            return int(pid)
    return None


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


def test_gunicorn_upgrade_hands_over_the_metrics_port_and_the_samples(
    database_url: str, tmp_path: Path
) -> None:
    # USR2 starts a new master next to the old one; once the old one stops, the new master
    # serves the metrics port, the counts go on from the shared samples folder, and the new
    # master removes the temporary folder at its exit.
    port, metrics_port = _free_port(), _free_port()
    env = _gunicorn_env(database_url, tmp_path, port, 1, DOSSIER_METRICS_PORT=str(metrics_port))
    scrape = f"http://127.0.0.1:{metrics_port}/"
    # The console script, as in the image: USR2 re-executes the master's command line, and
    # `python -m gunicorn` would run gunicorn/__main__.py as a script (its own `http` package
    # then shadows the standard library's).
    script = [str(Path(sys.executable).with_name("gunicorn")), "-c", str(GUNICORN_CONFIG)]

    def counted() -> float | None:
        try:
            return _live_count(httpx.get(scrape, timeout=2).text)
        except httpx.TransportError:
            return None

    with _server(script, env, port) as old:
        assert _count_live_requests(port, scrape, requests=10) == 10
        before_upgrade = counted()
        assert before_upgrade is not None
        old.send_signal(signal.SIGUSR2)
        new = _wait_for(lambda: _new_master(old), "the new master and its worker")
        try:
            old.terminate()
            old.wait(timeout=30)
            _wait_for(lambda: counted() is not None, "the new master to serve the metrics port")
            assert counted() == before_upgrade  # the old worker's counts are still in the sum
            _wait_for(lambda: _answers(port), "the new worker to answer")
            assert _count_live_requests(port, scrape, requests=10) == 10
        finally:
            os.kill(new, signal.SIGTERM)
            _wait_for(lambda: _gone(new), "the new master to stop")
    assert not _samples_dirs(tmp_path)


@pytest.mark.redis
@pytest.mark.parametrize("on_own_port", [False, True])
def test_dossier_serve_sums_the_metrics_of_its_workers(
    database_url: str, tmp_path: Path, on_own_port: bool
) -> None:
    if TEST_REDIS_URL is None:
        pytest.skip("several processes need Redis (DOSSIER_TEST_REDIS_URL)")
    port, metrics_port = _free_port(), _free_port()
    extra = {"DOSSIER_METRICS_PORT": str(metrics_port)} if on_own_port else {}
    env = _server_env(
        database_url,
        tmp_path,
        DOSSIER_REDIS_URL=TEST_REDIS_URL,
        DOSSIER_REDIS_KEY_PREFIX=f"dossier-test:{SESSION_TAG}:serve:",
        **extra,
    )
    command = [sys.executable, "-m", "dossier", "serve", "--workers", "2", "--port", str(port)]
    scrape = (
        f"http://127.0.0.1:{metrics_port}/" if on_own_port else f"http://127.0.0.1:{port}/metrics"
    )
    before = _samples_dirs(tmp_path)
    with _server(command, env, port) as parent:
        assert _count_live_requests(port, scrape) == 40
        # uvicorn's workers (multiprocessing's spawn), not its resource tracker
        assert sum("spawn_main" in child for child in _children(parent)) == 2
        assert len(_samples_dirs(tmp_path) - before) == 1  # dossier serve made one
    assert _samples_dirs(tmp_path) == before  # its temporary samples folder is gone


def test_in_process_request_metrics_expose_what_prometheus_client_would() -> None:
    """One process keeps the request metrics as plain numbers; a scrape must read exactly as
    prometheus-client's own counter and histogram (bucket edges included: ``le`` is <=)."""
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

    from dossier.core import metrics

    ours = metrics._InProcessHttpMetrics()
    theirs = CollectorRegistry()
    requests = Counter(metrics.REQUESTS_NAME, "h", ["method", "route", "status"], registry=theirs)
    latency = Histogram(
        metrics.LATENCY_NAME,
        "h",
        ["method", "route"],
        buckets=metrics.LATENCY_BUCKETS,
        registry=theirs,
    )
    in_flight = Gauge(metrics.IN_FLIGHT_NAME, "h", registry=theirs)
    observations = [
        ("GET", "/a", 200, 0.0),
        ("GET", "/a", 200, 0.001),  # exactly on a bound
        ("GET", "/a", 404, 0.0011),
        ("POST", "/b", 201, 10.0),
        ("POST", "/b", 201, 11.5),  # above the last bound: +Inf only
        ("GET", "/a", 200, 0.3),
    ]
    for method, route, status, duration in observations:
        ours.started()
        ours.finished(method, route, status, duration)
        requests.labels(method, route, str(status)).inc()
        latency.labels(method, route).observe(duration)
    ours.started()  # one still running
    in_flight.inc()

    def samples(metric_families: object) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in metric_families  # type: ignore[attr-defined]
            for sample in family.samples
        }

    expected = samples(theirs.collect())
    got = samples(ours.collect())
    assert got.keys() == expected.keys()  # the same series, `_created` ones included
    created = {key for key in got if key[0].endswith("_created")}
    assert len(created) == 5  # 3 counter series, 2 histogram series
    for key in created:  # creation times: when each series was first seen
        assert got[key] == pytest.approx(expected[key], abs=5)
    values = {key: value for key, value in got.items() if key not in created}
    assert values == pytest.approx({key: expected[key] for key in values})
    assert got[(metrics.IN_FLIGHT_NAME, ())] == 1
