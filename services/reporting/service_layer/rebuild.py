"""Rebuilding every projection from the beginning of the topics, into fresh tables, and
switching over when caught up.

1. A fresh schema beside the live one gets the current tables (the migrations).
2. The registry and activities topics are read from their first offsets up to where they
   end now, and applied exactly as the live consumers apply them (same consumer names, so
   the live consumers find their events already claimed after the switch). The partitions
   are shared among forked worker processes, the tables filled as a bulk load (indexes
   built after, the province and commune totals counted after from the activity
   versions), and recordings read straight into their rows (`read_recording`).
3. Under the projection lock held exclusively (live batches wait), the rebuild reads up to
   the live consumers' positions if they moved meanwhile, then renames the live schema
   away and the fresh one into its place, and drops the old one.
"""

import asyncio
import gc
import multiprocessing
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.reporting.adapters.tables import activity_versions
from services.reporting.config import Settings
from services.reporting.service_layer.projection import (
    apply_events,
    count_totals,
    fill_events,
    read_recording,
)
from shared.consumer import (
    IdempotentConsumer,
    Projector,
    apply_or_isolate,
    projection_lock,
    sort_out,
)
from shared.contract import validator
from shared.db import create_engine
from shared.migrations import upgrade
from shared.progress import describe
from shared.tables import processed_events

BATCH = 5_000
CONTRACT_CHECK = validator()  # what the live consumers check, so the same is skipped
Positions = dict[TopicPartition, int]


def consumer_names(settings: Settings) -> dict[str, str]:
    """topic → the name its consumer applies under (live service and rebuild alike)."""
    return {
        settings.registry_topic: f"{settings.database_schema}.registry",
        settings.activities_topic: f"{settings.database_schema}.activities",
    }


@dataclass
class Progress:
    """What the rebuild has done, for the operator watching it."""

    total: int = 0
    read: int = 0
    applied: int = 0
    skipped: int = 0
    stage: str = "chuẩn bị / preparing"
    started: float = field(default_factory=time.perf_counter)
    stages: dict[str, float] = field(default_factory=dict)  # stage → seconds it took

    def begin(self, stage: str) -> None:
        now = time.perf_counter() - self.started
        self.stages[self.stage] = now - sum(self.stages.values())
        self.stage = stage

    def timeline(self) -> str:
        return ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in self.stages.items())

    def line(self) -> str:
        elapsed = time.perf_counter() - self.started
        read = describe(self.stage, self.read, self.total, elapsed)
        return f"{read}; áp dụng / applied {self.applied:,}, bỏ qua / skipped {self.skipped:,}"


