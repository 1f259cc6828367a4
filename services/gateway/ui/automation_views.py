"""What the trigger and monitor pages show, made from the trigger service's answers.
Pure: no I/O."""

from datetime import datetime
from typing import Any

import yaml


def watches(spec: dict[str, Any]) -> str:
    """What starts a trigger, in a line: its event subject, schedule, or conditions."""
    if spec.get("event"):
        return _condition(spec["event"])
    if schedule := spec.get("schedule"):
        return f"schedule {schedule['cron']} ({schedule.get('timezone', 'UTC')})"
    if all_of := spec.get("all_of"):
        each = "; ".join(_condition(c) for c in all_of["events"].values())
        return f"all of, within {all_of['window']:g} s: {each}"
    if spec.get("metric"):
        return f"metric {spec['metric']}{_labels(spec.get('where') or {})}"
    return "fired by hand only"


def _condition(condition: dict[str, Any]) -> str:
    where = condition.get("where") or {}
    return condition["subject"] + (f" where {_yaml_line(where)}" if where else "")


def _labels(where: dict[str, str]) -> str:
    return " (" + ", ".join(f"{k}={v}" for k, v in where.items()) + ")" if where else ""


def _yaml_line(value: Any) -> str:
    return str(yaml.safe_dump(value, default_flow_style=True, sort_keys=False)).strip()


def rule(spec: dict[str, Any]) -> str:
    """A monitor's rule in words, e.g. `last accuracy below 0.9 (re-arms at 0.92)`."""
    direction, threshold = threshold_of(spec)
    text = f"{spec.get('aggregate', 'last')} {spec['metric']} {direction} {threshold:g}"
    if spec.get("for"):
        text += f" for {spec['for']:g} s"
    if hysteresis := spec.get("hysteresis"):
        again = threshold + hysteresis if direction == "below" else threshold - hysteresis
        text += f" (re-arms at {again:g})"
    return text


def threshold_of(spec: dict[str, Any]) -> tuple[str, float]:
    if spec.get("below") is not None:
        return "below", float(spec["below"])
    return "above", float(spec["above"])


def spec_text(spec: dict[str, Any]) -> str:
    """The stored spec as the YAML a user would apply (what was left unset left out)."""
    given = {key: value for key, value in spec.items() if value is not None and value != ""}
    return str(yaml.safe_dump(given, sort_keys=False, allow_unicode=True))


def summary(shown: dict[str, Any]) -> dict[str, Any]:
    """A row of the triggers or monitors list, from the service's `show` answer."""
    recent = shown.get("recent") or []
    return {
        "name": shown["name"],
        "type": shown["type"],
        "enabled": shown["enabled"],
        "watches": watches(shown["spec"]),
        "last": firing(recent[0]) if recent else None,
        "rule": rule(shown["spec"]) if shown["kind"] == "monitor" else "",
    }


def firing(row: dict[str, Any]) -> dict[str, Any]:
    """One line of a trigger's history: what it decided, when, on what, and its run."""
    return {
        "status": row["status"],
        "at": _time(row["at"]),
        "event_id": row.get("event_id") or "",
        "tick": _time(row["tick"]) if row.get("tick") else None,
        "run_id": row.get("run_id") or "",
        "run_state": row.get("run_state") or "",
        "reason": row.get("reason") or "",
        "cause": _cause(row),
    }


def _cause(row: dict[str, Any]) -> str:
    if row.get("event_id"):
        return "event"
    if row.get("tick"):
        return "schedule"
    return "by hand" if str(row.get("key", "")).startswith("manual:") else ""


def _time(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def crossing(row: dict[str, Any]) -> dict[str, Any]:
    """One line of a monitor's history: below, above or recovered, at what value."""
    return {
        "kind": row["kind"],
        "at": _time(row["at"]),
        "value": row["value"],
        "threshold": row["threshold"],
        "run_id": row.get("run_id") or "",
    }


def band(spec: dict[str, Any]) -> dict[str, Any]:
    """Where a monitor's rule is breached (beyond `threshold`, in `direction`) and where it
    re-arms (`rearm`: the threshold moved back by the hysteresis)."""
    direction, threshold = threshold_of(spec)
    back = float(spec.get("hysteresis") or 0.0)
    rearm = threshold + back if direction == "below" else threshold - back
    return {"direction": direction, "threshold": threshold, "rearm": rearm}


def chart(
    spec: dict[str, Any], points: list[dict[str, Any]], crossings: list[dict[str, Any]]
) -> dict[str, Any]:
    """The drawChart spec of a monitor: the points it saw by time, its band, and each
    crossing (oldest first) as a mark."""
    return {
        "series": [
            {
                "label": spec["metric"],
                "x": [_time(p["at"]).timestamp() for p in points],
                "y": [p["value"] for p in points],
            }
        ],
        "time": True,
        "yLabel": spec["metric"],
        "band": band(spec),
        "crossings": [
            {"x": c["at"].timestamp(), "y": c["value"], "kind": c["kind"]}
            for c in sorted(crossings, key=lambda c: c["at"])
        ],
    }
