"""The settings every service reads from its environment."""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.kafka_security import KafkaAccess, SaslMechanism, SecurityProtocol


class ServiceSettings(BaseSettings):
    """Base of each service's `config.Settings`; environment variables, case-insensitive.

    A service subclass sets its own defaults for `service_name`, `database_schema` and
    `http_port`; deployments override them through the environment.
    """

    model_config = SettingsConfigDict(extra="ignore")

    service_name: str
    database_url: str = Field(
        description="SQLAlchemy URL of the PostgreSQL database, e.g. "
        "postgresql+asyncpg://user@host:5432/ketnghia",
    )
    database_schema: str = Field(description="The service's own schema in that database")
    kafka_bootstrap_servers: str = Field(description="host:port[,host:port...] of Kafka")
    kafka_security_protocol: SecurityProtocol = Field(
        default="SASL_PLAINTEXT",
        description="How the service talks to Kafka; the platform's brokers ask for SASL",
    )
    kafka_sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = Field(
        default=None, description="The service's own Kafka user (its ACLs say what it may do)"
    )
    kafka_sasl_password: SecretStr | None = None
    http_port: int
    registry_topic: str = Field(
        default="ketnghia.registry", description="Topic of the registry's events"
    )
    activities_topic: str = Field(
        default="ketnghia.activities", description="Topic of the support activities' events"
    )
    dead_letter_topic: str = Field(
        default="ketnghia.dead-letters",
        description="Where consumers put messages they cannot use, with the reason",
    )
    # Sign-in (`shared.auth`): access tokens of this issuer, for this service's audience.
    auth_issuer: str = Field(
        default="http://127.0.0.1:8180/realms/ketnghia",
        description="OIDC issuer of the access tokens; default the local stack's Keycloak",
    )
    auth_audience: str | None = Field(
        default=None, description="the `aud` a token must name; default ketnghia-<service_name>"
    )
    auth_jwks_url: str | None = Field(
        default=None,
        description="where the issuer publishes its keys; default "
        "<issuer>/protocol/openid-connect/certs (Keycloak's)",
    )
    auth_leeway_seconds: float = Field(default=30, ge=0, le=300, description="clock skew allowed")
    log_level: str = "INFO"

    @property
    def consumed_topics(self) -> tuple[str, ...]:
        """The topics this service's consumers apply (whose writes it may wait for)."""
        return ()

    outbox_batch_size: int = Field(default=2_000, ge=1, le=10_000)
    outbox_poll_seconds: float = Field(default=0.2, gt=0)
    outbox_listen: bool = Field(
        default=True, description="wake the relay on a commit's NOTIFY (else it only polls)"
    )
    database_pool_size: int = Field(
        default=20,
        ge=2,
        le=200,
        description="connections a process keeps open (and 5 more at a peak, closed after "
        "use): a request holds one while it runs, so fewer than the requests in progress "
        "makes each extra request open and close a connection of its own",
    )

    @property
    def kafka(self) -> KafkaAccess:
        """How this service's Kafka clients connect (`shared.kafka_security`)."""
        return KafkaAccess(
            bootstrap_servers=self.kafka_bootstrap_servers,
            security_protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            sasl_username=self.kafka_sasl_username,
            sasl_password=self.kafka_sasl_password,
        )
