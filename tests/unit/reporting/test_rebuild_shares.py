"""How a rebuild deals the partitions out among its workers."""

from aiokafka import TopicPartition

from services.reporting.config import Settings
from services.reporting.service_layer.rebuild import _shares, default_workers

SETTINGS = Settings(database_url="postgresql+asyncpg://x/y", kafka_bootstrap_servers="k:9092")
REGISTRY = [TopicPartition(SETTINGS.registry_topic, n) for n in range(3)]
ACTIVITIES = [TopicPartition(SETTINGS.activities_topic, n) for n in range(3)]


def test_the_registry_stays_in_one_worker_and_activity_partitions_spread_by_size() -> None:
    ends = {REGISTRY[0]: 40, REGISTRY[1]: 0, REGISTRY[2]: 25}
    ends |= {ACTIVITIES[0]: 500_000, ACTIVITIES[1]: 300_000, ACTIVITIES[2]: 200_000}
    shares = _shares(SETTINGS, ends, 3)
    assert sorted(sum(share.values()) for share in shares) == [200_065, 300_000, 500_000]
    assert [s for s in shares if set(REGISTRY) <= set(s)] == [
        {**{p: ends[p] for p in REGISTRY}, ACTIVITIES[2]: 200_000}
    ]
    two = _shares(SETTINGS, ends, 2)
    assert sorted(sum(share.values()) for share in two) == [500_000, 500_065]
    assert sum(len(share) for share in two) == len(ends)


def test_a_worker_per_share_holding_events_two_per_core_at_most() -> None:
    empty = {place: 0 for place in REGISTRY + ACTIVITIES}
    assert default_workers(SETTINGS, empty) == 1
    assert default_workers(SETTINGS, {**empty, ACTIVITIES[1]: 9, REGISTRY[0]: 3}) == 2
