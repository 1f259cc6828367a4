"""Which triggers an event matches: subjects indexed, equality filters indexed, then the
full `where` filters on the few candidates left. Pure."""

from collections.abc import Iterable
from typing import Any

from services.trigger.filters import MISSING, lookup, matches, subject_matches
from shared.trigger_specs import Condition, TriggerSpec

Entry = tuple[TriggerSpec, str, Condition]


class SubjectIndex:
    """The conditions of one subject. A condition with an equality (`dataset: iris`) is
    filed under its first one, so 10,000 triggers on `dataset.version.created` that each
    name a dataset cost one dict lookup per event, not 10,000 filter checks."""

    def __init__(self) -> None:
        self.by_value: dict[str, dict[Any, list[Entry]]] = {}
        self.unindexed: list[Entry] = []

    def add(self, entry: Entry) -> None:
        equalities = sorted(
            (path, value)
            for path, value in entry[2].where.items()
            if not isinstance(value, dict | list)
        )
        if not equalities:
            self.unindexed.append(entry)
            return
        path, value = equalities[0]
        self.by_value.setdefault(path, {}).setdefault(value, []).append(entry)

    def candidates(self, data: dict[str, Any]) -> list[Entry]:
        found = list(self.unindexed)
        for path, table in self.by_value.items():
            value = lookup(data, path)
            if value is not MISSING and not isinstance(value, dict | list):
                found.extend(table.get(value, ()))
        return found


class Matcher:
    """Built from the enabled triggers; exact subjects are a dict lookup, wildcards a scan."""

    def __init__(self, specs: Iterable[TriggerSpec]) -> None:
        self.exact: dict[str, SubjectIndex] = {}
        self.wildcard: list[Entry] = []
        for spec in specs:
            for name, condition in spec.conditions().items():
                entry = (spec, name, condition)
                if "*" in condition.subject or ">" in condition.subject:
                    self.wildcard.append(entry)
                else:
                    self.exact.setdefault(condition.subject, SubjectIndex()).add(entry)

    def match(self, subject: str, data: dict[str, Any]) -> list[tuple[TriggerSpec, str]]:
        """(trigger, condition name) for each condition the event meets."""
        index = self.exact.get(subject)
        candidates = index.candidates(data) if index else []
        candidates += [e for e in self.wildcard if subject_matches(e[2].subject, subject)]
        return [(spec, name) for spec, name, cond in candidates if matches(cond.where, data)]
