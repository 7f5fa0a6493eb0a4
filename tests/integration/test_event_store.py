import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.eventstore import ConcurrencyConflict, append, load_stream, stream_version
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
