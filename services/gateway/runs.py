"""/v1/runs: submit runs, read their state, history and logs."""

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse
from nats.js.errors import NotFoundError
from pydantic import BaseModel, ConfigDict, Field

from shared.bus import TELEMETRY, Bus, new_id
from shared.events import LogChunk, LogLine, Resources, RunRequested
from shared.queries import RUNS_GET, RUNS_LIST, Reply, RunGet, RunList, RunView

router = APIRouter(tags=["runs"])
STATES = "^(pending|running|completed|failed|aborted)$"


class RunCreate(BaseModel):
    """An ad-hoc run of an inline command."""

    model_config = ConfigDict(extra="forbid")

    command: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1, description="Command and arguments."
    )
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables.")
    resources: Resources = Field(default_factory=Resources, description="Resources needed.")
    priority: int = Field(0, description="Higher runs first.")


class RunAccepted(BaseModel):
    id: str
    state: str = "pending"
    url: str


class RunLogs(BaseModel):
    run_id: str
    lines: list[LogLine]


@router.post("/runs", status_code=202, response_model=RunAccepted)
async def submit_run(body: RunCreate, request: Request) -> RunAccepted:
    """Accept a run; the scheduler records it as pending right after."""
    bus: Bus = request.app.state.service.bus
    run_id = new_id()
    await bus.publish(
        RunRequested(
            run_id=run_id,
            command=body.command,
            env=body.env,
            resources=body.resources,
            priority=body.priority,
        ),
        id=run_id,
    )
    return RunAccepted(id=run_id, url=f"/v1/runs/{run_id}")


@router.get("/runs", response_model=list[RunView])
async def list_runs(
    request: Request,
    state: Annotated[str | None, Query(pattern=STATES)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> Any:
    return await _ask(request, RUNS_LIST, RunList(state=state, limit=limit))


@router.get("/runs/{run_id}", response_model=RunView)
async def get_run(run_id: str, request: Request) -> Any:
    return await _ask(request, RUNS_GET, RunGet(run_id=run_id))


@router.get("/runs/{run_id}/logs", response_model=RunLogs)
async def get_logs(
    run_id: str, request: Request, format: Annotated[str, Query(pattern="^(json|text)$")] = "json"
) -> Any:
    """What the run printed so far, in order, from the telemetry stream."""
    lines = await read_logs(request.app.state.service.bus, run_id)
    if format == "text":
        return PlainTextResponse("".join(f"{line.line}\n" for line in lines))
    return RunLogs(run_id=run_id, lines=lines)


async def read_logs(bus: Bus, run_id: str) -> list[LogLine]:
    js = bus.broker.config.connection_state.stream  # type: ignore[attr-defined]
    chunks: list[LogChunk] = []
    seq = 1
    while True:
        try:
            message = await js.get_msg(TELEMETRY.name, seq=seq, next=True, subject=f"log.{run_id}")
        except NotFoundError:
            break
        chunks.append(LogChunk.model_validate_json(message.data or b"{}"))
        seq = (message.seq or seq) + 1
    chunks.sort(key=lambda chunk: chunk.seq)
    return [line for chunk in chunks for line in chunk.lines]


async def _ask(request: Request, subject: str, query: BaseModel) -> Any:
    broker = request.app.state.service.broker
    timeout = request.app.state.settings.query_timeout_s
    try:
        message = await broker.request(query, subject, timeout=timeout)
    except TimeoutError:
        service = subject.split(".")[1]
        raise HTTPException(503, f"no answer from {service} within {timeout}s") from None
    reply = Reply.model_validate(await message.decode())
    if not reply.ok:
        raise HTTPException(reply.status, reply.error)
    return reply.result
