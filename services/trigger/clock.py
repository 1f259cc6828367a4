"""Schedules: fire each tick exactly once, across restarts and replicas."""

from services.trigger import store
from services.trigger.handlers import Triggers
from services.trigger.schedules import due
from services.trigger.tables import FiringRow, ScheduleRow
from shared.bus import new_id, now


async def fire_schedules(triggers: Triggers) -> None:
    if not any(spec.schedule for spec in triggers.specs.values()):
        return  # nothing to tick: keep the writer free for events
    at = now()
    async with triggers.writing() as tx:
        for spec in list(triggers.specs.values()):
            if spec.schedule is None:
                continue
            state = await store.last_tick(tx.session, spec.name)
            if state is None:  # a new schedule starts now: nothing before it was missed
                tx.session.add(ScheduleRow(trigger=spec.name, last_tick=at))
                continue
            ticks, dropped = due(spec.schedule, state.last_tick, at)
            if dropped:
                policy = spec.schedule.catchup
                tx.session.add(
                    FiringRow(
                        id=new_id(),
                        trigger=spec.name,
                        key=f"missed:{state.last_tick.isoformat()}",
                        status="skipped",
                        reason=f"{dropped} tick(s) missed while the trigger service was down "
                        f"were not fired (catchup: {policy})",
                        at=at,
                    )
                )
            for tick in ticks:
                context = {"trigger": {"name": spec.name}, "tick": tick.isoformat()}
                await triggers.act(tx, spec, context, key=f"tick:{tick.isoformat()}", tick=tick)
            state.last_tick = at
            tx.session.add(state)
