from faststream.kafka import KafkaBroker

from shared.devstack import Endpoints
from shared.envelope import Envelope, publish_envelope
from tests.factories import envelope
from tests.kafka_reading import read_records


async def test_an_envelope_crosses_a_real_topic_intact(
    broker: KafkaBroker, endpoints: Endpoints, topic: str
) -> None:
    sent = envelope("commune-25606", value_vnd=200_000_000, households=7, crop="thanh long")
    await publish_envelope(broker, topic, sent)

    [record] = await read_records(endpoints.kafka(), topic, expected=1)

    headers = dict(record.headers)
    assert record.key == b"commune-25606"
    assert headers["ce_id"] == str(sent.id).encode()
    assert headers["ce_type"] == b"vn.ketnghia.test.recorded.v1"
    assert headers["ce_province"] == b"68"
    assert "ce_causationid" not in headers  # dropped: no event is caused by another
    assert headers["content-type"] == b"application/json"
    received = Envelope.from_kafka(record.headers, record.key, record.value)
    assert received == sent
    assert received.data == {"value_vnd": 200_000_000, "households": 7, "crop": "thanh long"}
