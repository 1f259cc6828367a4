"""Reconciling what the scheduler holds on an executor with what the executor's heartbeat
says it runs. Pure logic: the heartbeat handler passes in what it holds and what it heard,
and acts on the verdict (after checking each run in the database).

Runs are told apart by attempt: a retry (attempt N+1) may be placed on the executor while
attempt N still settles there, and each has its own time.

An attempt the scheduler holds that the executor does not list is lost once it has been
missing for longer than the grace: one dispatched moments ago is not listed until the
executor has taken the dispatch. An attempt the executor lists that the scheduler does not
hold there has ended (or never was its) and must be stopped: asked again only after a stop
had its time.
"""

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.runs import LOST_ON_RESTART

LOST = LOST_ON_RESTART
STRAY = "the scheduler no longer runs it here"
GRACE_BEATS = 1.5  # how many heartbeat intervals a held run may be missing before it is lost
Attempt = tuple[str, int]  # (run id, attempt number)


@dataclass(frozen=True)
class Verdict:
    lost: list[Attempt] = field(default_factory=list)  # held, missing past the grace
    strays: list[Attempt] = field(default_factory=list)  # listed, not held: to be stopped


@dataclass
class Reconciler:
    stop_every: timedelta  # a stray still listed this long after its stop is asked again
    # executor → attempt → since it is missing; executor → attempt → when its stop was asked
    missing: dict[str, dict[Attempt, datetime]] = field(default_factory=dict)
    stopped: dict[str, dict[Attempt, datetime]] = field(default_factory=dict)

    def observe(
        self,
        executor_id: str,
        held: Collection[Attempt],
        running: Collection[Attempt],
        *,
        interval: timedelta,
        at: datetime,
    ) -> Verdict:
        """Compare one heartbeat with what the scheduler holds on its executor."""
        before = self.missing.get(executor_id, {})
        missing = {run: before.get(run, at) for run in held if run not in running}
        self.missing[executor_id] = missing
        grace = interval * GRACE_BEATS
        lost = sorted(run for run, since in missing.items() if at - since > grace)

        asked = self.stopped.get(executor_id, {})
        extra = [run for run in running if run not in held]
        self.stopped[executor_id] = {run: asked[run] for run in extra if run in asked}
        due = [run for run in extra if run not in asked or at - asked[run] > self.stop_every]
        return Verdict(lost=lost, strays=sorted(due))

    def asked_to_stop(self, executor_id: str, attempt: Attempt, *, at: datetime) -> None:
        self.stopped.setdefault(executor_id, {})[attempt] = at