async def replay(
    engine: AsyncEngine,
    settings: Settings,
    start: Positions,
    until: Positions,
    progress: Progress,
    report: Callable[[Progress], None] = lambda _progress: None,
    *,
    fresh: bool = False,
) -> Positions:
    """Apply the events of the partitions in `until`, from `start` (default: their
    beginning) up to `until`, into `engine`'s schema; returns the positions reached.
    `fresh`: nothing of these partitions is applied there yet, and no one else applies them
    meanwhile (see `IdempotentConsumer`)."""
    names = consumer_names(settings)
    project = fill_events if fresh else apply_events  # fresh: `rebuild` counts the totals
    consumers = {
        topic: IdempotentConsumer(engine, name, log_events=False, fresh=fresh)
        for topic, name in names.items()
    }
    places = sorted(until)
    reached = {place: start.get(place, 0) for place in places}
    progress.total += sum(max(0, until[p] - reached[p]) for p in places)
    if not any(reached[p] < until[p] for p in places):
        return reached
    kafka = AIOKafkaConsumer(
        **settings.kafka.aiokafka_options(),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await kafka.start()
    try:
        kafka.assign(places)
        for place, offset in reached.items():
            kafka.seek(place, offset)
        last_report = time.perf_counter()
        buffered: dict[str, list[ConsumerRecord[Any, Any]]] = {topic: [] for topic in names}
        while any(reached[p] < until[p] for p in places):
            batches = await kafka.getmany(timeout_ms=1_000, max_records=BATCH)
            for place, records in batches.items():
                wanted = [r for r in records if r.offset < until[place]]
                buffered[place.topic] += wanted
                if wanted:
                    reached[place] = wanted[-1].offset + 1
                if len(wanted) < len(records):
                    kafka.pause(place)
            # A fetch brings a few hundred records; a transaction per few thousand pays off.
            done = not any(reached[p] < until[p] for p in places)
            for topic, records in buffered.items():
                if records and (len(records) >= BATCH or done or not batches):
                    await _apply(consumers[topic], records, project, progress)
                    buffered[topic] = []
            if time.perf_counter() - last_report > 2:
                report(progress)
                last_report = time.perf_counter()
        return reached
    finally:
        await kafka.stop()


async def replay_in_workers(
    settings: Settings,
    schema: str,
    until: Positions,
    workers: int,
    progress: Progress,
    report: Callable[[Progress], None],
) -> Positions:
    """`replay` from the beginning with the partitions shared among `workers` processes:
    one Python process reads and checks about 15,000 events a second, and PostgreSQL
    takes their writes in parallel. An activity's events share a partition, so each stays
    in one worker. The workers are forked: they start at once, with what is imported."""
    shares = _shares(settings, until, workers)
    progress.begin("đọc sự kiện / reading the events")
    context = multiprocessing.get_context("fork")
    counts = context.Array("q", 3 * len(shares))  # read, applied, skipped of each worker
    progress.total += sum(until.values())
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(
        len(shares), mp_context=context, initializer=_share_counts, initargs=(counts,)
    ) as pool:
        jobs = [
            loop.run_in_executor(pool, _replay_share, settings.model_dump(), schema, n, share)
            for n, share in enumerate(shares)
        ]
        pending: set[asyncio.Future[Positions]] = set(jobs)
        while pending:
            _done, pending = await asyncio.wait(pending, timeout=2)
            progress.read, progress.applied, progress.skipped = (
                sum(counts[n::3]) for n in range(3)
            )
            report(progress)
        reached: Positions = {}
        for job in jobs:
            reached |= job.result()
    return reached


def default_workers(settings: Settings, ends: Positions) -> int:
    """A worker per share holding events, two per core at most: a worker waits for
    PostgreSQL and Kafka about a third of its time, and partitions differ in size (three
    partitions on two workers leave one worker alone for the last third)."""
    holding = sum(1 for unit in _units(settings, ends) if any(unit.values()))
    return max(1, min(holding, 2 * (os.cpu_count() or 1)))


def _units(settings: Settings, until: Positions) -> list[Positions]:
    """What must stay in one worker: each activities partition (an activity's events are
    in one), and the registry's partitions together (their rows are shared: the communes
    of several old communes' lineage, say, and concurrent inserts of them deadlock)."""
    registry = {p: end for p, end in until.items() if p.topic == settings.registry_topic}
    others = [{p: end} for p, end in until.items() if p.topic != settings.registry_topic]
    return [registry, *others] if registry else others


def _shares(settings: Settings, until: Positions, workers: int) -> list[Positions]:
    """The units dealt out so that each worker has about as many events to read."""
    units = sorted(_units(settings, until), key=lambda unit: -sum(unit.values()))
    shares: list[Positions] = [{} for _ in range(max(1, min(workers, len(units))))]
    for unit in units:
        min(shares, key=lambda share: sum(share.values())).update(unit)
    return [share for share in shares if share]


_counts: Any = None  # the shared array of a worker process


def _share_counts(counts: Any) -> None:
    global _counts
    _counts = counts


def _replay_share(settings: dict[str, Any], schema: str, n: int, until: Positions) -> Positions:
    """In a worker process: replay its share of the partitions into `schema`."""

    def count(progress: Progress) -> None:
        _counts[3 * n : 3 * n + 3] = [progress.read, progress.applied, progress.skipped]

    async def run() -> Positions:
        engine = create_engine(settings["database_url"], schema, pool_size=1, durable=False)
        progress = Progress()
        try:
            reached = await replay(
                engine, Settings(**settings), {}, until, progress, count, fresh=True
            )
        finally:
            await engine.dispose()
        count(progress)
        return reached

    with _no_collections():
        return asyncio.run(run())


@contextmanager
def _no_collections() -> Iterator[None]:
    """A rebuild makes millions of short-lived objects and almost no cycles (about 24,000
    objects of cyclic garbage in a worker's 333,000 events: a few MB). The collector's
    passes are not worth it: even rare ones (a pass per 100,000 new objects) came in the
    middle of a batch, with its thousands of records alive, and took a fifth of a worker's
    time. What lives already is frozen out, the collector is off until the worker ends."""
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


@asynccontextmanager
async def _bulk_load(
    admin: AsyncEngine, schema: str, progress: Progress, report: Callable[[Progress], None]
) -> AsyncIterator[None]:
    """The fresh tables filled as a bulk load: their secondary indexes and the claims'
    primary key dropped and their autovacuum off while the workers fill them (it would scan
    them again and again), then the indexes and the key built one after the other (one
    sorted build costs less than a million insertions into each; side by side they
    contend), autovacuum back, statistics taken. The workers never look a claim up (each
    keeps its own in memory, `IdempotentConsumer` `fresh`); what catches up before the
    switch does, after the key is back. Against keeping the indexes, this took a third off
    600,000 events' rebuild here."""
    claims = f'"{schema}"."{processed_events.name}"'
    async with admin.begin() as conn:
        found = await conn.execute(
            text(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
                "JOIN pg_namespace n ON n.oid = t.relnamespace "
                "WHERE n.nspname = :schema AND NOT i.indisunique"
            ),
            {"schema": schema},
        )
        indexes = found.all()
        keys = await conn.execute(
            text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = CAST(:claims AS regclass) AND contype = 'p'"
            ),
            {"claims": claims},
        )
        claims_key = keys.one()
        names = await conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = :schema"),
            {"schema": schema},
        )
        plain = list(names.scalars())
        tables = [f'"{schema}"."{table}"' for table in plain]
        for name, _definition in indexes:
            await conn.execute(text(f"DROP INDEX {name}"))
        await conn.execute(text(f'ALTER TABLE {claims} DROP CONSTRAINT "{claims_key[0]}"'))
        for table in tables:
            await conn.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
    yield
    progress.begin("dựng chỉ mục / building the indexes")
    report(progress)
    async with admin.begin() as conn:
        await conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        for _name, definition in indexes:
            await conn.execute(text(definition))
        await conn.execute(
            text(f'ALTER TABLE {claims} ADD CONSTRAINT "{claims_key[0]}" {claims_key[1]}')
        )
        for table in tables:
            await conn.execute(text(f"ALTER TABLE {table} RESET (autovacuum_enabled)"))
    # Statistics for what the reports filter and join on: not the activities' facts (a
    # second of JSON sampling at a million rows), not the claims (looked up by key).
    analyzed = [
        f'"{schema}"."{table}"' + (f" ({', '.join(_COUNTED)})" if table in _NARROW else "")
        for table in plain
        if table != processed_events.name
    ]
    async with admin.begin() as conn:
        await conn.execute(text(f"ANALYZE {', '.join(analyzed)}"))


