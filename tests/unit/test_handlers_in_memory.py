"""The consumer `shared.consumer.subscribe` builds, driven by faststream's in-memory broker
(`TestKafkaBroker`): what reaches the projection, what goes to the dead-letter topic and
why, and that one bad message in a batch stops none of the others. No Kafka, no
PostgreSQL: the database is `_Claims`, which keeps only what the consumer reads back (the
event ids it has claimed); the real consumer and subscriber do everything else.

The idempotent consumer on real infrastructure is tested in
`tests/integration/test_idempotent_consumer.py`; which errors are retried, in
`test_consumer_faults.py`; the log lines, in `test_consumer_logs.py`."""

import base64
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.subscriber.usecase import BatchSubscriber

from shared.consumer import subscribe
from shared.contract import validator
from shared.envelope import Envelope, publish_envelope
from shared.health import STALLS, Stall

TOPIC, DEAD_LETTERS, CONSUMER = "registry.events", "registry.events.dlq", "tests-in-memory"
REGISTERED = "vn.ketnghia.registry.sponsor_unit.registered.v1"


class _Claims:
    """The database as the consumer uses it, in memory: a transaction (`begin`) whose
    claims of event ids (`processed_events`) hold once it ends and vanish if it fails; the
    advisory lock and the consumer's positions are accepted and not kept."""

    def __init__(self) -> None:
        self.claimed: set[UUID] = set()

    @asynccontextmanager
    async def begin(self) -> AsyncIterator["_Claims"]:
        before = set(self.claimed)
        try:
            yield self
        except BaseException:
            self.claimed = before
            raise

    async def execute(self, statement: Any) -> SimpleNamespace:
        offered = set(statement.compile().params.get("ids") or ())  # the claim's one parameter
        new = offered - self.claimed
        self.claimed |= new
        return SimpleNamespace(scalars=lambda: new)


@dataclass
class _Service:
    """A consumer as a service subscribes it, and what it did."""

    broker: KafkaBroker
    database: _Claims
    applied: list[Envelope] = field(default_factory=list)
    dead: list[ConsumerRecord[bytes, bytes]] = field(default_factory=list)
    refuse: set[UUID] = field(default_factory=set)  # events the projection cannot apply
    fail_with: BaseException | None = None  # what every batch fails with

    async def project(self, _conn: Any, events: Sequence[Envelope]) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        if refused := [e for e in events if e.id in self.refuse]:
            raise KeyError(f"value_vnd of {refused[0].id}")  # data the projection cannot read
        self.applied.extend(events)

    def dead_letter(self, kind: str) -> dict[str, str]:
        """The headers of the one dead letter of `kind`."""
        [headers] = [h for h in map(_headers, self.dead) if h["dlq_kind"] == kind]
        return headers


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> _Service:
    monkeypatch.setitem(STALLS, CONSUMER, Stall(CONSUMER))  # none outlives the test
    broker = KafkaBroker("localhost:9092")
    found = _Service(broker, _Claims())
    subscribe(
        broker, found.database,  # type: ignore[arg-type]
        topic=TOPIC, name=CONSUMER, project=found.project,
        validate=validator(), dead_letters=DEAD_LETTERS,
    )  # fmt: skip

    @broker.subscriber(DEAD_LETTERS)
    async def read_dead_letter(message: KafkaMessage) -> None:
        found.dead.append(message.raw_message)

    return found


@asynccontextmanager
async def running(service: _Service) -> AsyncIterator[Any]:
    async with TestKafkaBroker(service.broker) as broker:
        yield broker


def _envelope(event_type: str = REGISTERED, **data: Any) -> Envelope:
    return Envelope(
        id=uuid.uuid4(),
        source="/ketnghia/registry",
        type=event_type,
        time=datetime.now(UTC),
        subject="sponsor-unit-7",
        province="60",
        partitionkey="sponsor-unit-7",
        correlationid=uuid.uuid4(),
        streamversion=1,
        data=data or _unit(),
    )


