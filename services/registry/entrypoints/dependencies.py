"""What the registry's routes ask FastAPI for."""

from typing import Annotated

from fastapi import Depends, Request

from services.registry.service_layer.projection import project
from shared.eventstore import Recorder
from shared.service import Connection, CorrelationId


def _recorder(request: Request, conn: Connection, correlation_id: CorrelationId) -> Recorder:
    return Recorder(conn, request.app.state.settings.registry_topic, correlation_id, project)


Recording = Annotated[Recorder, Depends(_recorder)]
"""A recorder on a fresh connection; the route opens the transaction (`conn.begin()`)."""
