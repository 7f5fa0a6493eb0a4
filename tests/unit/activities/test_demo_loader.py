"""The activities demo's waits, against a scripted service: while the service has not yet
heard of the registry's assignment it asks again, a bounded number of times, then says
so; an import is followed until it is no longer running."""

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from services.activities import demo

NOT_HEARD = httpx.Response(422, json={"detail": "assignment not (yet) heard of"})


def scripted(answers: Iterator[httpx.Response], calls: list[str]) -> httpx.AsyncClient:
    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        return next(answers)

    return httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://demo")


@pytest.fixture(autouse=True)
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "NOT_HEARD_PAUSE", 0)


async def test_a_write_waits_until_the_assignment_is_heard_of() -> None:
    calls: list[str] = []
    answers = iter([NOT_HEARD, NOT_HEARD, httpx.Response(201, json={})])
    async with scripted(answers, calls) as client:
        assert await demo._post(client, "/activities", {}, "key") == 1
    assert calls == ["POST /activities"] * 3


async def test_a_write_never_heard_of_ends_with_the_reason_after_the_last_try() -> None:
    calls: list[str] = []
    async with scripted(iter([NOT_HEARD] * 100), calls) as client:
        with pytest.raises(RuntimeError, match="has not heard of the registry's demo"):
            await demo._post(client, "/activities", {}, "key")
    assert len(calls) == demo.NOT_HEARD_TRIES


@pytest.mark.parametrize(
    ("answer", "recorded"),
    [
        (lambda: httpx.Response(201, json={}), 1),
        (lambda: httpx.Response(200, json={}, headers={"Idempotent-Replayed": "true"}), 0),
        (lambda: httpx.Response(409, json={}), 0),
    ],
)
async def test_a_write_counts_what_it_recorded(
    answer: Callable[[], httpx.Response], recorded: int
) -> None:
    async with scripted(iter([answer()]), []) as client:
        assert await demo._post(client, "/activities", {}, "key") == recorded


async def test_another_refusal_is_not_waited_on() -> None:
    calls: list[str] = []
    refused = httpx.Response(422, json={"detail": "value_vnd: must not be negative"})
    async with scripted(iter([refused]), calls) as client:
        with pytest.raises(RuntimeError, match="POST /activities: 422"):
            await demo._post(client, "/activities", {}, "key")
    assert len(calls) == 1


def import_answers(*states: dict[str, Any]) -> Iterator[httpx.Response]:
    yield httpx.Response(202, headers={"Location": "/imports/7"})
    for state in states:
        yield httpx.Response(200, json={"import_id": "7", **state})


async def test_an_import_is_followed_until_it_is_done() -> None:
    calls: list[str] = []
    running = {"status": "running"}
    answers = import_answers(running, running, {"status": "done", "errors": []})
    async with scripted(answers, calls) as client:
        outcome = await demo.import_and_wait(client, "60", "a.csv", b"", poll=0)
    assert outcome["status"] == "done"
    assert calls == ["POST /imports"] + ["GET /imports/7"] * 3


async def test_a_failed_import_raises_with_its_failure() -> None:
    answers = import_answers({"status": "running"}, {"status": "failed", "failure": "disk"})
    async with scripted(answers, []) as client:
        with pytest.raises(RuntimeError, match="import 7 failed: disk"):
            await demo.import_and_wait(client, "60", "a.csv", b"", poll=0)
