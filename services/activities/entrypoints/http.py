"""The activities service's HTTP app (`uvicorn --factory ...entrypoints.http:create_app`)."""

from fastapi import FastAPI

from services.activities.config import Settings
from shared.service import create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        settings or Settings(),
        title="Activities: support recorded by sponsor units",
        description="Hoạt động hỗ trợ của các đơn vị kết nghĩa",
    ).app
