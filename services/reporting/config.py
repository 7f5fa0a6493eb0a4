"""Settings of the reporting service, read from the environment (see `shared.settings`)."""

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "reporting"
    database_schema: str = "reporting"
    http_port: int = 8003

    @property
    def consumed_topics(self) -> tuple[str, ...]:
        return (self.registry_topic, self.activities_topic)
