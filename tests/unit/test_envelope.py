from datetime import datetime

import msgspec
import pytest

from shared.auth import Actor
from shared.envelope import Attributes, Envelope, InvalidEnvelope, actor_attributes
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


WRONG_HEADERS = [
    b"", b" ", b"x", b"0", b"1", b"-1", b"+1", b"01", b" 1", b"1.0", b"1e2", b"1_0", b"2.0",
    b"\xff\xfe", b"vn.ketnghia.test.recorded.v1\n", b"vn.ketnghia.test.recorded.V1",
    b"2024-07-01T08:00:00", b"2024-07-01", b"1700000000", b"2024-13-01T00:00:00Z",
    b"2024-07-01T24:00:00Z", b"2024-07-01T08:00:00.1234567Z", b"2024-07-01 08:00:00+07:00",
    b"2024-07-01T08:00:00.5+07:00", b"2024-07-01T08:00Z", b"application/xml",
    b"{6c7c9bc2-65b5-4082-acbd-99dcb807dd90}", b"6C7C9BC2-65B5-4082-ACBD-99DCB807DD90",
    b"6c7c9bc265b54082acbd99dcb807dd90", b"6c7c9bc2-65b5-4082-acbd-99dcb807dd9",
]  # fmt: skip


def test_the_fast_reading_of_attributes_accepts_only_what_the_model_does_and_reads_the_same() -> (
    None
):
    """`Attributes.read` (a rebuild's reader) may doubt more than `Envelope.from_kafka`, never
    less: on each header missing or wrong, whatever it accepts the model accepts, with the
    same values."""
    message = envelope().to_kafka()
    original = dict(message.headers)
    tried = [original] + [{k: v for k, v in original.items() if k != name} for name in original]
    tried += [{**original, name: wrong} for name in original for wrong in WRONG_HEADERS]
    tried += [{**original, "ce_datacontenttype": b"application/xml"}, {**original, "ce_x": b"1"}]
    accepted, doubted = 0, 0
    for headers in tried:
        fast = Attributes.read(list(headers.items()))
        try:
            full: Envelope | None = Envelope.from_kafka(headers, b"k", message.value)
        except InvalidEnvelope:
            full = None
        if fast is None:
            doubted += 1
            continue
        accepted += 1
        assert full is not None, headers
        read = {**msgspec.structs.asdict(fast), "streamversion": int(fast.streamversion)}
        read["time"] = datetime.fromisoformat(fast.time)
        assert read == full.model_dump(exclude={"data"}), headers
    assert Attributes.read(list(original.items())) is not None
    assert accepted > 100
    assert doubted > 200


def test_the_author_travels_as_optional_attributes_and_reads_back_the_same() -> None:
    units = ("6dd6e969-acbf-5c23-a429-4b92b079a264", "2b85a2bc-d12a-5172-8ef9-32c32afb2a0f")
    author = Actor("f3c2b1a0-sub", "Võ Văn Khải", "unit-clerk", units)
    event = envelope().model_copy(update=actor_attributes(author))
    message = event.to_kafka()
    key = message.key.encode() if isinstance(message.key, str) else message.key
    headers = list(message.headers.items())

    read = Envelope.from_kafka(message.headers, key, message.value)
    fast = Attributes.read(headers)

    assert message.headers["ce_actorname"] == "Võ Văn Khải".encode()
    assert read == event
    assert read.actorunit is not None
    assert tuple(read.actorunit.split()) == units
    assert fast is not None
    assert (fast.actor, fast.actorname, fast.actorrole) == (
        "f3c2b1a0-sub",
        "Võ Văn Khải",
        "unit-clerk",
    )
    assert "ce_actor" not in envelope().to_kafka().headers  # optional: older events have none


def test_an_overlong_name_from_the_identity_provider_is_cut_to_the_contract() -> None:
    attributes = actor_attributes(Actor("sub", "Nguyễn " * 100, "province-coordinator"))
    blank_first = actor_attributes(Actor("sub", " " * 300 + "x", "unit-clerk"))
    many_units = actor_attributes(Actor("sub", "n", "unit-clerk", tuple(["u" * 36] * 40)))

    assert len(attributes["actorname"]) <= 255
    assert "actorunit" not in attributes
    assert blank_first["actorname"] == "x"
    assert set(many_units["actorunit"].split()) == {"u" * 36}  # whole ids only
    assert len(many_units["actorunit"]) <= 1024
    assert Envelope.model_validate({**envelope().model_dump(), **attributes}).actorname
