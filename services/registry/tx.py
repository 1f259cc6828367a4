"""A write of the registry: the shared unit of work, with a memo of what its use cases learn.

Versions are numbered "latest + 1": the unit of work's one writer per process keeps two
writes from taking the same number (between replicas the unique index refuses the second),
and their announcements leave in the order the versions were numbered.
"""

from dataclasses import dataclass, field
from typing import Any

from shared import unit_of_work
from shared.unit_of_work import UnitOfWork


@dataclass
class Tx(unit_of_work.Tx):
    memo: dict[str, Any] = field(default_factory=dict)  # what use cases learnt in this write


Writer = UnitOfWork[Tx]
