"""An amendment that arrives before the recording it amends waits, and the totals come out
the same whatever the order of arrival."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.reporting.adapters.tables import activity_versions, pending_activity_events
from services.reporting.service_layer.projection import apply_events
from shared.envelope import Envelope

ACTIVITY_ID = str(uuid.uuid4())
FACTS = {
    "activity_id": ACTIVITY_ID,
    "assignment_id": "assignment-dong-giang",
    "commune": {"edition": "pre-2025", "code": "23074"},
    "occurred_on": "2024-09-30",
    "category": "scholarship_school_equipment",
    "description": "15 xe đạp",
    "value_vnd": 21_750_000,
    "contributions": [{"sponsor_unit_id": "unit-a", "value_vnd": 21_750_000}],
    "funding_source": "own_budget",
}


def envelope(kind: str, version: int, data: dict[str, Any]) -> Envelope:
    return Envelope(
        id=uuid.uuid4(),
        source="/ketnghia/activities",
        type=f"vn.ketnghia.activity.{kind}.v1",
        time=datetime(2024, 10, 1, tzinfo=UTC) + timedelta(hours=version),
        subject=ACTIVITY_ID,
        province="60",
        partitionkey="commune:pre-2025:23074",
        correlationid=uuid.uuid4(),
        streamversion=version,
        data=data,
    )


async def test_a_correction_and_a_void_before_their_recording_wait_then_apply(
    reporting_engine: AsyncEngine,
) -> None:
    recorded = envelope("recorded", 1, {**FACTS, "province": "60"})
    more = {"value_vnd": 22_500_000, "reason": "sửa",
            "contributions": [{"sponsor_unit_id": "unit-a", "value_vnd": 22_500_000}]}  # fmt: skip
    corrected = envelope("corrected", 2, {**FACTS, **more})
    voided = envelope("voided", 3, {"activity_id": ACTIVITY_ID, "reason": "trùng"})

    async with reporting_engine.begin() as conn:
        await apply_events(conn, [voided, corrected])  # the amendments first
        waiting = (await conn.execute(select(pending_activity_events.c.version))).scalars().all()
        await apply_events(conn, [recorded])
        versions = (
            await conn.execute(
                select(activity_versions.c.version, activity_versions.c.value_vnd,
                       activity_versions.c.voided, activity_versions.c.valid_to.is_(None))
                .where(activity_versions.c.activity_id == ACTIVITY_ID)
                .order_by(activity_versions.c.version)
            )
        ).all()  # fmt: skip
        left = (await conn.execute(select(pending_activity_events))).all()

    assert sorted(waiting) == [2, 3]
    assert [tuple(v) for v in versions] == [
        (1, 21_750_000, False, False),
        (2, 22_500_000, False, False),
        (3, 22_500_000, True, True),  # in force: the void
    ]
    assert left == []
