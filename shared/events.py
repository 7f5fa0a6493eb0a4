"""The vocabulary of events every service's domain speaks, with no I/O.

A domain decides `shared.contract.Event`s (one of the contract's models, whose class names
its versioned CloudEvents type); the service layer stores them with `shared.eventstore`
and the outbox publishes them.
"""

from datetime import date

# The event types' namespaces, once: every type is `<namespace><name>.v<version>`.
REGISTRY_EVENTS = "vn.ketnghia.registry."
ACTIVITY_EVENTS = "vn.ketnghia.activity."
PLAN_EVENTS = "vn.ketnghia.plan."
PERIOD_EVENTS = "vn.ketnghia.period."


def unit_key(level: str, edition: str, code: str) -> str:
    """The Kafka key of events about an administrative unit as recorded:
    `commune:pre-2025:23116`. Codes were reused across the 2025 reform, so the edition is
    part of the key; events of one commune, from every service, share it."""
    return f"{level}:{edition}:{code}"


def iso_day(text: str | None) -> date | None:
    """A day as event data carries it (ISO text, or null) as the date a table stores."""
    return date.fromisoformat(text) if text else None
