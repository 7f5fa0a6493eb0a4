"""The integration tests' `eventually`: it waits for a condition and fails the test, saying
what it last saw, when the condition does not hold in time (never a falsy return a caller
could ignore)."""

import time
from collections.abc import Iterator

import pytest

from tests.integration.conftest import eventually


async def test_the_first_truthy_answer_is_returned_whether_check_is_async_or_a_lambda() -> None:
    answers: Iterator[object] = iter([0, None, [], {"done": 3}])

    async def check() -> object:
        return next(answers)

    assert await eventually(check, timeout=5) == {"done": 3}
    left = iter(["", "ok"])

    async def later() -> str:
        return next(left)

    assert await eventually(lambda: later(), timeout=5) == "ok"  # a coroutine, awaited


async def test_a_condition_that_never_holds_fails_the_test_saying_what_it_saw() -> None:
    async def count_of_rows() -> int:
        return 0

    started = time.monotonic()
    with pytest.raises(
        AssertionError, match=r"count_of_rows did not hold within 0\.5 s; it last returned 0"
    ):
        await eventually(count_of_rows, timeout=0.5)
    assert 0.5 <= time.monotonic() - started < 5


async def test_an_error_in_the_check_is_raised_at_once() -> None:
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise KeyError("no such row")

    with pytest.raises(KeyError):
        await eventually(broken, timeout=30)
    assert calls == 1
