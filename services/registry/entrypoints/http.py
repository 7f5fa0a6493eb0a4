"""The registry service's HTTP app (`uvicorn --factory ...entrypoints.http:create_app`)."""

from fastapi import FastAPI

from services.registry.config import Settings
from services.registry.entrypoints import admin_units, assignments, communes, programmes
from shared.service import create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    app = create_service_app(
        settings or Settings(),
        title="Registry: programmes, sponsor units, administrative units, assignments",
        description="Sổ đăng ký: chương trình, đơn vị kết nghĩa, đơn vị hành chính, "
        "phân công giúp đỡ",
    ).app
    for module in (admin_units, programmes, communes, assignments):
        app.include_router(module.router)
    return app
