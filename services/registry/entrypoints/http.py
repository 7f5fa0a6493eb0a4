"""The registry service's HTTP app (`uvicorn --factory ...entrypoints.http:create_app`)."""

from fastapi import FastAPI

from services.registry.config import Settings
from services.registry.entrypoints import admin_units, assignments, communes, programmes
from shared.contract import declare_published
from shared.events import REGISTRY_EVENTS
from shared.service import create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    parts = create_service_app(
        settings,
        title="Registry: programmes, sponsor units, administrative units, assignments",
        description="Sổ đăng ký: chương trình, đơn vị kết nghĩa, đơn vị hành chính, "
        "phân công giúp đỡ",
    )
    declare_published(parts.kafka, settings.registry_topic, (REGISTRY_EVENTS,))
    for module in (admin_units, programmes, communes, assignments):
        parts.include(module.router)
    return parts.app
