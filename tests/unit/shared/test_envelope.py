"""CloudEvents envelopes: the three accepted shapes, round trips, and every way to be wrong."""

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from shared.envelope import (
    SPEC_VERSION,
    STRUCTURED,
    Envelope,
    EnvelopeError,
    body_for,
    headers_for,
    parse,
)
from shared.events import RunRequested

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SENT = "2025-12-31T23:59:00+00:00"
REQUEST = {"command": ["echo", "hi"], "priority": 3}


def read(body: bytes | str, headers: dict[str, str] | None = None) -> Envelope[RunRequested]:
    raw = body.encode() if isinstance(body, str) else body
    return parse(RunRequested, headers, raw, new_id="fresh-id", now=NOW)


def refused(body: bytes | str, headers: dict[str, str] | None = None) -> str:
    with pytest.raises(EnvelopeError) as caught:
        read(body, headers)
    return str(caught.value)


def binary_headers(**extra: str) -> dict[str, str]:
    return {
        "ce-specversion": "1.0",
        "ce-id": "ev-1",
        "ce-source": "tests/binary",
        "ce-type": "dev.boxops.run.requested",
        "ce-time": SENT,
        "content-type": "application/json",
        **extra,
    }


def structured(**attributes: Any) -> str:
    document = {"specversion": "1.0", "id": "ev-2", "source": "tests/structured", **attributes}
    return json.dumps({**document, "data": REQUEST} if "data" not in attributes else document)


def test_a_binary_cloudevent_takes_its_attributes_from_the_headers() -> None:
    envelope = read(json.dumps(REQUEST), binary_headers(traceparent="00-abc-def-01"))

    assert (envelope.id, envelope.source) == ("ev-1", "tests/binary")
    assert envelope.time == datetime.fromisoformat(SENT)
    assert envelope.data == RunRequested(command=["echo", "hi"], priority=3)
    assert envelope.traceparent == "00-abc-def-01"
    assert envelope.causation_depth == 0


def test_binary_headers_are_read_whatever_their_case() -> None:
    headers = {k.upper(): v for k, v in binary_headers(**{"ce-boxopsdepth": "2"}).items()}

    envelope = read(json.dumps(REQUEST), headers)

    assert (envelope.id, envelope.causation_depth) == ("ev-1", 2)


def test_a_structured_cloudevent_takes_its_attributes_from_the_document() -> None:
    envelope = read(structured(time=SENT, boxopsdepth=1))

    assert (envelope.id, envelope.source, envelope.causation_depth) == (
        "ev-2",
        "tests/structured",
        1,
    )
    assert envelope.time == datetime.fromisoformat(SENT)
    assert envelope.data.command == ["echo", "hi"]


def test_the_structured_content_type_alone_marks_a_structured_cloudevent() -> None:
    document = json.dumps({"id": "ev-3", "data": REQUEST})

    envelope = read(document, {"Content-Type": f"{STRUCTURED}; charset=utf-8"})

    assert (envelope.id, envelope.data.priority) == ("ev-3", 3)


def test_a_bare_body_gets_its_id_from_nats_msg_id() -> None:
    envelope = read(json.dumps(REQUEST), {"Nats-Msg-Id": "dedupe-key"})

    assert (envelope.id, envelope.source, envelope.time) == ("dedupe-key", "external", NOW)
    assert envelope.data.priority == 3


def test_a_bare_body_without_a_msg_id_gets_a_new_one() -> None:
    assert read(json.dumps(REQUEST)).id == "fresh-id"
    assert read(json.dumps(REQUEST), {}).id == "fresh-id"


def test_a_bare_body_that_happens_to_have_a_data_field_is_not_structured() -> None:
    with_data = {**REQUEST, "params": {"data": 1}}

    assert read(json.dumps(with_data)).data.params == {"data": 1}


def test_headers_and_body_round_trip_through_parse() -> None:
    sent: Envelope[RunRequested] = Envelope(
        id="ev-9",
        source="boxops/gateway",
        time=datetime(2026, 1, 1, 11, 0, 0, 123456, tzinfo=UTC),
        data=RunRequested(run_id="r9", command=["python", "-c", "print(1)"], env={"A": "1"}),
        causation_depth=3,
    )

    received = parse(RunRequested, headers_for(sent), body_for(sent), new_id="x", now=NOW)

    assert received == sent


def test_headers_name_the_event_and_carry_the_dedupe_key() -> None:
    envelope = Envelope("ev-1", "boxops/x", NOW, RunRequested(command=["true"]))

    headers = headers_for(envelope)

    assert headers["ce-specversion"] == SPEC_VERSION
    assert headers["ce-type"] == "dev.boxops.run.requested"
    assert headers["Nats-Msg-Id"] == headers["ce-id"] == "ev-1"
    assert "ce-boxopsdepth" not in headers


