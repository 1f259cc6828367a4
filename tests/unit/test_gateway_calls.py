"""The gateway's calls apart from sending them: what each asks for, and how an answer (as
httpx reads it) becomes a view, None or a GatewayError with the gateway's reason."""

import httpx
import pytest

from boxops import gateway_calls as calls
from boxops.gateway_calls import GatewayError

RUN = {"id": "r1", "state": "completed", "command": ["true"], "created_at": "2026-12-07T00:00:00Z"}


def response(status: int, body: object) -> httpx.Response:
    return httpx.Response(status, json=body, request=httpx.Request("GET", "http://gw/v1/x"))


def test_a_call_names_its_route_with_each_segment_encoded() -> None:
    call = calls.dataset_version("a/b", "latest")
    assert (call.method, call.path) == ("GET", "/v1/datasets/a%2Fb/versions/latest")
    fire = calls.fire("nightly", {"lr": 0.1})
    assert (fire.method, fire.path, fire.options) == (
        "POST",
        "/v1/triggers/nightly/fire",
        {"json": {"lr": 0.1}},
    )


def test_an_answer_is_read_into_its_view() -> None:
    run = calls.answer(calls.run("r1"), response(200, RUN))
    assert run is not None and (run.id, run.state) == ("r1", "completed")
    runs = calls.answer(calls.runs(10, {"state": "failed", "pipeline": None}), response(200, [RUN]))
    assert [r.id for r in runs] == ["r1"]
    assert calls.runs(10, {"state": "failed", "pipeline": None}).options == {
        "params": {"limit": 10, "state": "failed"}
    }


def test_a_page_of_items_is_read_as_its_items() -> None:
    page = {"items": [{"name": "t1"}], "total": 1, "limit": 50, "offset": 0}
    assert calls.answer(calls.triggers(), response(200, page)) == [{"name": "t1"}]


def test_a_404_is_none_where_absence_is_an_answer_and_an_error_elsewhere() -> None:
    missing = response(404, {"detail": "no run with id 'r9'"})
    assert calls.answer(calls.run("r9"), missing) is None
    with pytest.raises(GatewayError) as caught:
        calls.answer(calls.metrics("r9"), missing)
    assert (str(caught.value), caught.value.status) == ("no run with id 'r9'", 404)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            {"detail": [{"loc": ["body", "command"], "msg": "Field required"}]},
            "command: Field required",
        ),
        ({"detail": {"error": "steps.a: unknown component"}}, "steps.a: unknown component"),
        ({"detail": "unknown component 'nope'"}, "unknown component 'nope'"),
    ],
)
def test_a_refusal_is_the_gateways_reason_on_one_line(body: object, reason: str) -> None:
    with pytest.raises(GatewayError) as caught:
        calls.answer(calls.submit({}), response(422, body))
    assert (str(caught.value), caught.value.status) == (reason, 422)
