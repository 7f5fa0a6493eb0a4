"""What every service of the platform shares: the event envelope, the event store, the
outbox relay, the idempotent consumer, settings, logging, metrics and health checks.

No domain logic lives here: programmes, assignments and activities belong to the services.
"""
