"""Events no longer carry a causation id (`events.causation_id`, `ce_causationid`): no
event is caused by another, so nothing ever set it.
"""

from shared.migrations import drop_event_causation, restore_event_causation

revision = "0007"
down_revision = "0006"
upgrade = drop_event_causation
downgrade = restore_event_causation
