"""One correlation id from an HTTP request to the registry, through the CloudEvents
headers, to the log line of the activities service that applied the event."""

import asyncio
import logging
import uuid
from typing import Any

import httpx
import pytest


def applied_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [
        record.msg
        for record in caplog.records
        if isinstance(record.msg, dict) and record.msg.get("event") == "event applied"
    ]


async def test_the_request_correlation_id_reaches_the_consumer_log(
    registry: httpx.AsyncClient, activities: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    correlation = str(uuid.uuid4())
    response = await registry.post(
        "/sponsor-units",
        json={"province": "60", "name": "Điện lực Bình Thuận", "kind": "enterprise"},
        headers={"X-Correlation-ID": correlation},
    )
    assert response.headers["X-Correlation-ID"] == correlation

    for _attempt in range(150):
        mine = [line for line in applied_lines(caplog) if line["correlation_id"] == correlation]
        if mine:
            break
        await asyncio.sleep(0.1)

    [line] = mine
    assert line["type"] == "vn.ketnghia.registry.sponsor_unit.registered.v1"
    assert line["province"] == "60"
    assert line["consumer"].endswith(".registry-view")  # the activities service's consumer
    uuid.UUID(line["event_id"])
