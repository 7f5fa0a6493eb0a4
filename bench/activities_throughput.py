"""Activities recorded per second through the HTTP API and through an import of a large
sheet, and the delay until they are on Kafka.

    python -m bench.activities_throughput [--requests 2000] [--concurrency 8] [--rows 100000]

The registry and the activities service run in child processes on schemas and topics of
their own; the registry gets the demo cases. Baselines in the same run: `/healthz` of the
activities service at the same concurrency (the HTTP ceiling), and reading the sheet
without recording anything (the parsing ceiling). The delay is measured by a plain
aiokafka consumer: from the moment the API answered (or the import finished) to the
moment the record arrived.
"""

import argparse
import asyncio
import io
import time
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from bench.common import drop_schemas, percentiles, service_process, signed_client
from services.activities.adapters.sheets import read_rows
from services.activities.adapters.tables import known_assignments
from services.activities.demo import import_and_wait
from services.activities.service_layer.imports import COLUMNS
from services.registry.adapters.admin_dataset import load_dataset
from services.registry.demo import load_demo
from services.registry.service_layer.admin_units import load_admin_units
from shared.db import create_engine
from shared.demo_cases import HOI_NONG_DAN_BT, demo_assignment_id
from shared.demo_cases import demo_unit_id as unit_id
from shared.devstack import Endpoints, provided_endpoints
from shared.kafka_security import KafkaAccess
from shared.migrations import upgrade

HAM_CAN = demo_assignment_id("60", "commune", "23116")
FIRST_DAY = date(2024, 9, 19)  # Hàm Cần's units joined; its commune was merged on 1/7/2025


class Arrivals:
    """Reads the activities topic and notes when each activity's first event arrives."""

    def __init__(self, kafka: KafkaAccess, topic: str) -> None:
        self.seen: dict[bytes, float] = {}
        self._consumer = AIOKafkaConsumer(
            topic, **kafka.aiokafka_options(), auto_offset_reset="earliest", group_id=None
        )

    async def run(self) -> None:
        await self._consumer.start()
        try:
            while True:
                batches = await self._consumer.getmany(timeout_ms=100, max_records=10_000)
                now = time.perf_counter()
                for records in batches.values():
                    for record in records:
                        subject = dict(record.headers).get("ce_subject", b"")
                        self.seen.setdefault(subject, now)
        finally:
            await self._consumer.stop()

    async def wait_for(self, count: int, timeout: float = 600) -> float:
        deadline = time.perf_counter() + timeout
        while len(self.seen) < count and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        return max(self.seen.values()) if self.seen else float("nan")


def activity(n: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "assignment_id": HAM_CAN,
        "commune": {"edition": "pre-2025", "code": "23116"},
        "occurred_on": (FIRST_DAY + timedelta(days=n % 280)).isoformat(),
        "category": "gifts_in_kind",
        "description": f"Tặng quà hộ nghèo, đợt {n}",
        "value_vnd": 500_000 + n,
        "sponsor_unit_id": unit_id("60", HOI_NONG_DAN_BT),
        "quantity": {"amount": 1, "unit": "suất"},
        "beneficiaries": [{"count": 1, "kind": "households", "group": "poor"}],
    }


