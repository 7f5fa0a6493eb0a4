"""The unit of work's transaction: the outermost block decides, and a failed inner block
fails it even when the error is caught, so nothing is committed half-done."""

import pytest

from services.activities.domain.activities import Activity
from shared.unit_of_work import Repository, UnitOfWork, UnitOfWorkFailed
from tests.fakes import InMemoryEvents
from tests.unit.activities.test_activities import BICYCLES


async def test_an_inner_block_joins_the_outer_transaction_which_commits_once() -> None:
    store = InMemoryEvents()
    uow, activities = UnitOfWork(store), Repository(store, Activity.from_events)
    async with uow:
        async with uow:
            await activities.save(Activity.record("a1", "60", BICYCLES))
        assert store.commits == 0
    assert store.commits == 1
    assert store.types("a1") == ["vn.ketnghia.activity.recorded.v1"]


async def test_an_inner_failure_caught_outside_it_rolls_everything_back() -> None:
    store = InMemoryEvents()
    uow, activities = UnitOfWork(store), Repository(store, Activity.from_events)
    with pytest.raises(UnitOfWorkFailed, match="rolled back"):
        async with uow:
            await activities.save(Activity.record("a1", "60", BICYCLES))
            try:
                async with uow:
                    await activities.save(Activity.record("a2", "60", BICYCLES))
                    raise ValueError("refused")
            except ValueError:
                pass  # a caller that carries on
    assert (store.commits, store.rollbacks) == (0, 1)
    assert store.all_events() == []

    async with uow:  # the next unit starts clean
        await activities.save(Activity.record("a3", "60", BICYCLES))
    assert store.types("a3") == ["vn.ketnghia.activity.recorded.v1"]
    assert store.commits == 1
