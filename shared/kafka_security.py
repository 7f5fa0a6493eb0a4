"""How every Kafka client of the platform connects: the broker's address, the security
protocol and the SASL user, turned into the options of each client library.

The broker's client listener asks for SASL/SCRAM-SHA-512 and authorizes with ACLs, so a
client without credentials cannot connect and a user may only do what its ACLs allow.
`KafkaAccess` is made from a service's settings (`ServiceSettings.kafka`) or by the local
stack for a user of its own (`Endpoints.kafka`); the password stays a `SecretStr` until a
client library is handed it, and no message here or in `repr` carries it.
"""

import asyncio
import ssl
from dataclasses import dataclass
from typing import Any, Literal

from aiokafka.conn import create_conn
from aiokafka.errors import KafkaConnectionError, SaslAuthenticationFailed
from aiokafka.protocol.metadata import MetadataRequest
from faststream.security import (
    BaseSecurity,
    SASLPlaintext,
    SASLScram256,
    SASLScram512,
)
from pydantic import SecretStr

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]
_FASTSTREAM_SASL: dict[str, type[SASLPlaintext | SASLScram256 | SASLScram512]] = {
    "SCRAM-SHA-512": SASLScram512,
    "SCRAM-SHA-256": SASLScram256,
    "PLAIN": SASLPlaintext,
}


class KafkaAccessError(RuntimeError):
    """Kafka settings that cannot work, or a broker refusing them; the message says what
    to check and never carries the password."""


class KafkaRefused(KafkaAccessError):
    """The broker refused the login: wrong password, or no such user."""


class KafkaUnreachable(KafkaAccessError):
    """No broker answered at the bootstrap address (down, starting, or another protocol)."""


@dataclass(frozen=True)
class KafkaAccess:
    bootstrap_servers: str
    security_protocol: SecurityProtocol = "SASL_PLAINTEXT"
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None

    def __post_init__(self) -> None:
        if self.uses_sasl and not (self.sasl_username and self.sasl_password):
            raise KafkaAccessError(
                f"KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs a user: set "
                "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (the broker's operator creates "
                "the SCRAM user), or KAFKA_SECURITY_PROTOCOL=PLAINTEXT for a broker "
                "without authentication"
            )

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_ssl(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    def _login(self) -> tuple[str, str]:
        """The user and password, for a client library that needs them in clear."""
        if self.sasl_username is None or self.sasl_password is None:  # see __post_init__
            raise KafkaAccessError("no SASL user set")
        return self.sasl_username, self.sasl_password.get_secret_value()

    def who(self) -> str:
        """Who connects where, for messages: never the password."""
        if not self.uses_sasl:
            return f"a {self.security_protocol} client of {self.bootstrap_servers}"
        return (
            f"user '{self.sasl_username}' ({self.security_protocol}, {self.sasl_mechanism}) "
            f"of {self.bootstrap_servers}"
        )

    def aiokafka_options(self) -> dict[str, Any]:
        """Keyword arguments of aiokafka's producer, consumer and admin client."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
        }
        if self.uses_ssl:
            options["ssl_context"] = ssl.create_default_context()
        if self.uses_sasl:
            username, password = self._login()
            options |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": username,
                "sasl_plain_password": password,
            }
        return options

    def faststream_options(self) -> dict[str, Any]:
        """Keyword arguments of faststream's `KafkaBroker`; the security
        object also declares the scheme in the AsyncAPI document (without the secret)."""
        security: BaseSecurity | None = None
        if self.uses_sasl:
            username, password = self._login()
            security = _FASTSTREAM_SASL[self.sasl_mechanism](
                username, password, use_ssl=self.uses_ssl
            )
        elif self.uses_ssl:
            security = BaseSecurity(ssl.create_default_context(), use_ssl=True)
        return {"bootstrap_servers": self.bootstrap_servers, "security": security}

    def librdkafka_options(self) -> dict[str, str]:
        """Configuration of a librdkafka client (confluent-kafka, kcat)."""
        options = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
        }
        if self.uses_sasl:
            username, password = self._login()
            options |= {
                "sasl.mechanism": self.sasl_mechanism,
                "sasl.username": username,
                "sasl.password": password,
            }
        return options

    async def check(self, seconds: float = 10.0) -> None:
        """Connect to the first bootstrap server and authenticate, as the clients will;
        raise `KafkaRefused` or `KafkaUnreachable`, saying what to check.

        aiokafka's clients log a refused login and then report only "Unable to bootstrap";
        this says whose login was refused."""
        host, _, port = self.bootstrap_servers.split(",")[0].strip().rpartition(":")
        options = self.aiokafka_options()
        del options["bootstrap_servers"]
        try:
            async with asyncio.timeout(seconds):
                conn = await create_conn(
                    host, int(port), request_timeout_ms=int(seconds * 1000), **options
                )
                try:  # a first real request: a SASL listener closes on a PLAINTEXT one
                    await conn.send(MetadataRequest([]))
                finally:
                    conn.close()
        except SaslAuthenticationFailed as error:
            raise KafkaRefused(
                f"Kafka refused the login of {self.who()}: wrong password, or no such SCRAM "
                "user. Check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD; the operator lists "
                "the users with `kafka-configs.sh --describe --entity-type users`"
            ) from error
        except (KafkaConnectionError, OSError, TimeoutError) as error:
            hint = (
                " (a PLAINTEXT client: the listener may ask for SASL; check "
                "KAFKA_SECURITY_PROTOCOL)"
                if not self.uses_sasl
                else ""
            )
            raise KafkaUnreachable(
                f"Kafka did not answer {self.who()}{hint}: {type(error).__name__}"
            ) from error
