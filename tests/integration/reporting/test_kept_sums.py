"""The commune report added up from the kept sums equals the report counted activity by
activity, whatever the history: co-funded activities, quantities in several units,
beneficiaries, corrections that move an activity to another commune, period, unit or
quantity, voids, and communes merged into or split by the 2025 reform.

The histories are drawn at random from a fixed seed, in a schema of this module's own
(events applied straight to the projection: no service, no broker).
"""

import asyncio
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.reporting.adapters.tables import (
    commune_beneficiaries,
    commune_quantities,
    commune_totals,
    commune_unit_totals,
    province_totals,
)
from services.reporting.config import Settings as ReportingSettings
from services.reporting.service_layer.projection import apply_events, counted_sums
from services.reporting.service_layer.reports import Scope, _commune_figures, commune_report
from shared.envelope import Envelope
from shared.migrations import alembic_config

PROVINCE = "98"  # no province's code: nothing else in the schema is counted with these
OLD = ["98001", "98002", "98003", "98004"]  # 98001-2 merged into 98901; 98003 split
NEW = ["98901", "98902"]
UNITS = [str(uuid.uuid4()) for _ in range(4)]
SEED = 20261202
START = datetime(2026, 1, 5, tzinfo=UTC)


def envelope(kind: str, subject: str, version: int, data: dict[str, Any], n: int) -> Envelope:
    registry = kind.startswith(("lineage", "sponsor_unit"))
    return Envelope(
        id=uuid.uuid4(),
        source="/ketnghia/registry" if registry else "/ketnghia/activities",
        type=f"vn.ketnghia.{'registry' if registry else 'activity'}.{kind}.v1",
        time=START + timedelta(seconds=n),
        subject=subject,
        province=PROVINCE,
        partitionkey=f"test:{subject}",
        correlationid=uuid.uuid4(),
        streamversion=version,
        data=data,
    )


def lineage(old: str, successors: list[str], n: int) -> Envelope:
    share = "whole" if len(successors) == 1 else "part"
    data = {
        "dataset": "test",
        "old": {"edition": "pre-2025", "code": old},
        "old_name": f"Xã cũ {old}",
        "old_province_code": PROVINCE,
        "successors": [
            {"code": code, "name": f"Xã mới {code}", "province_code": PROVINCE, "share": share,
             "is_default": i == 0}
            for i, code in enumerate(successors)
        ],
    }  # fmt: skip
    return envelope("lineage.published", old, 1, data, n)


def facts(draw: random.Random, activity_id: str) -> dict[str, Any]:
    commune = draw.choice([("pre-2025", c) for c in OLD] + [("2025", c) for c in NEW])
    day = date(draw.choice([2024, 2025, 2026]), draw.randint(1, 12), draw.randint(1, 28))
    shares = draw.sample(UNITS, draw.randint(1, 3))
    values = [draw.randint(0, 5_000_000) for _ in shares]
    quantity = draw.choice(
        [None, {"amount": str(draw.randint(1, 40)), "unit": "con"},
         {"amount": f"{draw.randint(1, 99)}.{draw.randint(1, 9)}", "unit": "tấn"}]
    )  # fmt: skip
    people = [
        {"kind": draw.choice(["household", "person"]),
         "group": draw.choice(["poor", "ethnic_minority", "children"]),
         "count": draw.randint(1, 30)}
        for _ in range(draw.randint(0, 2))
    ]  # fmt: skip
    return {
        "activity_id": activity_id,
        "assignment_id": "assignment-kept-sums",
        "commune": {"edition": commune[0], "code": commune[1]},
        "occurred_on": day.isoformat(),
        "category": draw.choice(["housing", "livelihood_cattle", "scholarship"]),
        "description": "hỗ trợ",
        "value_vnd": sum(values),
        "contributions": [
            {"sponsor_unit_id": unit, "value_vnd": value}
            for unit, value in zip(shares, values, strict=True)
        ],
        "funding_source": "own_budget",
        **({"quantity": quantity} if quantity else draw.choice([{}, {"quantity": None}])),
        "beneficiaries": people,
    }


def histories(draw: random.Random) -> list[Envelope]:
    """Sponsor units (one left unnamed), the lineage, then 80 activities, a third of them
    corrected once or twice and some voided, interleaved."""
    n = iter(range(100_000))
    events = [
        envelope("sponsor_unit.registered", unit, 1,
                 {"sponsor_unit_id": unit, "province": PROVINCE, "name": f"Đơn vị {i}",
                  "kind": "department"}, next(n))
        for i, unit in enumerate(UNITS[:3])
    ]  # fmt: skip
    events += [
        lineage("98001", ["98901"], next(n)),
        lineage("98002", ["98901"], next(n)),
        lineage("98003", ["98901", "98902"], next(n)),
        lineage("98004", ["98902"], next(n)),
    ]
    streams: list[list[Envelope]] = []
    for _ in range(80):
        activity_id = str(uuid.uuid4())
        stream = [
            envelope("recorded", activity_id, 1,
                     {**facts(draw, activity_id), "province": PROVINCE}, 0)
        ]  # fmt: skip
        for version in range(2, 2 + draw.choice([0, 0, 1, 2])):
            changed = {**facts(draw, activity_id), "reason": "sửa"}
            stream.append(envelope("corrected", activity_id, version, changed, 0))
        if draw.random() < 0.15:
            void = {"activity_id": activity_id, "reason": "trùng"}
            stream.append(envelope("voided", activity_id, len(stream) + 1, void, 0))
        streams.append(stream)
    while any(streams):  # each stream in order, the streams interleaved
        stream = draw.choice([s for s in streams if s])
        event = stream.pop(0)
        events.append(event.model_copy(update={"time": START + timedelta(seconds=next(n))}))
    return events


