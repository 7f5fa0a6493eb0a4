"""Events carry their author (`events.actor`): who made each change."""

from shared.migrations import add_event_actor, append_only

revision = "0003"
down_revision = "0002"
upgrade = add_event_actor
downgrade = append_only
