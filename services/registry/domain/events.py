"""What the registry's domain decides is recorded as events; each type is versioned.

The entity names below are part of the published contract: consumers select on
`vn.ketnghia.registry.<entity>.<name>.v<n>`. A changed shape is a new version.
"""

from dataclasses import dataclass
from typing import Any

NAMESPACE = "vn.ketnghia.registry"


@dataclass(frozen=True)
class Event:
    """A recorded fact; `type` is its versioned CloudEvents type."""

    type: str
    data: dict[str, Any]


def event_type(entity: str, name: str) -> str:
    """`event_type("assignment", "created.v1")` → vn.ketnghia.registry.assignment.created.v1"""
    return f"{NAMESPACE}.{entity}.{name}"


def unit_key(level: str, edition: str, code: str) -> str:
    """The Kafka key of events about an administrative unit as recorded: `commune:pre-2025:23116`.

    Codes were reused across the 2025 reform, so the edition is part of the key.
    """
    return f"{level}:{edition}:{code}"
