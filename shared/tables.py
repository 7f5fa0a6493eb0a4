"""The plumbing tables every service keeps in its own schema.

- `events`: the append-only event store; `position` is the global order,
  `(stream_id, version)` is unique so concurrent writers cannot both win.
- `outbox`: events not yet published, written in the same transaction as the event.
- `outbox_parked`: events Kafka refused for good, set aside by the relay with the reason.
- `outbox_relay_state`: how far the relay got, and when.
- `processed_events` and `consumer_positions`: what a consumer has applied, committed
  in the same transaction as its projection writes.

Migrations create these tables with explicit DDL (`shared.migrations`), so that a change
here needs a new migration rather than silently changing an old one.
"""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

events = Table(
    "events",
    metadata,
    Column("position", BigInteger, Identity(), primary_key=True),
    Column("event_id", Uuid, nullable=False, unique=True),
    Column("stream_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("type", Text, nullable=False),
    Column("province", Text, nullable=False),
    Column("partition_key", Text, nullable=False),
    Column("data", JSONB, nullable=False),
    Column("correlation_id", Uuid, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Who made the change: subject, name, role, units (`shared.auth.Actor`); NULL for the
    # system's own loaders and for events recorded before sign-in existed.
    Column("actor", JSONB, nullable=True),
    UniqueConstraint("stream_id", "version", name="events_stream_version_key"),
    Index("events_province_position", "province", "position"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("position", BigInteger, ForeignKey("events.position"), primary_key=True),
    Column("topic", Text, nullable=False),
)

outbox_parked = Table(
    "outbox_parked",
    metadata,
    # An event Kafka refuses for good (too large, invalid): out of the outbox, so that it
    # no longer holds back the events behind it, kept here with the reason for an operator.
    Column("position", BigInteger, ForeignKey("events.position"), primary_key=True),
    Column("topic", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("parked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

outbox_relay_state = Table(
    "outbox_relay_state",
    metadata,
    Column("relay", Text, primary_key=True),
    Column("last_position", BigInteger, nullable=False),
    Column("published_total", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

processed_events = Table(
    "processed_events",
    metadata,
    Column("consumer", Text, primary_key=True),
    Column("event_id", Uuid, primary_key=True),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

consumer_positions = Table(
    "consumer_positions",
    metadata,
    Column("consumer", Text, primary_key=True),
    Column("topic", Text, primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("next_offset", BigInteger, nullable=False),
    Column("event_time", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
