"""The registry service's HTTP app: `uvicorn services.registry.entrypoints.http:app`."""

from services.registry.config import Settings
from services.registry.entrypoints.admin_units import router as admin_units_router
from shared.service import create_service_app

parts = create_service_app(
    Settings(),
    title="Registry: programmes, sponsor units, administrative units, assignments",
    description="Sổ đăng ký: chương trình, đơn vị kết nghĩa, đơn vị hành chính, phân công giúp đỡ",
)
parts.app.include_router(admin_units_router)
app = parts.app
