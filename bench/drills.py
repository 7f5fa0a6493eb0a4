"""Fault drills: faults made on purpose while activities are recorded through the API, and
whether every accepted activity is counted by the reporting service, once.

    python -m bench.drills [--activities 1000] [--outage 30]

Each drill starts the services in child processes on schemas and topics of its own, with
the demo's registry, records `--activities` activities (eight at a time, each with an
Idempotency-Key, retried on a dropped connection) and makes its fault midway:

- broker:    the Kafka broker stopped for `--outage` seconds, then started again;
- postgres:  PostgreSQL stopped and started again;
- kill -9:   each service in turn killed (SIGKILL) mid-stream, started again on its port
             (the activities service while it records: clients retry with the same key);
- replicas:  two processes of every service on the same schemas, topics and consumer
             groups, the load split between the two activities processes.

Then it waits for the reporting service to count, and prints a table: accepted (answered
201), counted (activities in force in the projection), lost (accepted, not counted),
counted twice (the province totals' count past the activities in force; below zero, the
totals miss some), seconds. The
broker and PostgreSQL drills need the local stack (they stop and start its servers).
"""

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import text

from bench.activities_throughput import activity, prepare, wait_heard
from bench.common import (
    SERVICES,
    STARTED,
    drop_schemas,
    fresh_places,
    issuer,
    service_process,
    signed_client,
)
from shared.db import create_engine
from shared.devstack import Endpoints, LocalStack, provided_endpoints

CONCURRENCY = 8


@dataclass
class Outcome:
    drill: str
    accepted: int
    counted: int
    counted_twice: int
    seconds: float

    @property
    def lost(self) -> int:
        return self.accepted - self.counted


@dataclass
class Running:
    """The services of a drill: their URLs (one list per service) and processes."""

    urls: dict[str, list[str]]
    processes: dict[str, list[subprocess.Popen[bytes]]]
    schemas: dict[str, str]
    endpoints: Endpoints
    topics: dict[str, str]
    ports: dict[str, list[int]]


@asynccontextmanager
async def services(endpoints: Endpoints, replicas: int = 1) -> AsyncIterator[Running]:
    schemas, topics = await fresh_places(endpoints, "drill")
    running = Running({s: [] for s in SERVICES}, {s: [] for s in SERVICES}, schemas, endpoints,
                      topics, {s: [] for s in SERVICES})  # fmt: skip
    try:
        with ExitStack() as stack:
            for service in SERVICES:
                for _replica in range(replicas):
                    url = stack.enter_context(
                        service_process(service, endpoints, database_schema=schemas[service],
                                        **topics)
                    )  # fmt: skip
                    running.urls[service].append(url)
                    running.processes[service].append(STARTED[url])
                    running.ports[service].append(int(url.rsplit(":", 1)[1]))
            try:
                yield running
            finally:  # a process a drill started again is not the stack's to stop
                for process in [p for ps in running.processes.values() for p in ps]:
                    if process.poll() is None:
                        process.terminate()
                        with contextlib.suppress(subprocess.TimeoutExpired):
                            process.wait(10)
    finally:
        await drop_schemas(endpoints.database_url, *schemas.values())


async def record(
    urls: list[str], count: int, midway: Callable[[], Coroutine[Any, Any, None]]
) -> int:
    """Record `count` activities over `urls` in turn; `midway` runs once a quarter of them
    were answered, while recording goes on. Returns how many were accepted."""
    accepted = 0
    done = 0
    fault: asyncio.Task[None] | None = None
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)

    async def worker(client_of: Callable[[int], httpx.AsyncClient]) -> None:
        nonlocal accepted, done, fault
        while not queue.empty():
            n = queue.get_nowait()
            body, key = activity(n), str(uuid.uuid4())
            answer: httpx.Response | None = None
            for _attempt in range(120):  # a service restarting: the same request again
                try:
                    answer = await client_of(n).post(
                        "/activities", json=body, headers={"Idempotency-Key": key}
                    )
                except httpx.TransportError:
                    await asyncio.sleep(0.5)
                    continue
                if answer.status_code < 500:
                    break
                await asyncio.sleep(0.5)
            accepted += answer is not None and answer.status_code == 201
            done += 1
            if fault is None and done >= count // 4:
                fault = asyncio.create_task(midway())

    async with contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(signed_client(url, timeout=60)) for url in urls]
        await asyncio.gather(*(worker(lambda n: clients[n % len(clients)])
                               for _ in range(CONCURRENCY)))  # fmt: skip
        if fault is not None:
            await fault
    return accepted


async def counted(running: Running, expected: int, timeout: float = 300) -> tuple[int, int]:
    """Once the reporting service has counted `expected` activities of the drill (or the
    timeout passed): (activities in force, what the province totals count)."""
    engine = create_engine(running.endpoints.database_url, running.schemas["reporting"])
    deadline = time.monotonic() + timeout
    try:
        while True:
            async with engine.connect() as conn:
                in_force = int(await conn.scalar(text(
                    "SELECT count(*) FROM activity_versions WHERE valid_to IS NULL "
                    "AND NOT voided AND facts->>'description' LIKE 'Tặng quà hộ nghèo, đợt %'"
                )) or 0)  # fmt: skip
                totals = int(await conn.scalar(text(
                    "SELECT coalesce(sum(activities), 0) FROM province_totals "
                    "WHERE province = '60' AND category = 'gifts_in_kind'"
                )) or 0)  # fmt: skip
            if in_force >= expected or time.monotonic() > deadline:
                return in_force, totals
            await asyncio.sleep(1)
    finally:
        await engine.dispose()


