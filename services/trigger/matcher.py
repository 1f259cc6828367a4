"""Which triggers an event matches: subjects indexed, then `where` filters. Pure."""

from collections.abc import Iterable
from typing import Any

from services.trigger.filters import matches, subject_matches
from shared.trigger_specs import Condition, TriggerSpec


class Matcher:
    """Built from the enabled triggers; exact subjects are a dict lookup, wildcards a scan."""

    def __init__(self, specs: Iterable[TriggerSpec]) -> None:
        self.exact: dict[str, list[tuple[TriggerSpec, str, Condition]]] = {}
        self.wildcard: list[tuple[TriggerSpec, str, Condition]] = []
        for spec in specs:
            for name, condition in spec.conditions().items():
                entry = (spec, name, condition)
                if "*" in condition.subject or ">" in condition.subject:
                    self.wildcard.append(entry)
                else:
                    self.exact.setdefault(condition.subject, []).append(entry)

    def match(self, subject: str, data: dict[str, Any]) -> list[tuple[TriggerSpec, str]]:
        """(trigger, condition name) for each condition the event meets."""
        candidates = self.exact.get(subject, []) + [
            entry for entry in self.wildcard if subject_matches(entry[2].subject, subject)
        ]
        return [(spec, name) for spec, name, cond in candidates if matches(cond.where, data)]

    def subjects(self) -> set[str]:
        return set(self.exact) | {entry[2].subject for entry in self.wildcard}
