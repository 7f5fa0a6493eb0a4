"""The event store, outbox and consumer tables every service keeps."""

from shared.migrations import append_only, create_plumbing_tables

revision = "0001"
down_revision = None
upgrade = create_plumbing_tables
downgrade = append_only
