"""What a trigger does with a match: skip, wait (debounce, queue) or fire. Pure."""

from dataclasses import dataclass, field
from typing import Any, Literal

from services.trigger.bindings import MissingBinding, render
from services.trigger.notify import message
from shared import storable
from shared.trigger_specs import TriggerSpec

Action = Literal["fire", "skip", "queue", "debounce"]


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    replaces: tuple[str, ...] = ()
    command: list[str] | None = None


def decide(
    spec: TriggerSpec,
    context: dict[str, Any],
    *,
    depth: int,
    active_runs: list[str],
    debounced: bool = False,
    attributes: dict[str, str] | None = None,
) -> Decision:
    """Depth limit, then bindings (values a run request may carry), then debounce, then
    concurrency. `context` holds what bindings may use: event/events, tick, trigger, fire.
    A notify target's params are the message it sends (`attributes`: its CloudEvent's)."""
    if depth >= spec.max_depth:
        return Decision(
            "skip", f"causation depth {depth} reached the limit {spec.max_depth}: not firing"
        )
    try:
        params = render(spec.target.params, context)
        inputs = {name: str(render(ref, context)) for name, ref in spec.target.inputs.items()}
        command = [str(render(part, context)) for part in spec.target.command or []] or None
        if spec.target.notify:
            params = message(spec.target.notify, context, attributes or {})
    except MissingBinding as missing:
        return Decision("skip", str(missing))
    # A run request carries nothing a database cannot store: an event that binds such a
    # value (a NUL, Infinity) is a skip with the reason, not a request refused on the bus.
    unstorable = storable.problem({"params": params, "inputs": inputs, "command": command})
    if unstorable:
        return Decision("skip", f"not firing: {unstorable}")
    if spec.debounce and not debounced:
        reason = f"debouncing for {spec.debounce:g} s"
        return Decision("debounce", reason, params, inputs, command=command)
    return admit(spec, active_runs, params, inputs, command)


def admit(
    spec: TriggerSpec,
    active_runs: list[str],
    params: dict[str, Any],
    inputs: dict[str, str],
    command: list[str] | None = None,
) -> Decision:
    """The concurrency policy, for a firing whose bindings are settled."""
    if active_runs:
        match spec.concurrency:
            case "skip":
                return Decision("skip", f"run {active_runs[0]} of this trigger is still active")
            case "queue":
                reason = f"waiting for run {active_runs[0]}"
                return Decision("queue", reason, params, inputs, command=command)
            case "replace":
                reason = f"replacing run {', '.join(active_runs)}"
                return Decision("fire", reason, params, inputs, tuple(active_runs), command)
    return Decision("fire", "", params, inputs, command=command)
