"""Hashing external data in the background, never in a consumer or a request.

A version of data boxops reads itself (file://, an S3 object whose declared digest is to be
checked) is recorded at once as `pinning`; this loop picks pinning versions
up (after a restart too), hashes a few at a time within the budget, and settles each as
pinned (then announced) or failed with the reason. One huge URI delays nothing else.
"""

import asyncio
import contextlib
import logging
import threading
from typing import Any

from services.registry import datasets
from services.registry.pins import Pinner, Unpinnable
from services.registry.store import datasets as store
from services.registry.tx import Writer

log = logging.getLogger(__name__)
LOOKED_AT = 1000  # pinning versions read per round


class Pinning:
    def __init__(self, writer: Writer, pinner: Pinner, at_once: int, poll_s: float = 1.0) -> None:
        self.writer = writer
        self.pinner = pinner
        self.slots = asyncio.Semaphore(at_once)
        self.poll_s = poll_s
        self.wake = asyncio.Event()
        self.stop = threading.Event()  # tells hashing threads to give up when the service stops
        self.active: set[int] = set()

    def poke(self) -> None:
        """A version was recorded as pinning: look now rather than at the next poll."""
        self.wake.set()

    async def run(self) -> None:
        tasks: set[asyncio.Task[None]] = set()
        self.stop.clear()
        try:
            while True:
                self.wake.clear()
                try:
                    await self._start_waiting(tasks)
                except Exception:
                    log.exception("looking for versions to pin failed; retrying")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.poll_s)
        finally:
            self.stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _start_waiting(self, tasks: set[asyncio.Task[None]]) -> None:
        async with self.writer.reading() as session:
            waiting = await store.pinning(session, LOOKED_AT)
        for version_id, uri in waiting:
            if version_id not in self.active:
                self.active.add(version_id)
                task = asyncio.create_task(self._pin(version_id, uri))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

    async def _pin(self, version_id: int, uri: str) -> None:
        try:
            async with self.slots:
                outcome: tuple[dict[str, Any], dict[str, Any]] | str
                try:
                    outcome = await self.pinner.pin_data(uri, self.stop)
                except Unpinnable as err:
                    outcome = str(err)
                except OSError as err:  # unreadable: a permission, a disk error
                    outcome = f"{uri}: cannot be read: {err.strerror or err}"
                async with self.writer.writing() as tx:
                    await datasets.settle(tx, version_id, outcome)
        except Exception:
            # Still pinning in the database: the next round tries it again.
            log.exception("pinning dataset version %s failed", version_id)
        finally:
            self.active.discard(version_id)
