"""Runs previews in a worker process: in order, each with a timeout, restarted when it dies."""

import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from services.artifact.previews.worker import READY

WORKER = "services.artifact.previews.worker"
LINE_LIMIT = 64 * 1024**2
START_TIMEOUT_S = 60.0


class PreviewRunner:
    def __init__(self, *, timeout_s: float, memory_mb: int) -> None:
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self._process: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()  # one request in flight on the worker's pipe

    async def compute(self, path: Path, kind: str, name: str | None) -> dict[str, Any]:
        return (await self.compute_many([(path, kind, name)]))[0]

    async def compute_many(self, files: list[tuple[Path, str, str | None]]) -> list[dict[str, Any]]:
        """Previews of (path, kind, name) in order. The requests go down the pipe at once
        and the answers come back in order (one round trip for a batch of small files);
        one that times out or kills the worker fails alone, the rest go to a new worker."""
        answers: list[dict[str, Any]] = []
        while len(answers) < len(files):
            answers += await self._round(files[len(answers) :])
        return answers

    async def _round(self, files: list[tuple[Path, str, str | None]]) -> list[dict[str, Any]]:
        """Answers to a prefix of `files`: all of them, or up to the first that failed."""
        requests = [json.dumps({"path": str(p), "kind": k, "name": n}) + "\n" for p, k, n in files]
        answers: list[dict[str, Any]] = []
        async with self._lock:
            process = await self._worker()
            assert process.stdin and process.stdout  # noqa: S101
            process.stdin.write("".join(requests).encode())  # no drain: read while it flows
            for _, kind, _ in files:
                try:
                    line = await asyncio.wait_for(process.stdout.readline(), self.timeout_s)
                except TimeoutError:
                    await self._kill()
                    error = f"preview took longer than {self.timeout_s:g} s"
                    return [*answers, {"kind": kind, "error": error}]
                if not line:
                    code = await self._kill()
                    error = f"preview worker died (exit code {code})"
                    return [*answers, {"kind": kind, "error": error}]
                answers.append(json.loads(line))
        return answers

    async def _worker(self) -> asyncio.subprocess.Process:
        if self._process is None or self._process.returncode is not None:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                WORKER,
                str(self.memory_mb),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=LINE_LIMIT,
            )
            assert self._process.stdout  # noqa: S101
            started = await asyncio.wait_for(self._process.stdout.readline(), START_TIMEOUT_S)
            if started.decode() != READY:
                await self._kill()
                raise RuntimeError(f"the preview worker did not start: {started[:200]!r}")
        return self._process

    async def close(self) -> None:
        await self._kill()

    async def _kill(self) -> int | None:
        process, self._process = self._process, None
        if process is None:
            return None
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        return await process.wait()
