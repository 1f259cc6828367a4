"""The SDK's session: where a run's records go, and the thread that sends metric batches.

In a run (BOXOPS_RUN_ID set by the executor) metric points go to the gateway in batches
with the run's token; when the gateway cannot be reached they are appended to the run's
buffer (metrics.jsonl in $BOXOPS_SDK_DIR), which the executor publishes when the run ends.
Params, tags and artifacts always go to the buffer dir; the executor reports and uploads
them at the end. Outside a run, everything goes to ./boxops-local/<time>-<pid>/.
"""

import atexit
import contextlib
import http.client
import json
import os
import secrets
import socket
import sys
import threading
import time
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic_core import to_json  # a third of json.dumps's time for a batch

BATCH = 5000
FLUSH_S = 0.2
RETRY_AFTER_S = 5.0


class Session:
    def __init__(self, env: dict[str, str]) -> None:
        self.run_id = env.get("BOXOPS_RUN_ID", "")
        self.api = env.get("BOXOPS_API_URL", "") if self.run_id else ""
        self.token = env.get("BOXOPS_RUN_TOKEN", "")
        # In the local sandbox a run has no network: the gateway's socket is its way there.
        self.socket = env.get("BOXOPS_API_SOCKET", "")
        self.labels = _labels(env)
        self.env = env
        self.dir = (
            Path(env["BOXOPS_SDK_DIR"]) if self.run_id and env.get("BOXOPS_SDK_DIR") else None
        )
        self.prefix = f"{os.getpid()}-{secrets.token_hex(4)}"
        self.taken = 0  # points taken for sending so far: numbers the next one's id
        # Appended by the black box, taken from the left by the sender: a deque needs no lock.
        self.pending: deque[tuple[str, float, int | None, float]] = deque()
        self.lock = threading.Lock()
        self.sending = threading.Lock()  # one sender at a time: flush() waits for it
        self.wake = threading.Event()
        self.closed = False
        self.thread: threading.Thread | None = None
        self.offline_until = 0.0 if self.api else float("inf")
        self.connection: http.client.HTTPConnection | None = None

    @property
    def in_run(self) -> bool:
        return bool(self.run_id)

    def folder(self) -> Path:
        if self.dir is None:
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            self.dir = Path("boxops-local") / f"{stamp}-{os.getpid()}"
            print(f"boxops: not in a run; logging to {self.dir}/", file=sys.stderr)
        self.dir.mkdir(parents=True, exist_ok=True)
        return self.dir

    # --- metrics -------------------------------------------------------------------------

    def metric(self, name: str, value: float, step: int | None) -> None:
        self.pending.append((name, value, step, time.time()))
        if self.thread is None:
            self._start()
        if len(self.pending) == BATCH:
            self.wake.set()

    def _start(self) -> None:
        with self.lock:
            if self.thread is not None:
                return
            self.thread = threading.Thread(
                target=self._send_forever, name="boxops-sdk", daemon=True
            )
            self.thread.start()
        atexit.register(self.close)

    def _send_forever(self) -> None:
        while not self.closed:
            self.wake.wait(FLUSH_S)
            self.wake.clear()
            self.flush()

    def flush(self) -> None:
        """Send everything logged so far; returns once it is sent or buffered. The next batch
        is taken and encoded while the gateway answers the last one."""
        with self.sending:
            waiting: list[dict[str, Any]] = []  # sent, the gateway's answer not read yet
            while True:
                points = self._take()
                body = to_json({"points": points, "labels": self.labels}) if points else b""
                if waiting and not self._answered():
                    self._buffer(waiting)
                if not points:
                    return
                waiting = points if self._send(body) else []
                if not waiting:
                    self._buffer(points)

    def _take(self) -> list[dict[str, Any]]:
        batch = [self.pending.popleft() for _ in range(min(BATCH, len(self.pending)))]
        first, self.taken = self.taken + 1, self.taken + len(batch)
        # `at` in seconds since the epoch: the gateway reads it as UTC.
        return [
            {"id": f"{self.prefix}-{first + i}", "name": n, "value": v, "step": s, "at": t}
            for i, (n, v, s, t) in enumerate(batch)
        ]

    def _send(self, body: bytes) -> bool:
        """Send a batch to the gateway without waiting for its answer; False (and a pause)
        when it cannot be done."""
        if time.monotonic() < self.offline_until:
            return False
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}
        path = f"{urlsplit(self.api).path.rstrip('/')}/v1/sdk/runs/{self.run_id}/metrics"
        try:
            self._connection().request("POST", path, body=body, headers=headers)
            return True
        except (OSError, http.client.HTTPException):
            self._offline(0)
            return False

    def _answered(self) -> bool:
        """Whether the gateway took the batch sent last (False: a pause, see _offline)."""
        try:
            response = self._connection().getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status = 0
        if status != 200:
            self._offline(status)
        return status == 200

    def _offline(self, status: int) -> None:
        """Unreachable, or refused: the buffer takes the points; try the gateway again later."""
        self._drop_connection()
        self.offline_until = time.monotonic() + (
            float("inf") if status in (401, 403) else RETRY_AFTER_S
        )

    def _connection(self) -> http.client.HTTPConnection:
        if self.connection is None and self.socket:
            self.connection = UnixConnection(self.socket, timeout=10)
        if self.connection is None:
            url = urlsplit(self.api)
            kind = (
                http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
            )
            self.connection = kind(url.netloc, timeout=10)
        return self.connection

    def _drop_connection(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                self.connection.close()
        self.connection = None

    def _buffer(self, points: list[dict[str, Any]]) -> None:
        self.append("metrics.jsonl", points)

    # --- records and files ------------------------------------------------------------------

    def append(self, file: str, records: list[dict[str, Any]]) -> None:
        text = "".join(json.dumps(r, default=str) + "\n" for r in records)
        with (self.folder() / file).open("a", encoding="utf-8") as out:
            out.write(text)

    def close(self) -> None:
        """At exit: send (or buffer) what is pending."""
        self.closed = True
        self.wake.set()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(timeout=30)
        self.flush()
        self._drop_connection()


class UnixConnection(http.client.HTTPConnection):
    """HTTP over a Unix socket (the standard library has none)."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        connected = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connected.settimeout(self.timeout)
        try:
            connected.connect(self.socket_path)
        except OSError:
            connected.close()
            raise
        self.sock = connected


def _labels(env: dict[str, str]) -> dict[str, str]:
    """The labels the executor gave the run (component, pipeline, step), for every point."""
    try:
        labels = json.loads(env.get("BOXOPS_LABELS") or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}
