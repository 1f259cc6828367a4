"""Reports to the scheduler that a NATS blip cannot lose.

Each report (an attempt started, an attempt ended with its exit code and outputs; at a
run's end, also the log lines and metric points NATS would not take then) is written to
a spool on disk before it is sent, and sent — in the order written — until
JetStream has stored it (its publish acknowledged: from there the scheduler's durable,
idempotent consumer takes it). One that cannot be sent now stays spooled: it is sent
again with a growing pause, at once when a heartbeat gets through, and by the executor's
next life if this one dies first. A report keeps its event id across sendings, so a copy
sent twice is dropped by JetStream or by the scheduler's inbox. One the bus refuses for
good (too big, no stream takes its subject) is set aside in `refused/`, so it cannot hold
up those behind it.

Until its end report is sent, an attempt is still the executor's: the heartbeat lists it,
so the scheduler does not take it for lost while the report waits.
"""

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nats.errors
import nats.js.errors

from shared.bus import Bus
from shared.envelope import Envelope, body_for, headers_for
from shared.events import Event, ExecutorRunEnded

log = logging.getLogger(__name__)

FIRST_RETRY_S = 0.5
LAST_RETRY_S = 10.0


class Reports:
    def __init__(self, bus: Bus, folder: Path) -> None:
        self.bus = bus
        self.folder = folder
        self._last = 0  # the stamp of the newest file: names sort in the order written
        self._lock = asyncio.Lock()
        self._due = asyncio.Event()
        self._retry_s = FIRST_RETRY_S

    async def send(self, report: Event) -> None:
        """Spool the report, then try to send what is spooled; it never raises for a
        failed sending (the report stays spooled and is sent later)."""
        await self.send_all([self.bus.envelope(report)])

    async def send_all(self, envelopes: Sequence[Envelope[Any]]) -> None:
        """Spool each (in order, under its own id), then try to send what is spooled."""
        for envelope in envelopes:
            event = envelope.data
            record = {
                "subject": event.nats_subject(),
                "headers": headers_for(envelope),
                "body": body_for(envelope).decode(),
            }
            self._last = max(time.time_ns(), self._last + 1)
            name = f"{self._last:020d}-{envelope.id}"
            if isinstance(event, ExecutorRunEnded):  # the heartbeat reads it off the name
                name += f"{END}{event.run_id}{END}{event.attempt}"
            await asyncio.to_thread(_write, self.folder, f"{name}.json", record)
        await self.flush()

    def unsent_ends(self) -> set[tuple[str, int]]:
        """The attempts whose end report is spooled and not yet sent (from the file names:
        nothing is read)."""
        ends = set()
        for path in self._names():
            _, *attempt = path.stem.split(END)
            if len(attempt) == 2 and attempt[1].isdigit():
                ends.add((attempt[0], int(attempt[1])))
        return ends

    async def flush(self) -> bool:
        """Send what is spooled, oldest first, stopping at the first that fails (the order
        the scheduler sees is the order things happened). True once nothing is left. One
        the bus refuses for good (too big, no stream for it) is set aside, not retried."""
        async with self._lock:
            names = await asyncio.to_thread(self._names)
            if names and not self.bus.nats.connected:
                return False  # a publish now would only wait out its timeout
            for path in names:
                record = await asyncio.to_thread(_read, path)
                if record is None:
                    continue
                try:
                    await self.bus.publish_raw(
                        record["subject"], record["body"].encode(), record["headers"]
                    )
                except REFUSED as err:
                    log.error("report %s refused by the bus (%s): set aside", path.name, err)
                    await asyncio.to_thread(_set_aside, path)
                    continue
                except Exception as err:
                    log.warning("report %s not sent yet (%s): kept to send again", path.name, err)
                    self._due.clear()
                    return False
                path.unlink(missing_ok=True)
            self._retry_s = FIRST_RETRY_S
            return True

    def due(self) -> None:
        """Something got through to NATS: what is spooled may go now."""
        self._due.set()

    async def send_forever(self) -> None:
        """Send again what is spooled, with a growing pause while the bus will not take it."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._due.wait(), self._retry_s)
            self._due.clear()
            if self._names() and not await self.flush():
                self._retry_s = min(self._retry_s * 2, LAST_RETRY_S)

    def _names(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(self.folder.glob("*.json"))


END = "~"  # in a spooled end report's name: `<stamp>-<id>~<run id>~<attempt>.json`
# What the bus will never take, however often it is sent.
REFUSED = (nats.errors.MaxPayloadError, nats.js.errors.APIError)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        # A file is renamed into place whole (`_write`): this one was damaged on disk.
        log.error("report %s unreadable: set aside", path.name)
        _set_aside(path)
        return None


def _set_aside(path: Path) -> None:
    """Kept for a person to look at, out of the way of what comes after it."""
    aside = path.parent / "refused"
    aside.mkdir(exist_ok=True)
    path.rename(aside / path.name)


def _write(folder: Path, name: str, record: dict[str, Any]) -> None:
    """Atomically and durably: the report is either whole on disk or not there."""
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{name}.partial"
    with partial.open("w") as file:
        json.dump(record, file)
        file.flush()
        os.fsync(file.fileno())
    partial.rename(folder / name)