async def baseline_gifts(running: Running) -> int:
    """Gifts in Bình Thuận the demo recorded, before the drill's."""
    engine = create_engine(running.endpoints.database_url, running.schemas["reporting"])
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(text(
                "SELECT coalesce(sum(activities), 0) FROM province_totals "
                "WHERE province = '60' AND category = 'gifts_in_kind'"
            )) or 0)  # fmt: skip
    finally:
        await engine.dispose()


Fault = Callable[[Running], Coroutine[Any, Any, None]]


async def drill(
    name: str, endpoints: Endpoints, count: int, fault: Fault, replicas: int = 1
) -> Outcome:
    async with services(endpoints, replicas) as running:
        await prepare(endpoints, running.schemas["registry"], running.urls["registry"][0])
        await wait_heard(endpoints, running.schemas["activities"])
        await asyncio.sleep(3)  # the reporting service hears the demo's registry too
        before = await baseline_gifts(running)
        started = time.perf_counter()
        accepted = await record(running.urls["activities"], count, lambda: fault(running))
        in_force, totals = await counted(running, accepted)
        seconds = time.perf_counter() - started
        # signed: below zero, the totals miss activities the versions have
        return Outcome(name, accepted, in_force, totals - before - in_force, seconds)


def broker_outage(seconds: float) -> Fault:
    async def fault(_running: Running) -> None:
        stack = LocalStack()
        pid = stack.state().kafka_pid
        if pid is None:
            raise RuntimeError("the broker drill needs the local stack's broker")
        await asyncio.to_thread(stack.kafka.stop, pid)
        await asyncio.sleep(seconds)
        await stack_up()

    return fault


def kill(service: str) -> Fault:
    """SIGKILL to `service` mid-stream; started again on its port."""

    async def fault(running: Running) -> None:
        [process] = running.processes[service]
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        await asyncio.sleep(2)
        environment = {**os.environ, **running.endpoints.environment(),
                       "DATABASE_SCHEMA": running.schemas[service],
                       **{k.upper(): v for k, v in running.topics.items()}}  # fmt: skip
        # stopped with the drill's other processes (`services`)
        running.processes[service] = [restart(service, running.ports[service][0], environment)]

    return fault


async def postgres_restart(_running: Running) -> None:
    """PostgreSQL stopped (fast shutdown: sessions cut) and started again at once."""
    stack = LocalStack()
    pid = stack.state().postgres_pid
    if pid is None:
        raise RuntimeError("the PostgreSQL drill needs the local stack's server")
    # SIGINT: PostgreSQL's fast shutdown (its sessions cut, as a crash of the server
    # would); SIGTERM would wait for the services to disconnect.
    os.kill(pid, signal.SIGINT)
    lock = stack.postgres.data_dir / "postmaster.pid"
    for _attempt in range(300):
        if not lock.exists():
            break
        await asyncio.sleep(0.1)
    await stack_up()


async def stack_up() -> None:
    """The stopped server started again as an operator would, by `python -m
    shared.devstack up` (started from inside a drill, the broker did not come up)."""
    started = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "shared.devstack", "up", stdout=asyncio.subprocess.DEVNULL
    )
    if await started.wait() != 0:
        raise RuntimeError("python -m shared.devstack up failed")


def restart(service: str, port: int, environment: dict[str, str]) -> subprocess.Popen[bytes]:
    """`service` again on `port`, trusting the drill's issuer as the first process did."""
    environment |= {"LOG_LEVEL": "WARNING", "AUTH_ISSUER": issuer().issuer,
                    "AUTH_JWKS_URL": issuer().jwks_url}  # fmt: skip
    app = f"services.{service}.entrypoints.http:create_app"
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "--port", str(port), "--no-access-log", app],
        env=environment,
    )


async def nothing(_running: Running) -> None:
    return None


async def run(endpoints: Endpoints, count: int, outage: float, only: list[str]) -> None:
    drills: dict[str, tuple[Fault, int]] = {
        "broker stopped": (broker_outage(outage), 1),
        "postgres restarted": (postgres_restart, 1),
        **{f"kill -9 {service}": (kill(service), 1) for service in SERVICES},
        "two replicas": (nothing, 2),
    }
    outcomes = []
    for name, (fault, replicas) in drills.items():
        if only and not any(word in name for word in only):
            continue
        outcomes.append(await drill(name, endpoints, count, fault, replicas))
        print(f"  {name}: done", flush=True)
    print(f"{'drill':<20} {'accepted':>9} {'counted':>8} {'lost':>5} {'twice':>6} {'s':>6}")
    for o in outcomes:
        print(f"{o.drill:<20} {o.accepted:>9} {o.counted:>8} {o.lost:>5} "
              f"{o.counted_twice:>6} {o.seconds:>6.0f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--activities", type=int, default=1000)
    parser.add_argument("--outage", type=float, default=30)
    parser.add_argument("only", nargs="*", help="drills whose name has one of these words")
    args = parser.parse_args()
    with provided_endpoints() as endpoints:
        asyncio.run(run(endpoints, args.activities, args.outage, args.only))


if __name__ == "__main__":
    main()
