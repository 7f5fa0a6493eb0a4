"""What the registry's routes ask FastAPI for."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response

from services.registry.service_layer.unit_of_work import RegistryUnit, unit_of_work
from shared.service import Caller, Connection, CorrelationId, IfMatch


async def _unit(
    request: Request, conn: Connection, correlation_id: CorrelationId, caller: Caller
) -> RegistryUnit:
    topic = request.app.state.settings.registry_topic
    return unit_of_work(conn, topic, correlation_id, caller.actor)


Unit = Annotated[RegistryUnit, Depends(_unit)]
"""A unit of work on the request's connection (the route's `Connection`, which reads the
answer after the command), signing events with the caller as their actor; the command
handler opens its transaction."""


@dataclass(frozen=True)
class WriteRequest:
    """What a route that runs a command takes: the unit of work, the connection it runs on
    (which reads the answer once the command has committed), the caller, and the response,
    for the answer's `ETag`."""

    uow: Unit
    conn: Connection
    caller: Caller
    response: Response


@dataclass(frozen=True)
class AmendRequest(WriteRequest):
    """A command on an aggregate the caller has read: with the version they read
    (`If-Match`), so that a change made on a stale view is refused (409)."""

    expected: IfMatch


Write = Annotated[WriteRequest, Depends()]
Amend = Annotated[AmendRequest, Depends()]
