"""Loading the administrative units and the 2025 lineage, and publishing the lineage as
events (what the registry reads of them: `adapters.admin_units`)."""

from collections import defaultdict
from dataclasses import asdict
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.registry.adapters.admin_dataset import AdminDataset
from services.registry.adapters.tables import admin_units, commune_successions, dataset_loads
from services.registry.domain.admin_units import Edition, Level, Succession
from shared.contract import Commune, Event, LineagePublished, Successor
from shared.events import unit_key
from shared.eventstore import Recorder
from shared.progress import Progress, no_progress
from shared.tables import events

DATASET = "admin-units"
BATCH = 2_000


async def load_admin_units(conn: AsyncConnection, dataset: AdminDataset) -> bool:
    """Replace the reference data with `dataset` in the caller's transaction.

    Returns False (and writes nothing) when this dataset version is already loaded.
    """
    loaded = await conn.scalar(
        select(dataset_loads.c.version).where(dataset_loads.c.dataset == DATASET)
    )
    if loaded == dataset.version:
        return False
    await conn.execute(delete(commune_successions))
    await conn.execute(delete(admin_units))
    unit_rows = [{**asdict(unit), "search_key": unit.search_key} for unit in dataset.units]
    succession_rows = [
        {"old_code": s.old_code, "new_code": s.new_code, "share": s.share, "is_default": s.default}
        for s in dataset.successions
    ]
    for table, rows in ((admin_units, unit_rows), (commune_successions, succession_rows)):
        for start in range(0, len(rows), BATCH):
            await conn.execute(insert(table), rows[start : start + BATCH])
    record = {
        "version": dataset.version,
        "units": len(dataset.units),
        "successions": len(dataset.successions),
        "loaded_at": datetime.now(UTC),
    }
    upsert = pg_insert(dataset_loads).values(dataset=DATASET, **record)
    await conn.execute(upsert.on_conflict_do_update(index_elements=["dataset"], set_=record))
    return True


async def lineage_published(conn: AsyncConnection) -> bool:
    """Whether the lineage is on the registry's topic (units loaded by an older version
    were loaded without it)."""
    found = await conn.scalar(
        select(events.c.stream_id).where(events.c.stream_id.startswith("lineage:")).limit(1)
    )
    return found is not None


async def publish_lineage(
    recorder: Recorder, dataset: AdminDataset, progress: Progress = no_progress
) -> int:
    """One `lineage.published` event per pre-2025 commune, saying what it became, so that
    other services and agencies learn the lineage from the registry's topic. Returns how
    many were recorded (in the caller's transaction); `progress(done, total)` after each
    batch."""
    names = {(u.edition, u.level, u.code): u for u in dataset.units}
    by_old: dict[str, list[Succession]] = defaultdict(list)
    for succession in dataset.successions:
        by_old[succession.old_code].append(succession)
    found = await recorder.conn.execute(
        select(events.c.stream_id, func.max(events.c.version))
        .where(events.c.stream_id.startswith("lineage:"))
        .group_by(events.c.stream_id)
    )
    current = {stream: version for stream, version in found}
    by_province: dict[str, list[tuple[str, int, list[Event]]]] = defaultdict(list)
    for old_code, successions in sorted(by_old.items()):
        old = names[(Edition.PRE_2025, Level.COMMUNE, old_code)]
        successors = [
            Successor(
                code=s.new_code,
                name=names[(Edition.FROM_2025, Level.COMMUNE, s.new_code)].name,
                province_code=names[(Edition.FROM_2025, Level.COMMUNE, s.new_code)].province_code,
                share=s.share,
                is_default=s.default,
            )
            for s in sorted(successions, key=lambda s: (not s.default, s.new_code))
        ]
        event = Event(
            LineagePublished(
                dataset=dataset.version,
                old=Commune(edition=Edition.PRE_2025, code=old_code),
                old_name=old.name,
                old_province_code=old.province_code,
                successors=successors,
            )
        )
        stream = f"lineage:{old_code}"
        by_province[old.province_code].append((stream, current.get(stream, 0), [event]))
    published, total = 0, sum(len(streams) for streams in by_province.values())
    for province, streams in by_province.items():
        for start in range(0, len(streams), BATCH):
            stored = await recorder.record_many(
                streams[start : start + BATCH],
                province=province,
                partition_key=_old_commune_key,
            )
            published += len(stored)
            progress(published, total)
    return published


def _old_commune_key(event: Event) -> str:
    assert isinstance(event.data, LineagePublished)
    return unit_key(Level.COMMUNE, Edition.PRE_2025, event.data.old.code)
