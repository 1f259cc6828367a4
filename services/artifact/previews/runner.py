"""Runs previews in a worker process: one at a time, with a timeout, restarted when it dies."""

import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

WORKER = "services.artifact.previews.worker"
LINE_LIMIT = 64 * 1024**2


class PreviewRunner:
    def __init__(self, *, timeout_s: float, memory_mb: int) -> None:
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self._process: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()  # one request in flight on the worker's pipe

    async def compute(self, path: Path, kind: str, name: str | None) -> dict[str, Any]:
        request = json.dumps({"path": str(path), "kind": kind, "name": name}) + "\n"
        async with self._lock:
            process = await self._worker()
            assert process.stdin and process.stdout
            process.stdin.write(request.encode())
            await process.stdin.drain()
            try:
                line = await asyncio.wait_for(process.stdout.readline(), self.timeout_s)
            except TimeoutError:
                await self._kill()
                return {"kind": kind, "error": f"preview took longer than {self.timeout_s:g} s"}
            if not line:
                code = await self._kill()
                return {"kind": kind, "error": f"preview worker died (exit code {code})"}
        return json.loads(line)  # type: ignore[no-any-return]

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
