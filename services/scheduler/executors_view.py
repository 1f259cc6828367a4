"""The executors as `boxops executors list` shows them: each as its last heartbeat said."""

from datetime import datetime

from services.scheduler.placement import Executor, alive
from shared.events import ExecutorHeartbeat
from shared.queries import ExecutorView


def view(executor: Executor, beat: ExecutorHeartbeat, *, at: datetime) -> ExecutorView:
    return ExecutorView(
        id=executor.id,
        alive=alive(executor, at=at),
        stopping=beat.stopping,
        backends=beat.backends,
        capacity=beat.capacity,
        slots=beat.slots,
        running=beat.running,
        labels=beat.labels,
        devices=beat.devices,
        last_seen=executor.last_seen or beat.at,
    )
