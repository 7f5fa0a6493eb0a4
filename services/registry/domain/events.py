"""The registry's event types: `vn.ketnghia.registry.<entity>.<name>.v<n>`.

The entity names are part of the published contract: consumers select on them. A
changed shape is a new version.
"""

from shared.events import REGISTRY_EVENTS

NAMESPACE = REGISTRY_EVENTS.removesuffix(".")


def event_type(entity: str, name: str) -> str:
    """`event_type("assignment", "created.v1")` → vn.ketnghia.registry.assignment.created.v1"""
    return f"{NAMESPACE}.{entity}.{name}"
