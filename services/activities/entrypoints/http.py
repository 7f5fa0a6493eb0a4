"""The activities service's HTTP app: `uvicorn services.activities.entrypoints.http:app`."""

from services.activities.config import Settings
from shared.service import create_service_app

parts = create_service_app(
    Settings(),
    title="Activities: support recorded by sponsor units",
    description="Hoạt động hỗ trợ của các đơn vị kết nghĩa",
)
app = parts.app
