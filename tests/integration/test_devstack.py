"""The local stack itself: start, status, stop, start again with the data kept.

It runs a second stack in its own folder and ports, beside the session's. Keycloak is
left out: its port is fixed (the issuer names it), and tests/integration/test_keycloak.py
runs the session's.
"""

import asyncio
import shutil
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from shared.devstack import LocalStack
from shared.devstack.processes import StackError, free_port
from tests.kafka_reading import read_records

pytestmark = pytest.mark.skipif(
    shutil.which("java") is None or shutil.which("mvn") is None,
    reason="the local Kafka broker needs Java and Maven",
)


def plain_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def test_start_status_stop_and_start_again_keeps_data(tmp_path: Path) -> None:
    stack = LocalStack(home=tmp_path / "stack")
    try:
        first = await asyncio.to_thread(stack.up, keycloak=False)
        status = await asyncio.to_thread(stack.status)
        assert status["kafka"]["running"]
        assert status["kafka"]["answers"]
        assert status["postgres"]["running"]
        assert status["postgres"]["answers"]

        conn = await asyncpg.connect(plain_url(first.database_url))
        await conn.execute("CREATE TABLE kept (name text)")
        await conn.execute("INSERT INTO kept VALUES ('xã Hàm Cần')")
        await conn.close()
        producer = AIOKafkaProducer(**first.kafka().aiokafka_options(), acks="all")
        await producer.start()
        await producer.send_and_wait("kept", "Hàm Cần".encode(), key=b"commune-22945")
        await producer.stop()

        await asyncio.to_thread(stack.down)
        stopped = await asyncio.to_thread(stack.status)
        assert not stopped["kafka"]["running"]
        assert not stopped["postgres"]["running"]

        again = await asyncio.to_thread(stack.up, keycloak=False)
        assert again == first, "the same ports are taken again when they are free"
        conn = await asyncpg.connect(plain_url(again.database_url))
        assert await conn.fetchval("SELECT name FROM kept") == "xã Hàm Cần"
        await conn.close()
        [record] = await read_records(again.kafka(), "kept", expected=1)
        assert record.value == "Hàm Cần".encode()
    finally:
        await asyncio.to_thread(stack.down)


async def test_reset_wipes_the_data(tmp_path: Path) -> None:
    stack = LocalStack(home=tmp_path / "stack")
    try:
        first = await asyncio.to_thread(stack.up, keycloak=False)
        conn = await asyncpg.connect(plain_url(first.database_url))
        await conn.execute("CREATE TABLE wiped (n int)")
        await conn.close()
        again = await asyncio.to_thread(stack.up, reset=True, keycloak=False)
        conn = await asyncpg.connect(plain_url(again.database_url))
        assert await conn.fetchval("SELECT to_regclass('wiped')") is None
        await conn.close()
    finally:
        await asyncio.to_thread(stack.down)


def test_a_broker_formatted_before_it_asked_for_users_is_refused_with_the_way_out(
    tmp_path: Path,
) -> None:
    """Storage of a stack from before SASL (no users, no credentials.json) is not started
    with a broker nobody could log in to."""
    stack = LocalStack(home=tmp_path / "stack")
    (stack.kafka.data_dir).mkdir(parents=True)
    (stack.kafka.data_dir / "meta.properties").write_text("node.id=1\n")

    with pytest.raises(StackError, match=r"formatted before.*up --reset"):
        stack.kafka.start(free_port(), free_port())
    assert not stack.kafka.credentials_file.exists()
