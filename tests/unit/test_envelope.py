import pytest

from shared.envelope import Envelope, InvalidEnvelope
from tests.factories import envelope


def test_binary_mode_puts_attributes_in_ce_headers_and_the_key_in_the_key() -> None:
    event = envelope("commune-22945", value_vnd=21_750_000, note="Xe đạp")
    message = event.to_kafka()
    assert message.key == "commune-22945"
    assert message.headers["ce_type"] == b"vn.ketnghia.test.recorded.v1"
    assert message.headers["ce_specversion"] == b"1.0"
    assert message.headers["ce_province"] == b"68"
    assert message.headers["ce_correlationid"] == str(event.correlationid).encode()
    assert message.headers["content-type"] == b"application/json"
    assert b'"value_vnd":21750000' in message.value.replace(b" ", b"")
    assert "ce_data" not in message.headers


def test_round_trip_returns_an_equal_envelope() -> None:
    event = envelope()
    message = event.to_kafka()
    key = message.key.encode() if isinstance(message.key, str) else message.key
    assert Envelope.from_kafka(message.headers, key, message.value) == event


def test_a_message_without_cloudevents_headers_is_refused_with_the_reason() -> None:
    with pytest.raises(InvalidEnvelope, match="no ce_specversion"):
        Envelope.from_kafka({}, b"k", b"{}")


def test_an_unversioned_type_is_refused() -> None:
    message = envelope().to_kafka()
    headers = {**message.headers, "ce_type": b"vn.ketnghia.test.recorded"}
    with pytest.raises(InvalidEnvelope, match="type"):
        Envelope.from_kafka(headers, b"k", message.value)


def test_a_message_without_province_is_refused() -> None:
    message = envelope().to_kafka()
    headers = {k: v for k, v in message.headers.items() if k != "ce_province"}
    with pytest.raises(InvalidEnvelope, match="province"):
        Envelope.from_kafka(headers, b"k", message.value)


def test_data_that_is_not_json_is_refused() -> None:
    message = envelope().to_kafka()
    with pytest.raises(InvalidEnvelope):
        Envelope.from_kafka(message.headers, b"k", b"not json")
