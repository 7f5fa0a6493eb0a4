"""Settings of the reporting service, read from the environment (see `shared.settings`)."""

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "reporting"
    database_schema: str = "reporting"
    http_port: int = 8003
