"""The registry service's HTTP app: `uvicorn services.registry.entrypoints.http:app`."""

from services.registry.config import Settings
from shared.service import create_service_app

parts = create_service_app(
    Settings(),
    title="Registry: programmes, sponsor units, administrative units, assignments",
    description="Sổ đăng ký: chương trình, đơn vị kết nghĩa, đơn vị hành chính, phân công giúp đỡ",
)
app = parts.app
