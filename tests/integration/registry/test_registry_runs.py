"""What completed runs leave in the registry: produced versions, lineage, once per event."""

from datetime import UTC, datetime
from typing import Any

from shared.envelope import Envelope, body_for, headers_for
from shared.events import FileEntry, InputRef, RunCompleted, RunOutput
from tests.conftest import eventually
from tests.integration.registry.conftest import Registry


def entry(path: str, fill: str) -> FileEntry:
    return FileEntry(path=path, size=3, sha256=fill * 64)


CLEAN = [entry("clean.csv", "c")]
MODEL = [entry("model.pkl", "d")]


def completed(run_id: str, **fields: Any) -> RunCompleted:
    return RunCompleted(
        run_id=run_id,
        state="completed",
        at=datetime.now(UTC),
        reason="exit code 0",
        **fields,
    )


async def publish_run(registry: Registry, run: RunCompleted, event_id: str) -> None:
    """As the scheduler does, with the event id in ce-id (and Nats-Msg-Id unless `again`)."""
    envelope = Envelope(id=event_id, source="boxops/scheduler", time=run.at, data=run)
    headers = headers_for(envelope)
    headers["Nats-Msg-Id"] = f"{event_id}-{datetime.now(UTC).timestamp()}"  # a re-publish
    await registry.js.publish("run.completed", body_for(envelope), headers=headers)


async def lineage(registry: Registry, path: str) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        response = await registry.http.get(f"/v1/lineage/{path}")
        return response.json() if response.status_code == 200 else None

    return await eventually(found)  # type: ignore[return-value]


def refs(nodes: list[dict[str, Any]]) -> list[Any]:
    return [(n["ref"], refs(n["children"])) if n["children"] else n["ref"] for n in nodes]


async def test_a_run_records_its_outputs_with_lineage_to_its_inputs(registry: Registry) -> None:
    response = await registry.http.post("/v1/datasets/iris/versions", json={"uri": "s3://b/iris"})
    assert response.status_code == 201
    prep = completed(
        "run-prep",
        component="prep@1",
        inputs={"raw": InputRef(type="dataset", name="iris", version=1)},
        outputs={
            "clean": RunOutput(
                type="dataset", name="iris-clean", files=CLEAN, metadata={"rows": 9}
            ),
            "report": RunOutput(type="metrics", metrics={"dropped": 1}),
        },
    )
    train = completed(
        "run-train",
        component="train@1",
        parent_run_id="run-flow",
        # Wired from the prep step: no version number, the files and the run they came from.
        inputs={
            "data": InputRef(type="dataset", name="iris-clean", files=CLEAN, run_id="run-prep")
        },
        outputs={
            "model": RunOutput(
                type="model",
                name="iris-clf",
                files=MODEL,
                metrics={"f1": 0.9},
                metadata={"framework": "sklearn", "format": "pickle"},
            )
        },
        metrics={"acc": 0.93},
    )
    await publish_run(registry, prep, "ev-prep")
    await publish_run(registry, prep, "ev-prep")  # redelivered: recorded once
    await publish_run(registry, train, "ev-train")

    await lineage(registry, "models/iris-clf/1")  # the consumer is in order: all are in
    downstream = (await registry.http.get("/v1/lineage/datasets/iris/1")).json()
    assert downstream["root"] == {
        "kind": "dataset",
        "ref": "iris@1",
        "label": "",
        "children": [],
        "truncated": False,
        "repeated": False,
        "edges_in": 0,
        "edges_out": 1,
    }
    assert refs(downstream["downstream"]) == [
        ("run-prep", [("iris-clean@1", [("run-train", ["iris-clf@1"])])])
    ]
    assert downstream["downstream"][0]["label"] == "prep@1"
    upstream = (await registry.http.get("/v1/lineage/models/iris-clf/latest")).json()
    assert refs(upstream["upstream"]) == [
        ("run-train", [("iris-clean@1", [("run-prep", ["iris@1"])])])
    ]
    shallow = (await registry.http.get("/v1/lineage/models/iris-clf/1?depth=2")).json()
    assert shallow["upstream"][0]["children"][0]["truncated"] is True

    clean = (await registry.http.get("/v1/datasets/iris-clean/versions/1")).json()
    assert (clean["run_id"], clean["parents"], clean["source"]) == ("run-prep", ["iris@1"], "run")
    model = (await registry.http.get("/v1/models/iris-clf/versions/1")).json()
    assert (model["run_id"], model["framework"], model["format"]) == (
        "run-train",
        "sklearn",
        "pickle",
    )
    assert model["metrics"] == {"acc": 0.93, "f1": 0.9}
    assert model["parents"] == ["iris-clean@1"]
    assert len((await registry.http.get("/v1/datasets/iris-clean/versions")).json()["items"]) == 1
    run = (await registry.http.get("/v1/lineage/runs/run-train")).json()
    assert (refs(run["upstream"]), refs(run["downstream"])) == (
        [("iris-clean@1", [("run-prep", ["iris@1"])])],
        ["iris-clf@1"],
    )


async def test_an_output_without_a_name_does_not_cost_the_others_their_record(
    registry: Registry,
) -> None:
    run = completed(
        "run-x",
        outputs={
            "nameless": RunOutput(type="dataset", files=CLEAN),
            "model": RunOutput(type="model", name="m", files=MODEL),
        },
    )
    await publish_run(registry, run, "ev-x")
    found = await lineage(registry, "models/m/1")
    assert refs(found["upstream"]) == ["run-x"]
    assert (await registry.http.get("/v1/datasets")).json()["total"] == 0