_NARROW = {activity_versions.name}
_COUNTED = [column.name for column in activity_versions.columns if column.name != "facts"]


async def _ends(settings: Settings) -> Positions:
    """Where each partition of the topics ends now."""
    topics = list(consumer_names(settings))
    await settings.kafka.check()  # a refused login named, not "Unable to bootstrap"
    admin = AIOKafkaAdminClient(**settings.kafka.aiokafka_options())
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    places = [
        TopicPartition(topic["topic"], partition["partition"])
        for topic in described
        for partition in topic["partitions"]
    ]
    kafka = AIOKafkaConsumer(**settings.kafka.aiokafka_options(), group_id=None)
    await kafka.start()
    try:
        return dict(await kafka.end_offsets(places))
    finally:
        await kafka.stop()


async def _apply(
    consumer: IdempotentConsumer,
    records: Sequence[ConsumerRecord[Any, Any]],
    project: Projector[Any],
    progress: Progress,
) -> None:
    """Apply what the live consumer applied; what it dead-lettered is skipped: poison, and
    an event the projection refused for good (found the same way, `apply_or_isolate`)."""
    usable, poisoned = sort_out(records, CONTRACT_CHECK, read_recording)
    progress.skipped += len(poisoned)
    progress.read += len(records)

    async def refused(_delivery: Any, _error: BaseException) -> None:
        progress.skipped += 1

    progress.applied += await apply_or_isolate(consumer, usable, project, refused)


async def rebuild(
    settings: Settings,
    *,
    switch: bool = True,
    report: Callable[[Progress], None] = print,
    workers: int | None = None,
) -> tuple[str, Progress]:
    """Rebuild into `<schema>_rebuild` with `workers` processes (`default_workers`);
    switch it in unless told not to. Returns the schema the rebuilt projections are in and
    the progress."""
    live = settings.database_schema
    fresh = f"{live}_rebuild"
    admin = create_engine(settings.database_url, "public", pool_size=2)
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{fresh}" CASCADE'))
    await asyncio.to_thread(upgrade, "reporting", settings.database_url, fresh)
    engine = create_engine(settings.database_url, fresh)
    progress = Progress()
    try:
        ends = await _ends(settings)
        async with _bulk_load(admin, fresh, progress, report):
            reached = await replay_in_workers(
                settings, fresh, ends, workers or default_workers(settings, ends), progress, report
            )
            progress.begin("đếm tổng / counting the totals")
            report(progress)
            await count_totals(engine)
        if switch:
            await _switch(admin, engine, settings, reached, progress, report)
            fresh = live
    finally:
        await engine.dispose()
        await admin.dispose()
    progress.begin("xong / done")
    report(progress)
    return fresh, progress


async def _switch(
    admin: AsyncEngine,
    engine: AsyncEngine,
    settings: Settings,
    reached: Positions,
    progress: Progress,
    report: Callable[[Progress], None],
) -> None:
    live, fresh = settings.database_schema, f"{settings.database_schema}_rebuild"
    progress.begin("chuyển sang bảng mới / switching over")
    report(progress)
    while True:
        async with admin.begin() as conn:
            await conn.execute(select(func.pg_advisory_xact_lock(projection_lock(live))))
            rows = await conn.execute(
                text(f'SELECT topic, partition, next_offset FROM "{live}".consumer_positions')
            )
            wanted = {TopicPartition(t, n): o for t, n, o in rows}
            behind = {p: o for p, o in wanted.items() if reached.get(p, 0) < o}
            if not behind:
                await conn.execute(text(f'ALTER SCHEMA "{live}" RENAME TO "{live}_old"'))
                await conn.execute(text(f'ALTER SCHEMA "{fresh}" RENAME TO "{live}"'))
                break
        # The live consumers moved on while we read: catch up to them, then try again.
        reached |= await replay(engine, settings, reached, wanted, progress, report)
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{live}_old" CASCADE'))
