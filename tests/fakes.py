"""An in-memory event store for the service layer's unit tests: the real repositories and
units of work on top of a dict, with the store's two promises kept (a stale expected
version is `ConcurrencyConflict`; a rolled-back unit leaves nothing)."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from shared.contract import Event
from shared.eventstore import ConcurrencyConflict, Decided


@dataclass(frozen=True)
class Saved:
    """An event as the fake stored it, with where it would have been published."""

    stream_id: str
    version: int
    event: Event
    province: str
    partition_key: str


@dataclass
class InMemoryEvents:
    streams: dict[str, list[Saved]] = field(default_factory=dict)
    commits: int = 0
    rollbacks: int = 0
    _before: dict[str, list[Saved]] | None = None

    async def load(self, stream_id: str) -> list[Event]:
        return [saved.event for saved in self.streams.get(stream_id, [])]

    async def taken(self, stream_ids: Sequence[str]) -> set[str]:
        return {stream_id for stream_id in stream_ids if self.streams.get(stream_id)}

    async def append(self, streams: Sequence[Decided]) -> None:
        for stream in streams:
            actual = len(self.streams.get(stream.stream_id, []))
            if actual != stream.expected:
                raise ConcurrencyConflict(stream.stream_id, stream.expected, actual)
        for stream in streams:
            saved = self.streams.setdefault(stream.stream_id, [])
            for event, key in stream.events:
                saved.append(Saved(stream.stream_id, len(saved) + 1, event, stream.province, key))

    async def begin(self) -> None:
        self._before = {stream_id: list(saved) for stream_id, saved in self.streams.items()}

    async def commit(self) -> None:
        self._before = None
        self.commits += 1

    async def rollback(self) -> None:
        assert self._before is not None
        self.streams, self._before = self._before, None
        self.rollbacks += 1

    def types(self, stream_id: str) -> list[str]:
        return [saved.event.type for saved in self.streams.get(stream_id, [])]

    def all_events(self) -> list[Saved]:
        return [saved for stream in self.streams.values() for saved in stream]

    def written(self, stream_id: str, *events: Event, province: str, key: str) -> None:
        """Events another writer stored earlier (or in between), outside any unit."""
        saved = self.streams.setdefault(stream_id, [])
        for event in events:
            saved.append(Saved(stream_id, len(saved) + 1, event, province, key))
