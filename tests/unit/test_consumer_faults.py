"""Which failures a consumer retries and which it dead-letters, and the pause between
retries: what keeps one event from stopping a pipeline, and a database outage from
dead-lettering good events."""

from collections.abc import Sequence
from typing import Any

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shared.consumer import ATTEMPTS, Delivery, apply_or_isolate, transient
from shared.health import Stall


class _Orig(Exception):
    def __init__(self, sqlstate: str | None) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _error(kind: type[DBAPIError], sqlstate: str | None) -> DBAPIError:
    return kind("INSERT ...", {}, _Orig(sqlstate))


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (_error(DBAPIError, "22003"), False),  # numeric value out of range
        (_error(IntegrityError, "23505"), False),  # unique violation
        (KeyError("value_vnd"), False),  # data the projection cannot read
        (_error(OperationalError, "08006"), True),  # connection failure
        (_error(DBAPIError, "40P01"), True),  # deadlock
        (_error(DBAPIError, "57P01"), True),  # the server shutting down
        (_error(DBAPIError, None), True),  # no answer at all
        (ConnectionRefusedError(), True),
        (TimeoutError(), True),
        # straight from asyncpg (the projection's COPY is not wrapped by SQLAlchemy)
        (asyncpg.exceptions.DeadlockDetectedError("deadlock"), True),
        (asyncpg.exceptions.ConnectionDoesNotExistError("closed"), True),
        (asyncpg.exceptions.AdminShutdownError("shutdown"), True),
        (asyncpg.exceptions.NumericValueOutOfRangeError("out of range"), False),
        (asyncpg.exceptions.UniqueViolationError("duplicate key"), False),
        (asyncpg.exceptions.DataError("invalid input for query argument"), False),
        (asyncpg.exceptions.InterfaceError("connection is closed"), True),
        (PoolTimeout("QueuePool limit reached"), True),  # the pool, not the event
        (IntegrityError("INSERT ...", {}, Exception("no state")), False),
    ],
)
def test_time_cures_the_database_away_not_an_event_it_refuses(
    error: BaseException, retried: bool
) -> None:
    assert transient(error) is retried


class _Consumer:
    """Applies a batch unless it holds a refused event (as the projection would)."""

    def __init__(self, refused: set[int], error: BaseException) -> None:
        self.refused, self.error, self.calls = refused, error, 0
        self.applied: list[int] = []
        self.claimed: list[int] = []

    async def apply(self, deliveries: Sequence[Delivery[Any]], project: Any) -> int:
        self.calls += 1
        if project is not PROJECT:  # a claim of what was dead-lettered: nothing applied
            self.claimed += [d.offset for d in deliveries]
            return 0
        if any(d.offset in self.refused for d in deliveries):
            raise self.error
        self.applied += [d.offset for d in deliveries]
        return len(deliveries)


PROJECT = object()  # the projection the fake consumer applies


def _batch(size: int) -> list[Delivery[Any]]:
    return [Delivery(None, None, "t", None, "topic", 0, offset) for offset in range(size)]  # type: ignore[arg-type]


async def test_an_event_the_projection_refuses_is_dead_lettered_and_the_rest_applied() -> None:
    consumer = _Consumer({2}, _error(DBAPIError, "22003"))
    dead: list[int] = []

    async def dead_letter(delivery: Delivery[Any], _reason: BaseException) -> None:
        dead.append(delivery.offset)

    applied = await apply_or_isolate(consumer, _batch(5), PROJECT, dead_letter)  # type: ignore[arg-type]

    assert (applied, consumer.applied, dead) == (4, [0, 1, 3, 4], [2])
    assert consumer.claimed == [2]  # delivered again, it is not dead-lettered twice
    assert consumer.calls == 1 + 4 + ATTEMPTS + 1  # batch, the others, it ATTEMPTS times, claim


async def test_a_database_outage_dead_letters_nothing() -> None:
    consumer = _Consumer({2}, _error(OperationalError, "08006"))

    async def dead_letter(_delivery: Delivery[Any], _reason: BaseException) -> None:
        raise AssertionError("dead-lettered during an outage")

    with pytest.raises(OperationalError):
        await apply_or_isolate(consumer, _batch(5), PROJECT, dead_letter)  # type: ignore[arg-type]
    assert consumer.applied == []


def test_a_stalled_pipeline_pauses_longer_each_time_up_to_half_a_minute() -> None:
    stall = Stall("test")
    pauses = [stall.failed() for _ in range(10)]

    assert pauses[:4] == [0.5, 1.0, 2.0, 4.0]
    assert max(pauses) == 30.0
    assert stall.seconds() >= 0.0
    stall.passed()
    assert (stall.failures, stall.seconds()) == (0, 0.0)
