"""A run's log. Its one durable copy is the archive the executor stores in the artifact
store when the run ends (`runs/<run id>/logs.jsonl`); until then, and where there is none,
the lines come from the telemetry stream's live chunks, which it keeps only a while."""

import logging

import httpx
from fastapi import HTTPException, Request

from services.gateway.ask import ask
from shared import artifacts as contract
from shared.artifacts import BadKey, BlobQuery, Location, NameInfo, NameQuery, run_logs_key
from shared.bus import TELEMETRY, Bus
from shared.events import LogChunk, LogLine

log = logging.getLogger(__name__)
FETCH_TIMEOUT = httpx.Timeout(30.0, read=120.0)
NOT_THERE = (404, 503)  # not archived (yet), or no artifact service answers


async def read_logs(request: Request, run_id: str) -> list[LogLine]:
    archived = await archived_logs(request, run_id)
    if archived is not None:
        return archived
    return await live_logs(request.app.state.service.bus, run_id)


async def archived_logs(request: Request, run_id: str) -> list[LogLine] | None:
    try:
        query = NameQuery(key=run_logs_key(run_id))
        named = NameInfo.model_validate(await ask(request, contract.NAME_GET, query))
        blob = BlobQuery(sha256=named.sha256)
        location = Location.model_validate(await ask(request, contract.LOCATE, blob))
    except BadKey:
        return None  # no run has such an id: the scheduler says so
    except HTTPException as err:
        if err.status_code in NOT_THERE:
            return None
        raise
    async with httpx.AsyncClient(timeout=FETCH_TIMEOUT) as client:
        try:
            response = await client.get(location.url)
        except httpx.TransportError as err:
            log.warning("the log archive of run %s cannot be read now: %s", run_id, err)
            return None  # the live chunks, while the stream keeps them
    response.raise_for_status()  # a store that lost a recorded blob is a fault
    return [LogLine.model_validate_json(line) for line in response.content.splitlines() if line]


async def live_logs(bus: Bus, run_id: str) -> list[LogLine]:
    bodies = await bus.nats.bodies(TELEMETRY.name, f"log.{run_id}")
    chunks = [LogChunk.model_validate_json(body or b"{}") for body in bodies]
    chunks.sort(key=lambda chunk: chunk.seq)
    return [line for chunk in chunks for line in chunk.lines]
