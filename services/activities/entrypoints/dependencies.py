"""What the activities service's routes ask FastAPI for."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from services.activities.service_layer import idempotency
from services.activities.service_layer.unit_of_work import ActivitiesUnit, unit_of_work
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


@dataclass(frozen=True)
class IdempotentWrite:
    """What every write route takes besides its own path, body and `If-Match`: the unit
    of work, the connection it reads its answer on, the caller and their
    `Idempotency-Key`."""

    request: Request
    uow: Unit
    conn: Connection
    caller: Caller
    key: IdempotencyKey = None

    async def once(self, run: Callable[[], Awaitable[tuple[int, Any]]]) -> JSONResponse:
        """Run the write (`run` answers its status and body); with an `Idempotency-Key`, a
        retry of the same request (same method, path and body as sent) gets the first
        answer back, with the header `Idempotent-Replayed: true`. The key is the caller's
        own (`idempotency.scoped`)."""
        key, print_ = self.key, ""
        if key is not None:
            key = idempotency.scoped(self.caller.subject, key)
            sent = (await self.request.body()).decode()
            print_ = idempotency.fingerprint(self.request.method, self.request.url.path, sent)

        async def answered() -> idempotency.Answer:
            status, answer = await run()
            return idempotency.Answer(status, jsonable_encoder(answer))

        answer, replayed = await idempotency.once(self.uow, self.conn, key, print_, answered)
        if replayed:
            return JSONResponse(answer.body, answer.status, headers={"Idempotent-Replayed": "true"})
        payload = answer.body
        version = payload.get("version") if isinstance(payload, dict) else None
        return JSONResponse(
            payload, answer.status, headers={"ETag": etag(version)} if version else None
        )


Write = Annotated[IdempotentWrite, Depends()]
