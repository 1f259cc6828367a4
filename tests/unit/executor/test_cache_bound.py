"""Bounding the executor's input cache: the least recently used go, never one in use."""

from services.executor.cache_bound import Cached, to_evict

OLD, MIDDLE, NEW = Cached("a", 100, 1.0), Cached("b", 100, 2.0), Cached("c", 100, 3.0)


def test_a_cache_within_its_bound_keeps_everything() -> None:
    assert to_evict([OLD, MIDDLE, NEW], in_use=set(), max_bytes=300) == []


def test_the_least_recently_used_go_first_until_the_rest_fits() -> None:
    assert to_evict([NEW, OLD, MIDDLE], in_use=set(), max_bytes=150) == ["a", "b"]


def test_an_input_in_use_stays_and_the_next_least_recently_used_goes() -> None:
    assert to_evict([OLD, MIDDLE, NEW], in_use={"a"}, max_bytes=200) == ["b"]


def test_inputs_in_use_stay_even_over_the_bound() -> None:
    assert to_evict([OLD, NEW], in_use={"a", "c"}, max_bytes=0) == []
