"""Who may do what on the platform's broker: its SASL/SCRAM users and their ACLs.

Each service writes only its own topic (and the dead letters, when it consumes) and reads
only what it consumes, in consumer groups named after its schema (`activities.…`,
`reporting.…`). An agency reads every `ketnghia.` topic in groups of its own prefix and
writes nothing. `admin` is the broker's super user (it also makes the topics). Every
pattern is PREFIXED, so a topic or group whose name varies by suffix is covered.

The local stack applies these grants on `up` (`apply`); docker-compose's broker applies
the same list through `deploy/kafka/grants.sh`, which a test holds to this one.
"""

from dataclasses import dataclass
from typing import Literal

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
)

from shared.kafka_security import KafkaAccess
from shared.settings import ServiceSettings

ADMIN = "admin"
AGENCY = "agency-demo"  # an external agency's reader, as the integration guide describes
SERVICES = ("registry", "activities", "reporting")
USERS = (ADMIN, *SERVICES, AGENCY)


def _default_topic(field: str) -> str:
    topic: str = ServiceSettings.model_fields[field].default
    return topic


REGISTRY_TOPIC = _default_topic("registry_topic")
ACTIVITIES_TOPIC = _default_topic("activities_topic")
DEAD_LETTER_TOPIC = _default_topic("dead_letter_topic")
TOPICS = (REGISTRY_TOPIC, ACTIVITIES_TOPIC, DEAD_LETTER_TOPIC)


@dataclass(frozen=True)
class Grant:
    """ALLOW `operations` to `user` on every `resource` whose name starts with `prefix`."""

    user: str
    resource: Literal["topic", "group"]
    prefix: str
    operations: tuple[str, ...]


WRITE = ("WRITE", "DESCRIBE")
READ = ("READ", "DESCRIBE")
GRANTS = (
    Grant("registry", "topic", REGISTRY_TOPIC, WRITE),
    Grant("activities", "topic", ACTIVITIES_TOPIC, WRITE),
    Grant("activities", "topic", DEAD_LETTER_TOPIC, WRITE),
    Grant("activities", "topic", REGISTRY_TOPIC, READ),
    Grant("activities", "group", "activities.", ("READ",)),
    Grant("reporting", "topic", DEAD_LETTER_TOPIC, WRITE),
    Grant("reporting", "topic", REGISTRY_TOPIC, READ),
    Grant("reporting", "topic", ACTIVITIES_TOPIC, READ),
    Grant("reporting", "group", "reporting.", ("READ",)),
    # The event topics, not the dead letters (operations only: they hold what was refused).
    Grant(AGENCY, "topic", REGISTRY_TOPIC, READ),
    Grant(AGENCY, "topic", ACTIVITIES_TOPIC, READ),
    Grant(AGENCY, "group", AGENCY, ("READ",)),
)


def apply(kafka: KafkaAccess, partitions: int = 3, timeout: float = 30.0) -> None:
    """Make the platform's topics and grant the ACLs, as `kafka` (a super user); both
    are idempotent, so this runs on every start."""
    admin = AdminClient(dict(kafka.librdkafka_options()))
    topics = [NewTopic(topic, partitions, 1) for topic in TOPICS]
    for topic, made in admin.create_topics(topics, request_timeout=timeout).items():
        try:
            made.result()
        except KafkaException as error:
            if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise RuntimeError(f"could not create topic {topic}: {error}") from error
    bindings = [
        AclBinding(
            ResourceType[grant.resource.upper()],
            grant.prefix,
            ResourcePatternType.PREFIXED,
            f"User:{grant.user}",
            "*",
            AclOperation[operation],
            AclPermissionType.ALLOW,
        )
        for grant in GRANTS
        for operation in grant.operations
    ]
    for binding, made in admin.create_acls(bindings, request_timeout=timeout).items():
        try:
            made.result()
        except KafkaException as error:
            raise RuntimeError(f"could not grant {binding}: {error}") from error
    _revoke_others(admin, bindings, timeout)


def _revoke_others(admin: AdminClient, wanted: list[AclBinding], timeout: float) -> None:
    """Take back what the table no longer grants (a stack made by an older version), so
    the broker's ACLs are exactly the table's."""
    everything = AclBindingFilter(
        ResourceType.ANY, None, ResourcePatternType.ANY, None, None,  # type: ignore[arg-type]
        AclOperation.ANY, AclPermissionType.ANY,
    )  # fmt: skip
    granted = admin.describe_acls(everything, request_timeout=timeout).result()
    keep = {_key(binding) for binding in wanted}
    stale = [_exactly(binding) for binding in granted if _key(binding) not in keep]
    if not stale:
        return
    for binding, made in admin.delete_acls(stale, request_timeout=timeout).items():
        try:
            made.result()
        except KafkaException as error:
            raise RuntimeError(f"could not revoke {binding}: {error}") from error


def _exactly(b: AclBinding) -> AclBindingFilter:
    return AclBindingFilter(
        b.restype, b.name, b.resource_pattern_type, b.principal, b.host, b.operation,
        b.permission_type,
    )  # fmt: skip


def _key(binding: AclBinding) -> tuple[object, ...]:
    return (binding.restype, binding.name, binding.resource_pattern_type, binding.principal,
            binding.host, binding.operation, binding.permission_type)  # fmt: skip
