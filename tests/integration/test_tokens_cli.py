"""`boxops tokens create | list | revoke` against a served gateway."""

import json

import httpx

from tests.integration.sdk_stack import SdkStack, sdk_stack_fixture  # noqa: F401
from tests.integration.test_runs_logs_cli import boxops


async def test_a_token_is_created_printed_once_listed_and_revoked(sdk_stack: SdkStack) -> None:
    made = await boxops(
        sdk_stack, "tokens", "create", "ci", "--scope", "read", "--scope", "run", "--expires", "30d"
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("bxo_") and len(token.split()) == 1
    assert "not shown again" in made.stderr

    listed = await boxops(sdk_stack, "tokens", "list", "--json")
    [entry] = json.loads(listed.stdout)
    assert (entry["name"], entry["scopes"], entry["expired"]) == ("ci", ["read", "run"], False)
    assert token not in listed.stdout
    async with httpx.AsyncClient(base_url=sdk_stack.url) as http:
        mine = {"Authorization": f"Bearer {token}"}
        assert (await http.get("/v1/runs", headers=mine)).status_code == 200
        assert (await http.get("/v1/tokens", headers=mine)).status_code == 403

        revoked = await boxops(sdk_stack, "tokens", "revoke", "ci")
        assert revoked.returncode == 0, revoked.stderr
        assert (await http.get("/v1/runs", headers=mine)).status_code == 401
    assert json.loads((await boxops(sdk_stack, "tokens", "list", "--json")).stdout) == []


async def test_a_bad_token_request_is_one_line_and_exit_2(sdk_stack: SdkStack) -> None:
    for args, named in (
        (["create", "x", "--scope", "root"], "scopes"),
        (["create", "x", "--scope", "read", "--expires", "soon"], "expires_in"),
        (["revoke", "nobody"], "no token named 'nobody'"),
    ):
        result = await boxops(sdk_stack, "tokens", *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert named in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
