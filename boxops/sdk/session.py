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
import sys
import threading
import time
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

BATCH = 5000
FLUSH_S = 0.2
RETRY_AFTER_S = 5.0


class Session:
    def __init__(self, env: dict[str, str]) -> None:
        self.run_id = env.get("BOXOPS_RUN_ID", "")
        self.api = env.get("BOXOPS_API_URL", "") if self.run_id else ""
        self.token = env.get("BOXOPS_RUN_TOKEN", "")
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
        self.sending = threading.Lock()  # one batch in flight: flush() waits for it
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
        """Send everything logged so far; returns once it is sent or buffered."""
        while True:
            with self.sending:
                batch = [self.pending.popleft() for _ in range(min(BATCH, len(self.pending)))]
                if not batch:
                    return
                first, self.taken = self.taken + 1, self.taken + len(batch)
                # `at` in seconds since the epoch: the gateway reads it as UTC.
                points = [
                    {"id": f"{self.prefix}-{first + i}", "name": n, "value": v, "step": s, "at": t}
                    for i, (n, v, s, t) in enumerate(batch)
                ]
                if not self._post(points):
                    self._buffer(points)

    def _post(self, points: list[dict[str, Any]]) -> bool:
        """Send a batch to the gateway; False (and a pause) when it cannot be done."""
        if time.monotonic() < self.offline_until:
            return False
        body = json.dumps({"points": points, "labels": self.labels})
        try:
            status = self._request(f"/v1/sdk/runs/{self.run_id}/metrics", body)
        except (OSError, http.client.HTTPException):
            status = 0
        if status == 200:
            return True
        self._drop_connection()
        # Unreachable, or refused: the buffer takes the points; try the gateway again later.
        self.offline_until = time.monotonic() + (
            float("inf") if status in (401, 403) else RETRY_AFTER_S
        )
        return False

    def _request(self, path: str, body: str) -> int:
        if self.connection is None:
            url = urlsplit(self.api)
            kind = (
                http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
            )
            self.connection = kind(url.netloc, timeout=10)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}
        prefix = urlsplit(self.api).path.rstrip("/")
        self.connection.request("POST", prefix + path, body=body.encode(), headers=headers)
        response = self.connection.getresponse()
        response.read()
        return response.status

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


def _labels(env: dict[str, str]) -> dict[str, str]:
    """The labels the executor gave the run (component, pipeline, step), for every point."""
    try:
        labels = json.loads(env.get("BOXOPS_LABELS") or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}
