"""The activities service's read models of its own events, written in the transaction that
appends them (`shared.eventstore.Recorder`); recordings are inserted a batch at a time."""

from collections.abc import Sequence
from datetime import date
from typing import Any

import msgspec
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.activities.adapters.tables import activities, commitments, locks
from services.activities.domain import plans
from services.activities.domain.activities import CORRECTED, RECORDED, VOIDED
from services.activities.domain.locks import LOCKED, UNLOCKED
from shared.db import copy_records
from shared.eventstore import COPY_AT_LEAST, StoredEvent

NOT_FACTS = ("activity_id", "province", "reason")
COLUMNS = [column.name for column in activities.columns]
_JSON = msgspec.json.Encoder()


def _activity_row(event: StoredEvent) -> dict[str, Any]:
    data = event.data
    return {
        "assignment_id": data["assignment_id"],
        "commune_edition": data["commune"]["edition"],
        "commune_code": data["commune"]["code"],
        "occurred_on": date.fromisoformat(data["occurred_on"]),
        "category": data["category"],
        "value_vnd": data["value_vnd"],
        "version": event.version,
        "facts": {k: v for k, v in data.items() if k not in NOT_FACTS},
    }


async def project(conn: AsyncConnection, stored: Sequence[StoredEvent]) -> None:
    recorded = [
        {"id": e.stream_id, "province": e.province, "voided": False, **_activity_row(e)}
        for e in stored
        if e.type == RECORDED
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
        if event.type != RECORDED:
            await _project_one(conn, event)


async def _project_one(conn: AsyncConnection, event: StoredEvent) -> None:
    data = event.data
    mine = activities.c.id == event.stream_id
    if event.type == CORRECTED:
        await conn.execute(update(activities).where(mine).values(_activity_row(event)))
    elif event.type == VOIDED:
        await conn.execute(
            update(activities).where(mine).values(voided=True, version=event.version)
        )
    elif event.type == LOCKED:
        commune = data["commune"] or {}
        await conn.execute(
            insert(locks).values(
                id=data["lock_id"],
                province=data["province"],
                year=data["year"],
                quarter=data["quarter"],
                commune_edition=commune.get("edition"),
                commune_code=commune.get("code"),
                reason=data["reason"],
                locked_by=data["by"],
                locked_at=event.occurred_at,
            )
        )
    elif event.type == UNLOCKED:
        await conn.execute(
            update(locks)
            .where(locks.c.province == data["province"], locks.c.id == data["lock_id"])
            .values(
                unlocked_at=event.occurred_at, unlock_reason=data["reason"], unlocked_by=data["by"]
            )
        )
    elif event.type in (plans.PLAN_CREATED, plans.COMMITMENT_ADDED):
        added = data["commitments"] if event.type == plans.PLAN_CREATED else [data]
        if added:
            await conn.execute(
                insert(commitments),
                [
                    {
                        "assignment_id": data["assignment_id"],
                        "year": data["year"],
                        "id": c["commitment_id"],
                        "description": c["description"],
                        "category": c["category"],
                        "quarter": c["quarter"],
                        "planned_value_vnd": c.get("planned_value_vnd"),
                        "planned_quantity": c.get("planned_quantity"),
                    }
                    for c in added
                ],
            )
    else:
        raise ValueError(f"no projection for {event.type}")
