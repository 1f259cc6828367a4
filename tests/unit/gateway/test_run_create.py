"""POST /v1/runs takes the fields of `run.requested`, derived, not copied."""

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from services.gateway.runs import RunCreate
from shared.envelope import Envelope, body_for, headers_for, parse
from shared.events import Resources, RunRequest, RunRequested, RunTransition
from shared.runs import RunState

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_http_request_has_every_field_of_the_contract_but_who_asks_and_why() -> None:
    assert set(RunCreate.model_fields) == set(RunRequest.model_fields)
    assert set(RunRequested.model_fields) - set(RunCreate.model_fields) == {"run_id", "cause"}


@pytest.mark.parametrize("field", ["run_id", "cause", "colour"])
def test_a_field_the_gateway_sets_or_does_not_know_is_refused(field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        RunCreate.model_validate({"command": ["true"], field: "x"})


@pytest.mark.parametrize("body", [{}, {"resources": None}])
def test_resources_not_asked_for_stay_unasked_on_the_wire(body: dict[str, Any]) -> None:
    asked = RunCreate.model_validate({"component": "train", **body})
    request = RunRequested(**asked.model_dump(exclude_none=True))
    sent = Envelope(id="ev-1", source="tests", time=NOW, data=request)

    received = parse(RunRequested, headers_for(sent), body_for(sent), new_id="x", now=NOW)

    assert received.data.resources is None  # so the component's own apply


def test_resources_asked_for_arrive_as_asked() -> None:
    request = RunRequested(component="train", resources=Resources(cpu=0.5))
    sent = Envelope(id="ev-1", source="tests", time=NOW, data=request)

    received = parse(RunRequested, headers_for(sent), body_for(sent), new_id="x", now=NOW)

    assert received.data.resources == Resources(cpu=0.5, memory_mb=512, gpu=0)


def test_the_contracts_checks_apply_over_http() -> None:
    with pytest.raises(ValidationError, match="exactly one of command, component or pipeline"):
        RunCreate.model_validate({"command": ["true"], "component": "train"})
    with pytest.raises(ValidationError, match="retries"):
        RunCreate.model_validate({"command": ["true"], "retries": 21})


@pytest.mark.parametrize("target", ["component", "pipeline"])
def test_an_empty_name_is_refused_naming_its_field(target: str) -> None:
    with pytest.raises(ValidationError, match=target):
        RunCreate.model_validate({"command": ["true"], target: ""})
    with pytest.raises(ValidationError, match=target):
        RunCreate.model_validate({target: ""})


def test_states_travel_as_the_same_strings() -> None:
    assert [str(state) for state in RunState] == [
        "pending",
        "running",
        "completed",
        "failed",
        "aborted",
    ]
    schema = RunTransition.model_json_schema()
    assert schema["$defs"]["RunState"]["enum"] == [state.value for state in RunState]