def sheet(rows: int) -> bytes:
    book = Workbook(write_only=True)
    page = book.create_sheet("Hoạt động")
    page.append([column.header for column in COLUMNS])
    values = {
        "commune_code": "23116",
        "edition": "trước 2025",
        "unit": HOI_NONG_DAN_BT,
        "category": "Quà tặng bằng hiện vật",
        "amount": 1,
        "quantity_unit": "suất",
        "beneficiaries": 1,
        "beneficiary_kind": "Hộ",
        "beneficiary_group": "Hộ nghèo",
    }
    for n in range(rows):
        day = FIRST_DAY + timedelta(days=n % 280)
        row = {
            **values,
            "occurred_on": day.strftime("%d/%m/%Y"),
            "description": f"Quà hộ nghèo, dòng {n}",
            "value_vnd": 300_000 + n,
        }
        page.append([row.get(column.key) for column in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def timed_requests(
    client: httpx.AsyncClient, concurrency: int, calls: list[tuple[str, str, Any]]
) -> tuple[float, list[float], list[float]]:
    """(seconds, latencies in ms, answer times) of the calls, `concurrency` at a time."""
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    answered: list[float] = []

    async def call(method: str, path: str, body: Any) -> None:
        async with gate:
            started = time.perf_counter()
            response = await client.request(method, path, json=body)
            response.raise_for_status()
            answered.append(time.perf_counter())
            latencies.append((answered[-1] - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(call(*c) for c in calls))
    return time.perf_counter() - started, latencies, answered


async def prepare(endpoints: Endpoints, registry_schema: str, url: str) -> None:
    engine = create_engine(endpoints.database_url, registry_schema)
    try:
        async with engine.begin() as conn:
            await load_admin_units(conn, load_dataset())
    finally:
        await engine.dispose()
    async with signed_client(url, timeout=60) as client:
        await load_demo(client)


async def wait_heard(endpoints: Endpoints, schema: str) -> None:
    engine = create_engine(endpoints.database_url, schema)
    try:
        for _attempt in range(600):
            async with engine.connect() as conn:
                if await conn.scalar(select(func.count()).select_from(known_assignments)) == 17:
                    return
            await asyncio.sleep(0.1)
        raise RuntimeError("the activities service did not hear of the demo assignments")
    finally:
        await engine.dispose()


async def run(endpoints: Endpoints, requests: int, concurrency: int, rows: int) -> None:
    tag = uuid.uuid4().hex[:8]
    schemas = {"registry": f"bench_reg_{tag}", "activities": f"bench_act_{tag}"}
    topics = {"registry_topic": f"bench.registry.{tag}", "activities_topic": f"bench.act.{tag}"}
    for service, schema in schemas.items():
        await asyncio.to_thread(upgrade, service, endpoints.database_url, schema)
    try:
        with (
            service_process(
                "registry", endpoints, database_schema=schemas["registry"], **topics
            ) as registry_url,
            service_process(
                "activities", endpoints, database_schema=schemas["activities"], **topics
            ) as url,
        ):
            await prepare(endpoints, schemas["registry"], registry_url)
            await wait_heard(endpoints, schemas["activities"])
            await measure(endpoints, url, topics["activities_topic"], requests, concurrency, rows)
    finally:
        await drop_schemas(endpoints.database_url, *schemas.values())


async def measure(
    endpoints: Endpoints, url: str, topic: str, requests: int, concurrency: int, rows: int
) -> None:
    arrivals = Arrivals(endpoints.kafka(), topic)
    reading = asyncio.create_task(arrivals.run())
    limits = httpx.Limits(max_connections=concurrency)
    async with signed_client(url, timeout=600, limits=limits) as client:
        health = [("GET", "/healthz", None)] * requests
        baseline, _, _ = await timed_requests(client, concurrency, health)
        bodies = [activity(n) for n in range(requests)]
        posts = [("POST", "/activities", body) for body in bodies]
        seconds, latencies, answered = await timed_requests(client, concurrency, posts)
        await arrivals.wait_for(requests)
        print(f"HTTP, {requests:,} requests, {concurrency} at a time:")
        print(f"  baseline GET /healthz        {requests / baseline:8,.0f} requests/s")
        print(f"  POST /activities             {requests / seconds:8,.0f} activities/s")
        print(f"  POST latency (ms)            {percentiles(latencies)}")
        answered_at = {b["id"].encode(): t for b, t in zip(bodies, sorted(answered), strict=True)}
        delays = [
            (arrivals.seen[key] - answered_at[key]) * 1000
            for key in answered_at
            if key in arrivals.seen
        ]
        print(f"  answer → on Kafka (ms)       {percentiles(delays)}  (≈, by order)")

        content = sheet(rows)
        started = time.perf_counter()
        parsed = sum(1 for _ in read_rows(content, "bench.xlsx")) - 1
        parse_seconds = time.perf_counter() - started
        started = time.perf_counter()
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        former = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True)) - 1
        book.close()
        former_seconds = time.perf_counter() - started
        before = len(arrivals.seen)
        started = time.perf_counter()
        report = await import_and_wait(client, "60", "bench.xlsx", content)
        imported = time.perf_counter()
        last = await arrivals.wait_for(before + report["recorded"])
        print(f"import of a {rows:,}-row xlsx ({len(content) / 1e6:.1f} MB):")
        print(f"  baseline: reading it only    {parsed / parse_seconds:8,.0f} rows/s (calamine)")
        print(f"  the former reader (openpyxl) {former / former_seconds:8,.0f} rows/s")
        print(
            f"  import                       {report['recorded'] / (imported - started):8,.0f} "
            f"activities/s ({report['recorded']:,} recorded, {len(report['errors'])} errors, "
            f"{imported - started:.1f} s)"
        )
        print(f"  import done → last on Kafka  {last - imported:8.2f} s")
    reading.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with provided_endpoints() as endpoints:
        asyncio.run(run(endpoints, args.requests, args.concurrency, args.rows))


if __name__ == "__main__":
    main()
