"""The GPUs an executor offers and which run holds each, through the device-list port with
a fake list of devices."""

from dataclasses import dataclass, field

import pytest

from services.executor.devices import Device, offered
from services.executor.ledger import Ledger, NotEnoughDevices

CARDS = [Device(id=str(i), uuid=f"GPU-{i}", name="A100", memory_mb=81920) for i in range(4)]


@dataclass
class FakeDevices:
    """A DeviceList: the devices it was given; counts the times it was asked."""

    found: list[Device] = field(default_factory=list)
    asked: int = 0

    def devices(self) -> list[Device]:
        self.asked += 1
        return self.found


def test_without_an_override_the_executor_offers_every_device_found() -> None:
    assert offered(None, FakeDevices(CARDS)) == CARDS


def test_an_override_offers_only_the_ids_it_names_described_by_what_was_found() -> None:
    assert offered("1, 3", FakeDevices(CARDS)) == [CARDS[1], CARDS[3]]
    assert offered("0,1", FakeDevices([])) == [Device(id="0"), Device(id="1")]


def test_none_offers_no_device_and_does_not_ask_for_them() -> None:
    found = FakeDevices(CARDS)
    assert offered("none", found) == []
    assert found.asked == 0


def test_each_run_gets_its_own_devices_until_it_ends() -> None:
    ledger = Ledger(CARDS)
    first, second = ledger.assign("r1/1", 1), ledger.assign("r2/1", 2)
    assert first == ["0"] and second == ["1", "2"]
    ledger.release("r1/1")
    assert ledger.free() == ["0", "3"]
    assert ledger.assign("r3/1", 2) == ["0", "3"]


def test_a_run_asking_more_than_is_free_is_refused_naming_who_holds_them() -> None:
    ledger = Ledger(CARDS[:2])
    ledger.assign("r1/1", 1)
    with pytest.raises(NotEnoughDevices, match=r"needs gpu=2; 1 free of 2 \(busy: r1/1\)"):
        ledger.assign("r2/1", 2)
    assert ledger.free() == ["1"]  # nothing taken by the refused run


def test_assigning_again_to_the_same_attempt_gives_the_same_devices() -> None:
    ledger = Ledger(CARDS)
    assert ledger.assign("r1/1", 1) == ledger.assign("r1/1", 1) == ["0"]
