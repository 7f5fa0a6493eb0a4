"""The reporting service's HTTP app: `uvicorn services.reporting.entrypoints.http:app`."""

from services.reporting.config import Settings
from shared.service import create_service_app

parts = create_service_app(
    Settings(),
    title="Reporting: projections and the reports provinces owe",
    description="Báo cáo tổng hợp kết quả kết nghĩa, giúp đỡ",
)
app = parts.app
