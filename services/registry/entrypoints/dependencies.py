"""What the registry's routes ask FastAPI for."""

from typing import Annotated

from fastapi import Depends, Request

from services.registry.service_layer.unit_of_work import RegistryUnit, unit_of_work
from shared.service import Caller, Connection, CorrelationId


async def _unit(
    request: Request, conn: Connection, correlation_id: CorrelationId, caller: Caller
) -> RegistryUnit:
    topic = request.app.state.settings.registry_topic
    return unit_of_work(conn, topic, correlation_id, caller.actor)


Unit = Annotated[RegistryUnit, Depends(_unit)]
"""A unit of work on the request's connection (the route's `Connection`, which reads the
answer after the command), signing events with the caller as their actor; the command
handler opens its transaction."""
