"""The activities service's HTTP app (`uvicorn --factory ...entrypoints.http:create_app`)."""

from fastapi import FastAPI

from services.activities.config import Settings
from services.activities.entrypoints import activities, imports
from services.activities.service_layer.registry_view import apply_registry_events
from shared.bounds import MAX_UPLOAD_BYTES
from shared.consumer import subscribe
from shared.contract import declare_published, validator
from shared.events import ACTIVITY_EVENTS, PERIOD_EVENTS, PLAN_EVENTS
from shared.service import create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    parts = create_service_app(
        settings,
        title="Activities: support recorded by sponsor units",
        description="Hoạt động hỗ trợ của các đơn vị kết nghĩa",
        upload_paths=("/imports",),  # the file's own limit is checked with its message
        upload_limit=MAX_UPLOAD_BYTES + 1024 * 1024,
    )
    # The assignments an activity is checked against, from the registry's events.
    subscribe(
        parts.kafka,
        parts.engine,
        topic=settings.registry_topic,
        name=f"{settings.database_schema}.registry-view",
        project=apply_registry_events,
        validate=validator(),
        dead_letters=settings.dead_letter_topic,
    )
    declare_published(
        parts.kafka,
        settings.activities_topic,
        (ACTIVITY_EVENTS, PLAN_EVENTS, PERIOD_EVENTS),
    )
    parts.include(activities.router)
    parts.include(imports.router)
    return parts.app
