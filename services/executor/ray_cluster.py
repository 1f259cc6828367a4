"""The one adapter to a Ray cluster: its job API (Ray's JobSubmissionClient) and its node
listing (the dashboard's state API). Everything else calls this module's small surface.

JobSubmissionClient is synchronous (requests) but for its log tail: its calls run in a
thread, each bounded in time, so a cluster that stops answering cannot hang the executor.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

T = TypeVar("T")
CALL_S = 30.0
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "STOPPED"})


class RayError(Exception):
    """The cluster could not be reached or refused a request; the text says which and why."""


@dataclass(frozen=True)
class JobState:
    status: str  # PENDING | RUNNING | STOPPED | SUCCEEDED | FAILED
    message: str = ""
    exit_code: int | None = None

    @property
    def ended(self) -> bool:
        return self.status in TERMINAL


class RayCluster:
    def __init__(self, address: str, client: Any) -> None:
        self.address = address
        self.client = client  # ray.job_submission.JobSubmissionClient

    @classmethod
    async def connect(cls, address: str, timeout_s: float = CALL_S) -> "RayCluster":
        """The cluster at `address` (its dashboard URL); RayError saying why it cannot be."""
        try:
            from ray.job_submission import JobSubmissionClient
        except ImportError:
            raise RayError('ray is not installed here: pip install "boxops[ray]"') from None
        client = await _bounded(lambda: JobSubmissionClient(address), timeout_s, address)
        return cls(address, client)

    async def nodes(self) -> list[dict[str, Any]]:
        """The cluster's nodes as Ray lists them (state, resources_total…)."""
        url = f"{self.address}/api/v0/nodes"
        try:
            async with httpx.AsyncClient(timeout=CALL_S) as http:
                response = await http.get(url, params={"limit": 10000, "detail": "true"})
                response.raise_for_status()
                body = response.json()
        except (httpx.HTTPError, ValueError) as err:
            raise RayError(f"ray cluster at {self.address}: cannot list nodes: {err}") from None
        listed = ((body.get("data") or {}).get("result") or {}).get("result")
        if not isinstance(listed, list):
            raise RayError(f"ray cluster at {self.address}: its node listing has no nodes")
        return listed

    async def job(self, submission_id: str) -> JobState | None:
        """The job's state; None if the cluster knows no such job."""
        try:
            info = await self._call(lambda: self.client.get_job_info(submission_id))
        except RayError as err:
            if "does not exist" in str(err):
                return None
            raise
        code = getattr(info, "driver_exit_code", None)
        return JobState(str(info.status.value), info.message or "", code)

    async def submit(self, submission_id: str, entrypoint: str, **options: Any) -> bool:
        """Submit the job; False if a job of that id exists already (it is that one)."""
        try:
            await self._call(
                lambda: self.client.submit_job(
                    entrypoint=entrypoint, submission_id=submission_id, **options
                )
            )
        except RayError as err:
            if "already exists" in str(err):
                return False
            raise
        return True

    async def logs(self, submission_id: str) -> str:
        return str(await self._call(lambda: self.client.get_job_logs(submission_id)))

    async def tail(self, submission_id: str) -> AsyncIterator[str]:
        """The job's log as it grows, from its start."""
        async for chunk in self.client.tail_job_logs(submission_id):
            yield chunk

    async def stop(self, submission_id: str) -> None:
        """Ask Ray to stop the job (SIGTERM to its entrypoint, SIGKILL a few seconds later)."""
        await self._call(lambda: self.client.stop_job(submission_id))

    async def _call(self, call: Callable[[], T]) -> T:
        return await _bounded(call, CALL_S, self.address)


async def _bounded(call: Callable[[], T], timeout_s: float, address: str) -> T:
    try:
        return await asyncio.wait_for(asyncio.to_thread(call), timeout_s)
    except TimeoutError:
        raise RayError(f"ray cluster at {address}: no answer within {timeout_s:g} s") from None
    except (ConnectionError, RuntimeError, OSError, ValueError) as err:
        raise RayError(f"ray cluster at {address}: {_first_line(err)}") from None


def _first_line(err: Exception) -> str:
    """Ray's errors carry the server's traceback: its last line is what went wrong."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip().strip(".")]
    if len(lines) > 1 and lines[0].startswith("Request failed"):
        return f"{lines[0].split(':')[0]}: {lines[-1]}"
    return lines[0] if lines else type(err).__name__
