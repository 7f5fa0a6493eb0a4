"""What the activities service's routes ask FastAPI for."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from services.activities.service_layer import idempotency
from services.activities.service_layer.unit_of_work import ActivitiesUnit, unit_of_work
from shared.auth import Principal
from shared.service import Caller, Connection, CorrelationId, etag


async def _unit(
    request: Request, conn: Connection, correlation_id: CorrelationId, caller: Caller
) -> ActivitiesUnit:
    topic = request.app.state.settings.activities_topic
    return unit_of_work(conn, topic, correlation_id, caller.actor)


Unit = Annotated[ActivitiesUnit, Depends(_unit)]
"""A unit of work on the request's connection (the route's `Connection`), signing events
with the caller as their actor; the command handler opens its transaction."""

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="gửi lại cùng khóa thì không ghi thêm / a retry with it records nothing new",
    ),
]


async def once(
    request: Request,
    uow: ActivitiesUnit,
    conn: Connection,
    caller: Principal,
    key: str | None,
    run: Callable[[], Awaitable[tuple[int, Any]]],
) -> JSONResponse:
    """Run a write; with an `Idempotency-Key`, a retry of the same request (same method,
    path and body as sent) gets the first answer back, with the header
    `Idempotent-Replayed: true`. The key is the caller's own (`idempotency.scoped`)."""
    print_ = ""
    if key is not None:
        key = idempotency.scoped(caller.subject, key)
        sent = (await request.body()).decode()
        print_ = idempotency.fingerprint(request.method, request.url.path, sent)

    async def answered() -> idempotency.Answer:
        status, answer = await run()
        return idempotency.Answer(status, jsonable_encoder(answer))

    answer, replayed = await idempotency.once(uow, conn, key, print_, answered)
    if replayed:
        return JSONResponse(answer.body, answer.status, headers={"Idempotent-Replayed": "true"})
    payload = answer.body
    version = payload.get("version") if isinstance(payload, dict) else None
    return JSONResponse(
        payload, answer.status, headers={"ETag": etag(version)} if version else None
    )
