"""Two of the fault drills of `make drill` (bench/drills.py) in the test command, smaller:
the services in child processes on schemas and topics of their own, activities recorded
through the API while the activities service is killed (SIGKILL) and started again, and
while every service runs as two processes. Every accepted activity is counted, once."""

import pytest

from bench.drills import drill, kill, nothing
from shared.devstack import Endpoints

ACTIVITIES = 200


@pytest.mark.parametrize(
    ("name", "fault", "replicas"),
    [("kill -9 activities", kill("activities"), 1), ("two replicas", nothing, 2)],
)
async def test_every_accepted_activity_is_counted_once(
    endpoints: Endpoints, name: str, fault: object, replicas: int
) -> None:
    outcome = await drill(name, endpoints, ACTIVITIES, fault, replicas)  # type: ignore[arg-type]
    print(outcome)

    assert outcome.accepted == ACTIVITIES
    assert outcome.lost == 0
    assert outcome.counted_twice == 0