def _unit(**changes: Any) -> dict[str, Any]:
    return {
        "sponsor_unit_id": "sponsor-unit-7",
        "province": "60",
        "name": "Sở Y tế tỉnh Bình Thuận",
        "kind": "department",
    } | changes


def _headers(record: ConsumerRecord[bytes, bytes]) -> dict[str, str]:
    return {key: value.decode() for key, value in record.headers}


def _record(
    offset: int, value: bytes, headers: Sequence[tuple[str, bytes]]
) -> ConsumerRecord[bytes, bytes]:
    """A record of `TOPIC` as aiokafka hands it over, at `offset`."""
    return ConsumerRecord(
        topic=TOPIC,
        partition=0,
        offset=offset,
        timestamp=int(datetime.now(UTC).timestamp() * 1000),
        timestamp_type=0,
        key=b"sponsor-unit-7",
        value=value,
        checksum=None,
        serialized_key_size=14,
        serialized_value_size=len(value),
        headers=list(headers),
    )


def _as_record(offset: int, envelope: Envelope) -> ConsumerRecord[bytes, bytes]:
    message = envelope.to_kafka()
    return _record(offset, message.value, list(message.headers.items()))


async def _deliver(service: _Service, *records: ConsumerRecord[bytes, bytes]) -> None:
    """Hand the subscriber one batch of records, as a poll of the topic returns them
    (the in-memory broker's own `publish_batch` gives every message the same headers)."""
    [subscriber] = [s for s in service.broker.subscribers if isinstance(s, BatchSubscriber)]
    await subscriber.process_message(list(records))


async def test_a_valid_event_reaches_the_projection_parsed_with_its_correlation_id(
    service: _Service,
) -> None:
    event = _envelope()

    async with running(service) as broker:
        await publish_envelope(broker, TOPIC, event)
        await publish_envelope(broker, TOPIC, event)  # delivered again: applied once

    assert service.applied == [event]
    assert service.applied[0].correlationid == event.correlationid
    assert service.applied[0].data["name"] == "Sở Y tế tỉnh Bình Thuận"
    assert service.database.claimed == {event.id}
    assert service.dead == []


async def test_a_message_that_is_no_cloudevent_is_dead_lettered_as_it_came(
    service: _Service,
) -> None:
    async with running(service) as broker:
        await broker.publish(b"{not json", TOPIC, key=b"k-1", headers={"origin": "elsewhere"})

    assert service.applied == []
    [dead] = service.dead
    assert (dead.value, dead.key) == (b"{not json", b"k-1")
    headers = _headers(dead)
    assert headers["dlq_kind"] == "not_cloudevent"
    assert headers["dlq_reason"] == (
        "InvalidEnvelope: not a binary-mode CloudEvent: no ce_specversion header"
    )
    assert (headers["dlq_consumer"], headers["dlq_origin"]) == (CONSUMER, f"{TOPIC}/0/0")
    assert headers["origin"] == "elsewhere"  # its own headers kept


async def test_an_unknown_event_type_is_dead_lettered_as_rejected(service: _Service) -> None:
    event = _envelope("vn.ketnghia.registry.nothing_such.v1")

    async with running(service) as broker:
        await publish_envelope(broker, TOPIC, event)

    assert service.applied == []
    headers = service.dead_letter("rejected")
    assert headers["dlq_reason"] == (
        "Poison: unknown event type 'vn.ketnghia.registry.nothing_such.v1'"
    )
    assert (headers["ce_id"], headers["ce_correlationid"]) == (
        str(event.id),
        str(event.correlationid),
    )
    assert service.dead[0].value == event.to_kafka().value


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ({k: v for k, v in _unit().items() if k != "name"}, "missing required field `name`"),
        (_unit(province="Bình Thuận"), r"matching regex '^[0-9]{2}\\Z' - at `$.province`"),
        (_unit(name="x" * 10_000), "length <= 300 - at `$.name`"),
        (_unit(parent_id=7), "`str | null`, got `int` - at `$.parent_id`"),  # no number for text
    ],
)
async def test_data_the_contract_refuses_is_dead_lettered_as_rejected(
    service: _Service, data: dict[str, Any], why: str
) -> None:
    event = _envelope(**data)

    async with running(service) as broker:
        await publish_envelope(broker, TOPIC, event)

    assert service.applied == []
    reason = service.dead_letter("rejected")["dlq_reason"]
    assert reason.startswith(f"Poison: {REGISTERED}: ")
    assert reason.endswith(why)


