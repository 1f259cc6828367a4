"""POST /v1/runs takes the fields of `run.requested`, derived, not copied."""

import pytest
from pydantic import ValidationError

from services.gateway.runs import RunCreate
from shared.events import RunRequest, RunRequested, RunTransition
from shared.runs import RunState


def test_the_http_request_has_every_field_of_the_contract_but_who_asks_and_why() -> None:
    assert set(RunCreate.model_fields) == set(RunRequest.model_fields)
    assert set(RunRequested.model_fields) - set(RunCreate.model_fields) == {"run_id", "cause"}


@pytest.mark.parametrize("field", ["run_id", "cause", "colour"])
def test_a_field_the_gateway_sets_or_does_not_know_is_refused(field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        RunCreate.model_validate({"command": ["true"], field: "x"})


def test_a_null_resources_means_the_components_own() -> None:
    body = RunCreate.model_validate({"component": "train", "resources": None})

    request = RunRequested(**body.model_dump(exclude_none=True))

    assert "resources" not in request.model_fields_set


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
