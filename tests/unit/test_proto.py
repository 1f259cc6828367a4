"""proto/ is generated from the event catalog and must not drift from it."""

import json

import yaml

from shared.events import CATALOG, Event
from shared.proto import PROTO_DIR, SUFFIX_FIELDS, schema_path, stale


def test_proto_is_up_to_date_with_the_catalog() -> None:
    assert stale() == [], "proto/ is stale: run `python -m shared.proto`"


def test_every_subject_has_a_schema_whose_required_fields_match_the_model() -> None:
    for model in CATALOG:
        schema = json.loads((PROTO_DIR / schema_path(model.subject)).read_text(encoding="utf-8"))
        required = {name for name, field in model.model_fields.items() if field.is_required()}
        assert set(schema.get("required", [])) == required, model.subject
        assert set(schema["properties"]) == set(model.model_fields), model.subject
        assert schema["description"] == model.summary


def test_suffixed_subjects_are_exactly_the_models_that_override_nats_subject() -> None:
    overriding = {m.subject for m in CATALOG if m.nats_subject is not Event.nats_subject}
    assert overriding == set(SUFFIX_FIELDS)
    channels = yaml.safe_load((PROTO_DIR / "asyncapi.yaml").read_text(encoding="utf-8"))["channels"]
    assert channels["run.dispatched"]["address"] == "run.dispatched.{executor_id}"
    assert channels["log"]["address"] == "log.{run_id}"
