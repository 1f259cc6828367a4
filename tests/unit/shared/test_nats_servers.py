from urllib.parse import urlparse

import pytest
from nats.aio.client import Server

from shared.nats_servers import MAX_WAIT_S, connect_options, next_server, seeds
from shared.settings import BoxopsSettings


def test_a_cluster_url_is_its_seeds_each_with_its_scheme() -> None:
    url = "nats://n1:4222, nats://n2:4222,nats://n3:4222"
    assert seeds(url) == ["nats://n1:4222", "nats://n2:4222", "nats://n3:4222"]
    assert BoxopsSettings(nats_url=url).nats_url == "nats://n1:4222,nats://n2:4222,nats://n3:4222"


@pytest.mark.parametrize("url", ["", "nats://n1:4222,n2:4222", "nats://n1:4222,ws://n2:80"])
def test_a_seed_without_a_nats_scheme_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="BOXOPS_NATS_URL"):
        BoxopsSettings(nats_url=url)


def test_services_reconnect_for_ever_to_any_seed() -> None:
    options = connect_options("nats://n1:4222,nats://n2:4222")
    assert options["servers"] == ["nats://n1:4222", "nats://n2:4222"]
    assert options["max_reconnect_attempts"] == -1


def pool(*reconnects: int) -> list[Server]:
    return [Server(urlparse(f"nats://n{i}:4222"), n) for i, n in enumerate(reconnects)]


def test_a_lost_node_is_left_for_one_that_has_not_failed_at_once() -> None:
    servers = pool(1, 0, 0)
    for _ in range(50):
        server, wait = next_server(servers, {})
        assert server in servers[1:]
        assert wait == 0


def test_seeds_that_keep_failing_are_tried_after_a_jittered_wait_that_grows() -> None:
    waits = {next_server(pool(n, n), {})[1] for n in (1, 3, 20) for _ in range(20)}
    assert all(0 < wait <= MAX_WAIT_S for wait in waits)
    assert len(waits) > 10  # jittered
    assert max(next_server(pool(1), {})[1] for _ in range(20)) < min(
        next_server(pool(5), {})[1] for _ in range(20)
    )
