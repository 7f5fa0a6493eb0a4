"""Read-your-writes across services.

A service learns of another's writes from Kafka, a fraction of a second later: right after
the registry answers 201 to a new assignment, the activities service may not have heard of
it yet. So every write answers with a `Consistency-Token` header: the topic and id of the
last event it recorded under each Kafka key (`ketnghia.registry:<uuid>,...`). A caller
passes it on to another service in the same header; that service waits, up to
`WAIT_SECONDS`, until its consumers have applied those events (`processed_events`), and
otherwise answers 503 with `Retry-After`. Events of topics a service does not consume are
not waited for (its own writes it sees at once).
"""

import asyncio
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.errors import RuleViolation
from shared.tables import processed_events

HEADER = "Consistency-Token"
MAX_EVENTS = 32  # a write with more keys than this (an import) answers without a token
WAIT_SECONDS = 2.0
_ENTRY = re.compile(r"^([A-Za-z0-9._-]{1,249}):([0-9a-fA-F-]{36})$")

_written: ContextVar[dict[str, str] | None] = ContextVar("written", default=None)


class NotYetConsistent(Exception):
    """The events a caller waits for were not applied in time: a 503 with Retry-After."""


def note(topic: str, partition_key: str, event_id: uuid.UUID) -> None:
    """Called for each event a request records (`shared.eventstore.Recorder`)."""
    written = _written.get()
    if written is not None:
        written[partition_key] = f"{topic}:{event_id}"


@contextmanager
def collecting() -> Iterator[dict[str, str]]:
    """While a request is handled: the last event it recorded under each Kafka key (`note`
    fills it), for `token`."""
    written: dict[str, str] = {}
    reset = _written.set(written)
    try:
        yield written
    finally:
        _written.reset(reset)


def token(written: dict[str, str], status: int) -> str | None:
    """The header a successful write answers with (none for more than `MAX_EVENTS` keys:
    an import)."""
    if written and status < 400 and len(written) <= MAX_EVENTS:
        return ",".join(written.values())
    return None


def parse(token: str) -> list[tuple[str, uuid.UUID]]:
    entries = [entry.strip() for entry in token.split(",") if entry.strip()]
    if len(entries) > MAX_EVENTS:
        raise _malformed(f"more than {MAX_EVENTS} events")
    parsed = []
    for entry in entries:
        found = _ENTRY.match(entry)
        try:
            if found is None:
                raise ValueError(entry)
            parsed.append((found[1], uuid.UUID(found[2])))
        except ValueError as error:
            raise _malformed(f"{entry[:80]!r} is not topic:event-id") from error
    return parsed


def _malformed(why: str) -> RuleViolation:
    return RuleViolation(
        HEADER, f"Consistency-Token không hợp lệ / malformed token: {why}", location="header"
    )


async def _wait_for(
    request: Request,
    token: Annotated[
        str | None,
        Header(
            alias=HEADER,
            max_length=2_000,
            description="từ câu trả lời của một lần ghi / from a write's answer: wait until "
            "this service has applied those events (at most 2 s, else 503)",
        ),
    ] = None,
) -> None:
    if not token:
        return
    consumed: frozenset[str] = request.app.state.consumed_topics
    wanted = {event_id for topic, event_id in parse(token) if topic in consumed}
    if wanted:
        await wait_until_applied(request.app.state.engine, wanted, WAIT_SECONDS)


async def wait_until_applied(engine: AsyncEngine, wanted: set[uuid.UUID], seconds: float) -> None:
    """Poll this service's consumers' claims until every one of `wanted` is among them."""
    deadline = time.monotonic() + seconds
    query = select(func.count(func.distinct(processed_events.c.event_id))).where(
        processed_events.c.event_id.in_(sorted(wanted))
    )
    while True:
        async with engine.connect() as conn:
            applied = await conn.scalar(query) or 0
        if applied >= len(wanted):
            return
        if time.monotonic() >= deadline:
            raise NotYetConsistent(
                f"chưa nhận được {len(wanted) - applied} sự kiện của lần ghi trước: thử lại "
                f"sau giây lát / {len(wanted) - applied} of the write's events are not applied "
                "here yet: retry in a moment"
            )
        await asyncio.sleep(0.02)


Consistent = Depends(_wait_for)
"""A route dependency: the caller's earlier writes elsewhere are visible here."""