async def test_oversized_headers_make_no_cloudevent_and_a_reason_cut_short(
    service: _Service,
) -> None:
    message = _envelope().to_kafka()
    headers = {k: v.decode() for k, v in message.headers.items()}
    for name in ("actor", "actorname", "actorrole", "actorunit", "correlationid"):
        headers[f"ce_{name}"] = "Nguyễn " * 20_000  # 140 kB each

    async with running(service) as broker:
        await broker.publish(message.value, TOPIC, headers=headers)

    assert service.applied == []
    reason = service.dead_letter("not_cloudevent")["dlq_reason"]
    assert reason.startswith("InvalidEnvelope: ValidationError: 5 validation errors")
    assert "actor\n  String should have at most 255 characters" in reason
    assert len(reason) == 1000  # cut, however much the headers held


async def test_a_batch_applies_its_good_events_in_order_and_dead_letters_the_poison(
    service: _Service,
) -> None:
    good = [_envelope() for _ in range(3)]
    unknown = _envelope("vn.ketnghia.registry.nothing_such.v1")
    undecodable = _envelope().to_kafka()
    not_utf8 = [(k, b"\xff\xfe" if k == "ce_source" else v) for k, v in undecodable.headers.items()]

    async with running(service):
        await _deliver(
            service,
            _as_record(10, good[0]),
            _record(11, b"{not json", [("ce_specversion", b"1.0")]),
            _as_record(12, good[1]),
            _as_record(13, unknown),
            _record(14, undecodable.value, not_utf8),
            _as_record(15, good[2]),
        )

    assert service.applied == good
    assert [(h["dlq_kind"], h["dlq_origin"]) for h in map(_headers, service.dead)] == [
        ("not_cloudevent", f"{TOPIC}/0/11"),
        ("rejected", f"{TOPIC}/0/13"),
        ("not_cloudevent", f"{TOPIC}/0/14"),
    ]
    assert service.dead[0].value == b"{not json"
    garbled = _headers(service.dead[2])
    assert garbled["dlq_reason"].startswith("InvalidEnvelope: UnicodeDecodeError: ")
    assert garbled["dlq_b64_ce_source"] == base64.b64encode(b"\xff\xfe").decode()  # kept


async def test_an_event_the_projection_refuses_is_dead_lettered_and_the_rest_applied(
    service: _Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("shared.consumer.ATTEMPTS", 1)  # no pauses between attempts
    events = [_envelope() for _ in range(3)]
    service.refuse = {events[1].id}

    async with running(service):
        await _deliver(service, *(_as_record(20 + i, e) for i, e in enumerate(events)))

    assert service.applied == [events[0], events[2]]
    headers = service.dead_letter("projection_failed")
    assert headers["dlq_origin"] == f"{TOPIC}/0/21"  # the refused one's own record
    assert headers["ce_id"] == str(events[1].id)
    assert headers["dlq_reason"] == f"KeyError: 'value_vnd of {events[1].id}'"
    assert service.database.claimed == {e.id for e in events}  # not dead-lettered twice


async def test_a_database_outage_fails_the_batch_for_redelivery_and_dead_letters_nothing(
    service: _Service,
) -> None:
    service.fail_with = ConnectionRefusedError("database away")
    event = _envelope()

    async with running(service) as broker:
        with pytest.raises(ConnectionRefusedError):  # the batch is nacked: Kafka sends it again
            await publish_envelope(broker, TOPIC, event)

    assert (service.applied, service.dead, service.database.claimed) == ([], [], set())
    assert STALLS[CONSUMER].failures == 1  # seen in `/readyz` if it lasts