def test_the_body_leaves_out_unset_optional_fields() -> None:
    body = json.loads(body_for(Envelope("e", "s", NOW, RunRequested(command=["true"]))))

    assert body["command"] == ["true"]
    assert "run_id" not in body and "component" not in body


def test_a_missing_time_is_the_time_of_arrival() -> None:
    assert read(structured()).time == NOW
    headers = binary_headers()
    del headers["ce-time"]
    assert read(json.dumps(REQUEST), headers).time == NOW


def test_a_time_without_an_offset_is_read_as_utc_and_z_means_utc() -> None:
    assert read(structured(time="2025-06-01T10:00:00")).time == datetime(2025, 6, 1, 10, tzinfo=UTC)
    assert read(structured(time="2025-06-01T10:00:00Z")).time == datetime(
        2025, 6, 1, 10, tzinfo=UTC
    )
    offset = read(structured(time="2025-06-01T12:00:00+02:00")).time
    assert offset == datetime(2025, 6, 1, 12, tzinfo=timezone(timedelta(hours=2)))


@pytest.mark.parametrize("time", ["yesterday", "2025-13-01T00:00:00Z", "12:00"])
def test_an_invalid_time_is_refused_with_the_value(time: str) -> None:
    assert refused(structured(time=time)) == f"time is not an RFC 3339 timestamp: {time!r}"
    assert "time is not an RFC 3339" in refused(
        json.dumps(REQUEST), binary_headers(**{"ce-time": time})
    )


@pytest.mark.parametrize("body", [b"", b"   \n", b"\t"])
def test_an_empty_body_is_refused(body: bytes) -> None:
    assert refused(body) == "empty body: expected a JSON object"


@pytest.mark.parametrize(
    "body", [b"not json", b"{'single': 'quotes'}", b'{"command": [', b"\xff\xfe\x00"]
)
def test_a_body_that_is_not_json_is_refused(body: bytes) -> None:
    assert refused(body).startswith("body is not JSON: ")


@pytest.mark.parametrize(
    ("body", "kind"), [("[1, 2]", "list"), ('"run"', "str"), ("42", "int"), ("null", "NoneType")]
)
def test_a_json_body_that_is_not_an_object_is_refused(body: str, kind: str) -> None:
    assert refused(body) == f"data must be a JSON object, got {kind}"
    assert refused(body, binary_headers()) == f"data must be a JSON object, got {kind}"


def test_a_structured_event_whose_data_is_not_an_object_is_refused() -> None:
    assert refused(structured(data=["echo"])) == "data must be a JSON object, got list"


@pytest.mark.parametrize("body", ["[1, 2]", '"run"', "7"])
def test_a_structured_content_type_on_a_body_that_is_not_an_object_is_refused(
    body: str,
) -> None:
    assert "JSON object" in refused(body, {"content-type": STRUCTURED})


@pytest.mark.parametrize("depth", ['"deep"', "[1]", '{"n": 1}'])
def test_a_causation_depth_that_is_not_an_integer_is_refused(depth: str) -> None:
    document = json.loads(structured())
    document["boxopsdepth"] = json.loads(depth)

    assert refused(json.dumps(document)).startswith("boxopsdepth is not an integer")


def test_a_negative_causation_depth_counts_as_zero() -> None:
    assert (
        read(json.dumps(REQUEST), binary_headers(**{"ce-boxopsdepth": "-4"})).causation_depth == 0
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"command": []}, "command"),
        ({"command": "echo hi"}, "command"),
        ({"command": ["true", 1]}, "command.1"),
        ({"command": ["true"], "priority": "high"}, "priority"),
        ({"command": ["true"], "resources": {"gpu": -1}}, "resources.gpu"),
    ],
)
def test_a_validation_error_names_the_subject_and_the_field(
    data: dict[str, Any], field: str
) -> None:
    assert refused(json.dumps(data)).startswith(f"run.requested: {field}: ")


def test_a_request_without_a_target_says_what_is_missing() -> None:
    message = refused("{}")

    assert message.startswith("run.requested: ")
    assert "give exactly one of command, component or pipeline" in message


def test_every_problem_is_listed() -> None:
    message = refused(json.dumps({"command": ["true"], "priority": "x", "env": {"A": 1}}))

    assert "priority: " in message and "env.A: " in message


def test_unknown_fields_are_ignored() -> None:
    envelope = read(json.dumps({**REQUEST, "colour": "red", "future_field": {"x": 1}}))

    assert envelope.data == RunRequested(command=["echo", "hi"], priority=3)


def test_unknown_cloudevent_attributes_are_ignored() -> None:
    assert read(structured(dataschema="urn:x", partitionkey="k")).id == "ev-2"
    assert read(json.dumps(REQUEST), binary_headers(**{"ce-partitionkey": "k"})).id == "ev-1"
