"""Settings of the activities service, read from the environment (see `shared.settings`)."""

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "activities"
    database_schema: str = "activities"
    http_port: int = 8002

    @property
    def consumed_topics(self) -> tuple[str, ...]:
        return (self.registry_topic,)
