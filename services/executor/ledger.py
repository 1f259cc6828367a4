"""Which of an executor's GPUs each run holds: a run gets specific devices, exclusively,
until it ends. Pure: an attempt's key in, device ids out."""

from dataclasses import dataclass, field

from services.executor.devices import Device


class NotEnoughDevices(Exception):
    """The run asks for more devices than are free; the text says how many are and who
    holds the others."""


@dataclass
class Ledger:
    devices: list[Device]
    held: dict[str, str] = field(default_factory=dict)  # device id → the attempt holding it

    def assign(self, attempt: str, count: int) -> list[str]:
        """`count` free devices for `attempt` (the same ones if it holds some already)."""
        mine = [d for d, a in self.held.items() if a == attempt]
        if mine:
            return mine
        free = self.free()
        if count > len(free):
            holders = ", ".join(sorted(set(self.held.values()))) or "nothing"
            raise NotEnoughDevices(
                f"needs gpu={count}; {len(free)} free of {len(self.devices)} (busy: {holders})"
            )
        for device in free[:count]:
            self.held[device] = attempt
        return free[:count]

    def release(self, attempt: str) -> None:
        self.held = {d: a for d, a in self.held.items() if a != attempt}

    def free(self) -> list[str]:
        return [d.id for d in self.devices if d.id not in self.held]
