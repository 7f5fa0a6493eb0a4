"""The reporting projection: a rebuild of N activity events, against the rate at which the
same consumer only reads them from Kafka, and the latency of the reports once loaded.

    python -m bench.reporting_projection [--events 1000000] [--communes 2000] [--queries 300]

The events are produced straight onto a topic of the benchmark's own (one recording each,
across `--communes` communes of one province, co-funded by two units), on the stack
`shared.devstack` provides. Baselines in the same run: reading every record (no parsing,
no database), and reading plus parsing the CloudEvents. Report latency is measured by
calling the report functions on the rebuilt projections (no HTTP).
"""

import argparse
import asyncio
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.common import drop_schemas, percentiles, publish
from services.reporting.config import Settings
from services.reporting.service_layer import reports
from services.reporting.service_layer.rebuild import rebuild
from services.reporting.service_layer.reports import Scope
from shared.consumer import Delivery
from shared.db import create_engine
from shared.devstack import Endpoints, provided_endpoints
from shared.envelope import Envelope
from shared.kafka_security import KafkaAccess
from shared.migrations import upgrade

PROVINCE = "60"
CATEGORIES = ["gifts_in_kind", "credit_loan", "scholarship_school_equipment", "health"]


def recording(n: int, commune: str, assignment: str) -> Envelope:
    activity_id = str(uuid.uuid4())
    value = 100_000 * (1 + n % 50)
    return Envelope(
        id=uuid.uuid4(),
        source="/ketnghia/activities",
        type="vn.ketnghia.activity.recorded.v1",
        time=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=n),
        subject=activity_id,
        province=PROVINCE,
        partitionkey=f"commune:pre-2025:{commune}",
        correlationid=uuid.uuid4(),
        streamversion=1,
        data={
            "activity_id": activity_id,
            "province": PROVINCE,
            "assignment_id": assignment,
            "commune": {"edition": "pre-2025", "code": commune},
            "occurred_on": (date(2021, 1, 1) + timedelta(days=n % 1800)).isoformat(),
            "category": CATEGORIES[n % len(CATEGORIES)],
            "description": f"Hoạt động {n}",
            "value_vnd": value,
            "contributions": [
                {"sponsor_unit_id": "unit-a", "value_vnd": value // 2},
                {"sponsor_unit_id": "unit-b", "value_vnd": value - value // 2},
            ],
            "funding_source": "own_budget",
            "quantity": {"amount": "1", "unit": "suất"},
            "beneficiaries": [{"count": 1, "kind": "households", "group": "poor"}],
            "evidence": [],
        },
    )


async def read_only(kafka: KafkaAccess, topic: str, events: int, parse: bool) -> float:
    consumer = AIOKafkaConsumer(
        **kafka.aiokafka_options(), group_id=None, enable_auto_commit=False,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )  # fmt: skip
    await consumer.start()
    try:
        places = [TopicPartition(topic, p) for p in range(3)]
        consumer.assign(places)
        await consumer.seek_to_beginning(*places)
        seen = 0
        started = time.perf_counter()
        while seen < events:
            for records in (await consumer.getmany(timeout_ms=1000, max_records=5000)).values():
                if parse:
                    for record in records:
                        Delivery.from_record(record)
                seen += len(records)
        return time.perf_counter() - started
    finally:
        await consumer.stop()


async def measure_reports(settings: Settings, communes: list[str], queries: int) -> None:
    engine = create_engine(settings.database_url, settings.database_schema)
    pick = random.Random(5)
    try:
        commune_times, counted_times, summary_times = [], [], []
        # Baseline: the same report counted activity by activity, as for a caller who
        # reaches the commune through an assignment (only its province's rows).
        through = Scope(provinces=frozenset({PROVINCE}))
        async with engine.connect() as conn:
            for _ in range(queries):
                commune = pick.choice(communes)
                started = time.perf_counter()
                await reports.commune_report(conn, "pre-2025", commune, Scope())
                commune_times.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                await reports.commune_report(conn, "pre-2025", commune, through)
                counted_times.append((time.perf_counter() - started) * 1000)
            for _ in range(max(10, queries // 10)):
                started = time.perf_counter()
                await reports.province_summary(conn, PROVINCE, Scope(year=2023))
                summary_times.append((time.perf_counter() - started) * 1000)
        print(f"  commune × period report (ms)    {percentiles(commune_times)}")
        print(f"    baseline: counted one by one  {percentiles(counted_times)}")
        print(f"  province summary, a year (ms)   {percentiles(summary_times)}")
    finally:
        await engine.dispose()


async def run(endpoints: Endpoints, events: int, communes_count: int, queries: int) -> None:
    tag = uuid.uuid4().hex[:8]
    schema = f"bench_rep_{tag}"
    settings = Settings(
        database_url=endpoints.database_url,
        database_schema=schema,
        **endpoints.kafka_settings(),
        registry_topic=f"bench.rep.registry.{tag}",
        activities_topic=f"bench.rep.activities.{tag}",
    )
    communes = [f"{23000 + n:05d}" for n in range(communes_count)]
    kafka = endpoints.kafka()
    await asyncio.to_thread(upgrade, "reporting", endpoints.database_url, schema)
    admin = AIOKafkaAdminClient(**kafka.aiokafka_options())
    await admin.start()
    await admin.create_topics([NewTopic(settings.registry_topic, 3, 1)])
    await admin.close()
    try:
        produced = await publish(
            kafka,
            settings.activities_topic,
            (
                recording(
                    n, communes[n % len(communes)], f"assignment-{communes[n % len(communes)]}"
                )
                for n in range(events)
            ),
        )
        print(f"{events:,} activity events produced in {produced:.1f} s")
        raw = await read_only(kafka, settings.activities_topic, events, parse=False)
        parsed = await read_only(kafka, settings.activities_topic, events, parse=True)
        _, progress = await rebuild(settings, switch=True, report=lambda _p: None)
        elapsed = time.perf_counter() - progress.started
        print(f"  baseline: read only              {events / raw:9,.0f} events/s ({raw:.1f} s)")
        print(
            f"  baseline: read and parse         {events / parsed:9,.0f} events/s ({parsed:.1f} s)"
        )
        print(
            f"  rebuild into fresh tables        {progress.applied / elapsed:9,.0f} events/s "
            f"({elapsed:.1f} s, {progress.applied:,} applied)"
        )
        print(f"    {progress.timeline()}")
        print(f"    {elapsed / raw:.1f} times the time to only read the events (same run)")
        await measure_reports(settings, communes, queries)
    finally:
        await drop_schemas(endpoints.database_url, schema, f"{schema}_rebuild")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--communes", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    with provided_endpoints() as endpoints:
        asyncio.run(run(endpoints, args.events, args.communes, args.queries))


if __name__ == "__main__":
    main()
