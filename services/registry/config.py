"""Settings of the registry service, read from the environment (see `shared.settings`)."""

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "registry"
    database_schema: str = "registry"
    http_port: int = 8001
