"""The reporting service's HTTP app (`uvicorn --factory ...entrypoints.http:create_app`)."""

from fastapi import FastAPI

from services.reporting.config import Settings
from services.reporting.entrypoints import reports
from services.reporting.service_layer.projection import apply_events
from services.reporting.service_layer.rebuild import consumer_names
from shared.consumer import subscribe
from shared.contract import validator
from shared.service import create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    parts = create_service_app(
        settings,
        title="Reporting: projections and the reports provinces owe",
        description="Báo cáo tổng hợp kết quả kết nghĩa, giúp đỡ",
    )
    for topic, name in consumer_names(settings).items():
        subscribe(
            parts.kafka,
            parts.engine,
            topic=topic,
            name=name,
            project=apply_events,
            validate=validator(),
            dead_letters=settings.dead_letter_topic,
        )
    parts.include(reports.router)
    return parts.app
