import asyncio
from dataclasses import replace

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.auth import Actor
from shared.eventstore import (
    COPY_AT_LEAST,
    ConcurrencyConflict,
    append,
    append_many,
    load_stream,
    stream_version,
)
from shared.tables import events, outbox
from tests.factories import new_event


async def test_append_then_load_keeps_order_versions_and_outbox_marks(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        first = await append(conn, "assignment-1", 0, [new_event(), new_event()], topic="t")
        second = await append(conn, "assignment-1", 2, [new_event()], topic="t")
    async with engine.connect() as conn:
        loaded = await load_stream(conn, "assignment-1")
        marked = (await conn.execute(select(outbox.c.position).order_by(outbox.c.position))).all()
    assert [e.version for e in loaded] == [1, 2, 3]
    assert [e.event_id for e in loaded] == [e.event_id for e in first + second]
    assert [e.position for e in loaded] == sorted(e.position for e in loaded)
    assert [row.position for row in marked] == [e.position for e in loaded]


async def test_a_stale_expected_version_is_a_conflict_naming_the_actual_version(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await append(conn, "assignment-2", 0, [new_event()], topic="t")
    with pytest.raises(ConcurrencyConflict) as conflict:
        async with engine.begin() as conn:
            await append(conn, "assignment-2", 0, [new_event()], topic="t")
    assert conflict.value.actual_version == 1
    assert conflict.value.expected_version == 0


async def test_concurrent_appends_at_the_same_version_exactly_one_wins(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await append(conn, "assignment-3", 0, [new_event()], topic="t")
    start = asyncio.Event()

    async def writer() -> str:
        async with engine.connect() as conn:
            await start.wait()
            try:
                async with conn.begin():
                    await append(conn, "assignment-3", 1, [new_event(), new_event()], topic="t")
            except ConcurrencyConflict:
                return "conflict"
            return "won"

    tasks = [asyncio.create_task(writer()) for _ in range(12)]
    await asyncio.sleep(0.2)  # every writer holds its connection before the race starts
    start.set()
    outcomes = await asyncio.gather(*tasks)

    assert outcomes.count("won") == 1
    assert outcomes.count("conflict") == 11
    async with engine.connect() as conn:
        assert await stream_version(conn, "assignment-3") == 3
        # The losers' transactions left nothing behind, neither events nor outbox marks.
        assert await conn.scalar(select(func.count()).select_from(events)) == 3
        assert await conn.scalar(select(func.count()).select_from(outbox)) == 3


async def test_a_rolled_back_command_leaves_no_event_and_no_outbox_mark(
    engine: AsyncEngine,
) -> None:
    with pytest.raises(RuntimeError, match="validation failed later"):
        async with engine.begin() as conn:
            await append(conn, "assignment-4", 0, [new_event()], topic="t")
            raise RuntimeError("validation failed later in the command")
    async with engine.connect() as conn:
        assert await stream_version(conn, "assignment-4") == 0
        assert await conn.scalar(select(func.count()).select_from(outbox)) == 0


async def test_a_large_append_is_copied_reads_back_the_same_and_conflicts_as_an_insert_does(
    engine: AsyncEngine,
) -> None:
    """An import's chunk (`COPY_AT_LEAST` events or more) goes in with COPY: loaded back it
    is what was appended, in position order with outbox marks; two imports racing for the
    same new streams: one wins, the other is a conflict naming the stream, nothing of it
    left behind."""
    author = Actor("sub-9", "Trần Văn Bình", "unit_clerk", ("unit-a",))
    streams = [
        (f"activity-{n}", 0, [replace(new_event(f"commune-{n % 7}", n=n, note="Xe đạp"),
                                      actor=author if n % 2 else None)])
        for n in range(COPY_AT_LEAST + 20)
    ]  # fmt: skip
    async with engine.begin() as conn:
        stored = await append_many(conn, streams, topic="t")
    async with engine.connect() as conn:
        loaded = [
            event for stream_id, _, _ in streams for event in await load_stream(conn, stream_id)
        ]
        marked = (await conn.execute(select(outbox.c.position).order_by(outbox.c.position))).all()
    assert loaded == stored
    assert [e.data for e in loaded] == [new[0].data for _, _, new in streams]
    assert [e.actor for e in loaded] == [new[0].actor for _, _, new in streams]
    assert [e.position for e in stored] == sorted(e.position for e in stored)
    assert [row.position for row in marked] == [e.position for e in stored]

    again = [(f"fresh-{n}", 0, [new_event()]) for n in range(COPY_AT_LEAST)] + [streams[5]]
    with pytest.raises(ConcurrencyConflict) as conflict:
        async with engine.begin() as conn:
            await append_many(conn, again, topic="t")
    assert conflict.value.stream_id == "activity-5"
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(events)) == len(streams)
        assert await stream_version(conn, "fresh-0") == 0
