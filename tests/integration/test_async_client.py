"""`boxops.AsyncClient` against a gateway served on a real port, in front of a scheduler and
an executor: the same answers as the sync client, read the same way."""

import asyncio

import pytest

from boxops.async_client import AsyncClient
from boxops.client import Client, GatewayError
from shared.run_parts import LogLine
from tests.integration.sdk_stack import TOKEN, SdkStack, sdk_stack_fixture  # noqa: F401

CODE = (
    "import sys; print('one'); print('::metric name=acc value=0.5'); print('two', file=sys.stderr)"
)


async def test_the_async_client_runs_a_command_follows_its_logs_and_reads_its_metrics(
    sdk_stack: SdkStack,
) -> None:
    async with AsyncClient(sdk_stack.url, TOKEN) as gateway:
        accepted = await gateway.submit(command=["python", "-c", CODE])
        seen: list[LogLine] = []
        ended = await gateway.follow_logs(accepted.id, seen.append)
        run = await gateway.wait(accepted.id, timeout=30)
        metrics = await gateway.metrics(accepted.id)
        listed = await gateway.runs(state="completed")
        logs = await gateway.logs(accepted.id)

    assert (ended.state, run.state, run.exit_code) == ("completed", "completed", 0)
    printed = {("stdout", "one"), ("stdout", "::metric name=acc value=0.5"), ("stderr", "two")}
    assert {(line.stream, line.line) for line in seen} == printed  # two pipes: any order
    assert {(line.stream, line.line) for line in logs} == printed
    assert metrics.summary["acc"].last == 0.5
    assert [r.id for r in listed] == [accepted.id]
    with Client(sdk_stack.url, TOKEN) as sync:  # in a thread: the gateway serves from this loop
        assert await asyncio.to_thread(sync.run, accepted.id) == run  # the same view


async def test_the_async_client_answers_none_for_what_is_not_there_and_raises_a_refusal(
    sdk_stack: SdkStack,
) -> None:
    async with AsyncClient(sdk_stack.url, TOKEN) as gateway:
        assert await gateway.run("nope") is None
        with pytest.raises(GatewayError) as refused:
            await gateway.submit(command=[])
    assert refused.value.status == 422
    assert str(refused.value).startswith("command:")

    async with AsyncClient(sdk_stack.url, "wrong-token") as stranger:
        with pytest.raises(GatewayError) as denied:
            await stranger.runs()
    assert denied.value.status == 401


async def test_an_unreachable_gateway_is_named() -> None:
    async with AsyncClient("http://127.0.0.1:9") as gateway:
        with pytest.raises(
            GatewayError, match=r"cannot reach the gateway at http://127\.0\.0\.1:9"
        ):
            await gateway.runs()