@pytest.fixture(scope="module")
async def applied(reporting_engine: AsyncEngine) -> AsyncEngine:
    events = histories(random.Random(SEED))
    async with reporting_engine.begin() as conn:
        for start in range(0, len(events), 17):  # batches, as the consumer applies them
            await apply_events(conn, events[start : start + 17])
    return reporting_engine


SCOPES = [
    Scope(),
    Scope(year=2024),
    Scope(year=2025, quarter=3),
    Scope(quarter=2),
    Scope(year=2030),  # nothing
]


@pytest.mark.parametrize("scope", SCOPES, ids=repr)
@pytest.mark.parametrize(("edition", "code"), [("pre-2025", c) for c in OLD] + [("2025", NEW[0])])
async def test_a_commune_added_up_from_the_kept_sums_equals_it_counted(
    applied: AsyncEngine, scope: Scope, edition: str, code: str
) -> None:
    async with applied.connect() as conn:
        kept = await _commune_figures(conn, edition, code, scope)
        counted = await _commune_figures(conn, edition, code, scope, count=True)
    assert kept == counted
    if scope.year is None:
        assert kept["totals"]["activities"] > 0, "the drawn history reaches every commune"


@pytest.mark.parametrize("scope", SCOPES[:3], ids=repr)
@pytest.mark.parametrize("code", NEW)
async def test_a_2025_commune_mapped_equals_it_counted_with_its_split_predecessors(
    applied: AsyncEngine, scope: Scope, code: str
) -> None:
    mapped = Scope(year=scope.year, quarter=scope.quarter, mapped=True)
    as_recorded = Scope(year=scope.year, quarter=scope.quarter)
    async with applied.connect() as conn:
        kept = await commune_report(conn, "2025", code, mapped)
        counted = await _commune_figures(conn, "2025", code, mapped, count=True)
        split_counted = await _commune_figures(conn, "pre-2025", "98003", as_recorded, count=True)
    assert {k: kept[k] for k in counted} == counted
    # 98003 was split between both: its figures stay its own, listed on both sides, and
    # only when it has activities in the scope (the drawn history gives it some overall)
    expected = split_counted["totals"]
    listed = [(s["old_code"], s["value_vnd"], s["activities"]) for s in kept["split_predecessors"]]
    if expected["activities"]:
        assert listed == [("98003", expected["value_vnd"], expected["activities"])]
    else:
        assert listed == []
    if scope.year is None:
        assert expected["activities"] > 0


async def test_the_kept_sums_equal_those_counted_again_from_the_versions(
    applied: AsyncEngine,
) -> None:
    """What a rebuild (and the migration that made the tables) counts is what the live
    projection kept, batch after batch."""
    tables = [commune_totals, commune_unit_totals, commune_quantities, commune_beneficiaries]
    async with applied.connect() as conn:
        for table, counted in counted_sums():
            if table is province_totals:
                continue
            assert table in tables
            mine = table.c.code.in_(OLD + NEW)
            live = (await conn.execute(select(table).where(mine))).all()
            again = (
                await conn.execute(counted.where(counted.selected_columns[1].in_(OLD + NEW)))
            ).all()
            assert sorted(map(tuple, live)) == sorted(map(tuple, again)), table.name
            assert live, table.name


async def test_the_migration_that_made_the_tables_counts_what_the_live_projection_kept(
    applied: AsyncEngine, reporting_settings: ReportingSettings
) -> None:
    """Revision 0010 fills the tables from the versions a reporting service projected
    before it: taken back and made again, it finds the sums the projection kept."""
    tables = [commune_unit_totals, commune_quantities, commune_beneficiaries]

    async def kept() -> dict[str, list[tuple[Any, ...]]]:
        async with applied.connect() as conn:
            return {
                t.name: sorted(
                    map(tuple, await conn.execute(select(t).where(t.c.code.in_(OLD + NEW))))
                )
                for t in tables
            }

    live = await kept()
    config = alembic_config("reporting", reporting_settings.database_url,
                            reporting_settings.database_schema)  # fmt: skip
    await asyncio.to_thread(command.downgrade, config, "0009")
    await asyncio.to_thread(command.upgrade, config, "0010")
    assert await kept() == live
    assert all(live.values())
