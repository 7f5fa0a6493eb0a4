"""The rebuild's fast reader of recordings makes what the full reading (envelope, contract
check, `_version`) makes, and leaves to it whatever it doubts."""

import json
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from services.reporting.service_layer.projection import RECORDED, _version, read_recording
from shared.consumer import Delivery, Poison
from shared.contract import check, to_json
from shared.envelope import Envelope, InvalidEnvelope
from tests.unit.test_contract import decided_events, variants


def record(event_type: str, data: dict[str, Any], offset: int = 7) -> SimpleNamespace:
    event = Envelope(
        id=uuid.uuid4(), source="/ketnghia/activities", type=event_type,
        time=datetime(2024, 7, 1, 8, 30, 15, 250_000, tzinfo=UTC), subject="activity-1",
        province="60", partitionkey="commune:pre-2025:22945", correlationid=uuid.uuid4(),
        streamversion=1, data=data,
    )  # fmt: skip
    message = event.to_kafka()
    return SimpleNamespace(
        headers=list(message.headers.items()), key=b"k", value=message.value,
        topic="ketnghia.activities", partition=2, offset=offset,
    )  # fmt: skip


def full_reading(raw: SimpleNamespace) -> Delivery[Any] | None:
    try:
        delivery = Delivery.from_record(raw)
        check(delivery.type, delivery.event.data)
    except (InvalidEnvelope, Poison):
        return None
    return delivery


def test_a_recording_read_fast_is_the_version_the_full_reading_makes() -> None:
    valid = next(to_json(e.data) for e in decided_events() if e.type == RECORDED)
    accepted, doubted = 0, 0
    for data in [valid, *variants(valid)]:
        raw = record(RECORDED, data)
        fast, full = read_recording(raw), full_reading(raw)
        if fast is None:
            doubted += 1
            continue
        accepted += 1
        assert full is not None, data
        made = _version(full.event, full.event.data, False)
        assert fast.event._replace(facts="") == made._replace(facts="")
        assert isinstance(fast.event.facts, str)
        assert isinstance(made.facts, str)
        assert json.loads(fast.event.facts) == json.loads(made.facts)  # the facts, whole
        assert (fast.id, fast.type, fast.time) == (full.id, full.type, full.time)
        assert (fast.topic, fast.partition, fast.offset) == ("ketnghia.activities", 2, 7)
    assert accepted > 50  # optional fields missing or null, and the original
    assert doubted > 200


def test_other_events_are_left_to_the_full_reading() -> None:
    for event in decided_events():
        if event.type != RECORDED:
            raw = record(event.type, to_json(event.data))
            assert read_recording(raw) is None
            assert full_reading(raw) is not None


def test_a_version_s_fields_are_the_table_s_columns_in_order() -> None:
    """COPY takes a version's values in `activity_versions`' column order."""
    from services.reporting.adapters.tables import activity_versions
    from services.reporting.service_layer.projection import Version

    assert Version._fields == tuple(column.name for column in activity_versions.columns)


def test_each_kept_sum_names_its_table_s_columns() -> None:
    """`Totals` writes a kept table by its key, its measure and its count of activities:
    together, the table's columns, in order."""
    from services.reporting.service_layer.projection import KEPT

    for table, key, measure in KEPT:
        assert (*key, measure, "activities") == tuple(c.name for c in table.columns), table.name
