"""What the registry's routes ask FastAPI for."""

from typing import Annotated

from fastapi import Depends, Request

from services.registry.service_layer.projection import project
from shared.eventstore import Recorder
from shared.service import Caller, Connection, CorrelationId


async def _recorder(
    request: Request, conn: Connection, correlation_id: CorrelationId, caller: Caller
) -> Recorder:
    topic = request.app.state.settings.registry_topic
    return Recorder(conn, topic, correlation_id, project, caller.actor)


Recording = Annotated[Recorder, Depends(_recorder)]
"""A recorder on a fresh connection, signing events with the caller as their actor; the
route opens the transaction (`conn.begin()`)."""
