"""What the activities service's routes ask FastAPI for."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from services.activities.service_layer import idempotency
from services.activities.service_layer.projection import project
from shared.eventstore import Recorder
from shared.service import Caller, Connection, CorrelationId, etag


async def _recorder(
    request: Request, conn: Connection, correlation_id: CorrelationId, caller: Caller
) -> Recorder:
    topic = request.app.state.settings.activities_topic
    return Recorder(conn, topic, correlation_id, project, caller.actor)


Recording = Annotated[Recorder, Depends(_recorder)]
"""A recorder on a fresh connection, signing events with the caller as their actor; the
route opens the transaction (`conn.begin()`)."""

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
    recorder: Recorder,
    key: str | None,
    run: Callable[[], Awaitable[tuple[int, Any]]],
) -> JSONResponse:
    """Run a write in one transaction; with an `Idempotency-Key`, a retry of the same
    request (same method, path and body as sent) gets the first answer back, with the
    header `Idempotent-Replayed: true`. The key is the caller's own (`idempotency.scoped`)."""
    if key is not None:
        if recorder.actor is None:
            raise RuntimeError("an Idempotency-Key needs the caller it belongs to")
        key = idempotency.scoped(recorder.actor.subject, key)
    async with recorder.conn.begin():
        if key is not None:
            sent = (await request.body()).decode()
            print_ = idempotency.fingerprint(request.method, request.url.path, sent)
            kept = await idempotency.claim(recorder.conn, key, print_)
            if kept is not None:
                headers = {"Idempotent-Replayed": "true"}
                return JSONResponse(kept.body, kept.status, headers=headers)
        status, answer = await run()
        payload = jsonable_encoder(answer)
        if key is not None:
            await idempotency.remember(recorder.conn, key, idempotency.Answer(status, payload))
    version = payload.get("version") if isinstance(payload, dict) else None
    return JSONResponse(payload, status, headers={"ETag": etag(version)} if version else None)
