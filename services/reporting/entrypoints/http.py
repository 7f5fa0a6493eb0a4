"""The reporting service's HTTP app (`uvicorn --factory ...entrypoints.http:create_app`)."""

from fastapi import FastAPI

from services.reporting.config import Settings
from shared.service import create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        settings or Settings(),
        title="Reporting: projections and the reports provinces owe",
        description="Báo cáo tổng hợp kết quả kết nghĩa, giúp đỡ",
    ).app
