"""The activities service's read models of its own events, written in the transaction that
appends them (`shared.eventstore.Recorder`); recordings are inserted a batch at a time."""

from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.activities.adapters.tables import activities, commitments, locks
from shared.contract import (
    ActivityCorrected,
    ActivityFacts,
    ActivityRecorded,
    ActivityVoided,
    CommitmentAdded,
    CommitmentData,
    PeriodLocked,
    PeriodUnlocked,
    PlanCreated,
    to_json,
)
from shared.db import copy_records
from shared.eventstore import COPY_AT_LEAST, StoredEvent

NOT_FACTS = ("activity_id", "province", "reason")
COLUMNS = [column.name for column in activities.columns]
_JSON = msgspec.json.Encoder()


def _activity_row(event: StoredEvent, facts: ActivityFacts) -> dict[str, Any]:
    """The row of an activity's facts; `facts` (the column) kept in their JSON form, as
    stored."""
    return {
        "assignment_id": facts.assignment_id,
        "commune_edition": facts.commune.edition,
        "commune_code": facts.commune.code,
        "occurred_on": facts.occurred_on,
        "category": facts.category,
        "value_vnd": facts.value_vnd,
        "version": event.version,
        "facts": {k: v for k, v in event.data.items() if k not in NOT_FACTS},
    }


async def project(conn: AsyncConnection, stored: Sequence[StoredEvent]) -> None:
    recorded = [
        {"id": e.stream_id, "province": e.province, "voided": False, **_activity_row(e, data)}
        for e in stored
        if isinstance(data := e.payload, ActivityRecorded)
    ]
    if len(recorded) >= COPY_AT_LEAST:  # an import's chunk
        rows = [
            tuple(_JSON.encode(r[c]).decode() if c == "facts" else r[c] for c in COLUMNS)
            for r in recorded
        ]
        await copy_records(conn, activities.name, rows, COLUMNS)
    elif recorded:
        await conn.execute(insert(activities), recorded)
    for event in stored:
        if not isinstance(event.payload, ActivityRecorded):
            await _project_one(conn, event)


async def _project_one(conn: AsyncConnection, event: StoredEvent) -> None:
    mine = activities.c.id == event.stream_id
    match event.payload:
        case ActivityCorrected() as corrected:
            row = _activity_row(event, corrected)
            await conn.execute(update(activities).where(mine).values(row))
        case ActivityVoided():
            await conn.execute(
                update(activities).where(mine).values(voided=True, version=event.version)
            )
        case PeriodLocked() as locked:
            await conn.execute(
                insert(locks).values(
                    id=locked.lock_id,
                    province=locked.province,
                    year=locked.year,
                    quarter=locked.quarter,
                    commune_edition=locked.commune.edition if locked.commune else None,
                    commune_code=locked.commune.code if locked.commune else None,
                    reason=locked.reason,
                    locked_by=locked.by,
                    locked_at=event.occurred_at,
                )
            )
        case PeriodUnlocked() as unlocked:
            await conn.execute(
                update(locks)
                .where(locks.c.province == unlocked.province, locks.c.id == unlocked.lock_id)
                .values(
                    unlocked_at=event.occurred_at,
                    unlock_reason=unlocked.reason,
                    unlocked_by=unlocked.by,
                )
            )
        case PlanCreated() as created:
            await _commitments(conn, created.assignment_id, created.year, created.commitments)
        case CommitmentAdded() as added:
            await _commitments(conn, added.assignment_id, added.year, [added])
        case other:
            raise ValueError(f"no projection for {type(other).__name__}")


async def _commitments(
    conn: AsyncConnection, assignment_id: str, year: int, added: Sequence[CommitmentData]
) -> None:
    if not added:
        return
    await conn.execute(
        insert(commitments),
        [
            {
                "assignment_id": assignment_id,
                "year": year,
                "id": c.commitment_id,
                "description": c.description,
                "category": c.category,
                "quarter": c.quarter,
                "planned_value_vnd": c.planned_value_vnd,
                "planned_quantity": to_json(c.planned_quantity) if c.planned_quantity else None,
            }
            for c in added
        ],
    )
