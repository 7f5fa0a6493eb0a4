"""What `shared.logs` promises of the consumers: a line logged while a consumed event is
handled carries that event's correlation id and province, and only while it is."""

from collections.abc import Iterator, Sequence
from types import SimpleNamespace
from typing import Any

import pytest
import structlog
from structlog.contextvars import get_contextvars, merge_contextvars
from structlog.testing import CapturingLogger, LogCapture
from structlog.typing import EventDict

from shared import consumer
from shared.consumer import Delivery, apply_or_isolate
from shared.envelope import Envelope
from tests.factories import envelope


@pytest.fixture
def lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[EventDict]]:
    """The consumer's log lines as `shared.logs` makes them: the bound context merged in
    (whatever structlog configuration other tests left behind)."""
    capture = LogCapture()
    logger = structlog.wrap_logger(CapturingLogger(), processors=[merge_contextvars, capture])
    monkeypatch.setattr(consumer, "log", logger)
    yield capture.entries
    assert get_contextvars() == {}  # nothing bound outlives the message


def as_record(event: Envelope, offset: int) -> SimpleNamespace:
    message = event.to_kafka()
    return SimpleNamespace(
        topic="topic", partition=0, offset=offset, key=message.key, value=message.value,
        headers=list(message.headers.items()),
    )  # fmt: skip


class _Refusing:
    """Applies a batch unless it holds the refused event (as a projection would)."""

    def __init__(self, refused: Envelope) -> None:
        self.refused = refused

    async def apply(self, deliveries: Sequence[Delivery[Any]], project: Any) -> int:
        if project is PROJECT and any(d.event is self.refused for d in deliveries):
            consumer.log.info("projection refused it")
            raise KeyError("value_vnd")  # data the projection cannot read: not transient
        return len(deliveries)


PROJECT = object()


async def test_a_refused_event_is_logged_with_its_own_correlation_id_and_province(
    lines: list[EventDict],
) -> None:
    good = envelope("commune-20704").model_copy(update={"province": "49"})
    bad = envelope("commune-23116").model_copy(update={"province": "60"})
    batch = [Delivery.of(good, "topic", 0, 0), Delivery.of(bad, "topic", 0, 1)]
    records = {0: as_record(good, 0), 1: as_record(bad, 1)}

    async def dead_letter(delivery: Delivery[Any], reason: BaseException) -> None:
        # as `subscribe` does: to the dead-letter topic (none here), logged
        record = records[delivery.offset]
        await consumer._dead_letter(None, None, "tests", record, reason, "projection_failed")  # type: ignore[arg-type]

    applied = await apply_or_isolate(_Refusing(bad), batch, PROJECT, dead_letter)  # type: ignore[arg-type]

    assert applied == 1
    refused = [line for line in lines if line["event"] == "projection refused it"]
    [dead] = [line for line in lines if line["event"] == "dead letter"]
    assert len(refused) == 1 + consumer.ATTEMPTS  # the batch, then the event alone
    for line in [*refused[1:], dead]:  # handled alone: its own
        assert (line["correlation_id"], line["province"]) == (str(bad.correlationid), "60")
    assert "correlation_id" not in refused[0]  # the whole batch: no one event's
    assert str(good.correlationid) not in repr(lines)


async def test_a_message_that_is_no_cloudevent_is_logged_with_the_ids_its_headers_name(
    lines: list[EventDict],
) -> None:
    event = envelope().model_copy(update={"province": "11"})
    record = as_record(event, 7)
    record.value = b"{not json"
    record.headers = [(k, v) for k, v in record.headers if k != "ce_specversion"]
    record.headers.append(("ce_subject", b"\xff\xfe"))  # what does not decode stays out

    await consumer._dead_letter(None, None, "tests", record, ValueError("no CloudEvent"))  # type: ignore[arg-type]

    [dead] = lines
    assert dead["event"] == "dead letter"
    assert (dead["correlation_id"], dead["province"]) == (str(event.correlationid), "11")
    assert dead["offset"] == 7
