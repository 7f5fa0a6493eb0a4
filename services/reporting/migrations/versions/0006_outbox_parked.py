"""Events Kafka refuses for good are set aside (`outbox_parked`) instead of holding back
the outbox.
"""

from shared.migrations import create_parked_outbox, drop_parked_outbox

revision = "0006"
down_revision = "0005"
upgrade = create_parked_outbox
downgrade = drop_parked_outbox
