"""Events for tests: real shapes, made-up content."""

import uuid
from datetime import UTC, datetime
from typing import Any

from shared.envelope import Envelope
from shared.eventstore import NewEvent

PROVINCE = "68"  # Lâm Đồng, the province Bình Thuận joined in 2025


def new_event(partition_key: str = "commune-22945", **data: Any) -> NewEvent:
    return NewEvent(
        type="vn.ketnghia.test.recorded.v1",
        data=data or {"value_vnd": 21_750_000, "description": "15 xe đạp cho học sinh nghèo"},
        province=PROVINCE,
        partition_key=partition_key,
        correlation_id=uuid.uuid4(),
    )


def envelope(partition_key: str = "commune-22945", **data: Any) -> Envelope:
    return Envelope(
        id=uuid.uuid4(),
        source="/ketnghia/tests",
        type="vn.ketnghia.test.recorded.v1",
        time=datetime.now(UTC),
        subject=f"stream-{partition_key}",
        province=PROVINCE,
        partitionkey=partition_key,
        correlationid=uuid.uuid4(),
        streamversion=1,
        data=data or {"value_vnd": 200_000_000, "households": 7},
    )
