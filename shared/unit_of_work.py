"""How a command loads and saves aggregates: a `Repository` per kind of aggregate over an
`EventStore`, and a `UnitOfWork` whose `async with` block is the command's transaction.

A handler reads the same in every service (cosmicpython's handlers, event-sourced):

    async with uow:
        activity = await uow.activities.load(activity_id)
        activity.void(reason)
        await uow.activities.save(activity)

`save` appends the aggregate's pending events after the version it was loaded at (a
stale one is `ConcurrencyConflict`, naming the stream) and clears them. The unit commits
when its block ends and rolls back when it raises, so a refused command writes nothing. A
unit entered again inside its own block (a handler run by an idempotent request) joins the
transaction already open: the outermost block decides, and an inner block that failed
fails it, even when its error was caught (`UnitOfWorkFailed`).

The store is PostgreSQL (`PostgresEvents`: the events, their outbox rows and the read
models in the command's transaction) or, in unit tests, a dict (`tests/fakes.py`), with
the same repositories on top.
"""

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Generic, Protocol, Self, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncTransaction

from shared.contract import Data, Event
from shared.eventstore import Decided, Recorder, load_stream
from shared.tables import events


class Aggregate(Protocol):
    """What a repository needs of an aggregate: where its events go, and which it decided.
    `version` counts its events, pending ones included (each is applied as it is decided)."""

    version: int
    pending: list[Event]

    @property
    def stream_id(self) -> str: ...

    @property
    def province(self) -> str: ...

    @property
    def partition_key(self) -> str: ...


A = TypeVar("A", bound=Aggregate)


class EventStore(Protocol):
    async def load(self, stream_id: str) -> list[Event]: ...

    async def taken(self, stream_ids: Sequence[str]) -> set[str]:
        """The ids among `stream_ids` that some stream already has."""
        ...

    async def append(self, streams: Sequence[Decided]) -> None:
        """All or nothing; `ConcurrencyConflict` when a stream is not at its `expected`."""
        ...

    async def begin(self) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class Repository(Generic[A]):
    """The aggregates of one kind: rebuilt from their streams, saved as new events.
    `created` is the model a stream of this kind starts with; another stream of the same
    id is not one of them (the registry's ids share one namespace)."""

    def __init__(
        self,
        store: EventStore,
        rebuild: Callable[[list[Event]], A],
        created: type[Data] | None = None,
    ) -> None:
        self.store = store
        self.rebuild = rebuild
        self.created = created

    async def load(self, stream_id: str) -> A | None:
        history = await self.store.load(stream_id)
        if not history or (self.created is not None and type(history[0].data) is not self.created):
            return None
        return self.rebuild(history)

    async def taken(self, ids: Sequence[str]) -> set[str]:
        """The ids already used, for creates that name their id (a retry is a 409)."""
        return await self.store.taken(ids)

    async def save(self, *aggregates: A) -> None:
        """Append each aggregate's pending events after the version it was loaded at, in
        one append (an import's chunk: one COPY), and clear them."""
        decided = [
            Decided(
                aggregate.stream_id,
                aggregate.version - len(aggregate.pending),
                [(event, aggregate.partition_key) for event in aggregate.pending],
                aggregate.province,
            )
            for aggregate in aggregates
            if aggregate.pending
        ]
        if decided:
            await self.store.append(decided)
        for aggregate in aggregates:
            aggregate.pending = []


class UnitOfWork:
    """One command's transaction over `store`; services add their repositories."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._depth = 0
        self._failed = False

    async def __aenter__(self) -> Self:
        if not self._depth:
            await self.store.begin()
            self._failed = False
        self._depth += 1
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if kind is not None:
            self._failed = True  # an inner block's failure fails the whole transaction
        if self._depth:
            return
        if not self._failed:
            await self.store.commit()
            return
        await self.store.rollback()
        if kind is None:
            raise UnitOfWorkFailed(
                "an inner `async with uow:` failed and its error was caught: what it wrote "
                "is rolled back with the rest, not committed half-done"
            )


class UnitOfWorkFailed(RuntimeError):
    """A unit's block ended normally after one of its inner blocks failed."""


class PostgresEvents:
    """The service's event store in PostgreSQL, on one connection: `Recorder` appends
    (with outbox rows and the service's projection) in the transaction `begin` opens."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.conn: AsyncConnection = recorder.conn
        self._transaction: AsyncTransaction | None = None

    async def load(self, stream_id: str) -> list[Event]:
        """The stream's events as the contract's models, read back from their JSON."""
        return [Event(event.payload) for event in await load_stream(self.conn, stream_id)]

    async def taken(self, stream_ids: Sequence[str]) -> set[str]:
        if not stream_ids:
            return set()
        found = await self.conn.scalars(
            select(events.c.stream_id).where(
                events.c.stream_id.in_(stream_ids), events.c.version == 1
            )
        )
        return set(found)

    async def append(self, streams: Sequence[Decided]) -> None:
        await self.recorder.record_decided(streams)

    async def begin(self) -> None:
        self._transaction = await self.conn.begin()

    async def commit(self) -> None:
        await self._ended().commit()

    async def rollback(self) -> None:
        await self._ended().rollback()

    def _ended(self) -> AsyncTransaction:
        transaction, self._transaction = self._transaction, None
        assert transaction is not None, "the unit of work was not entered"
        return transaction
