"""`boxops hooks create | list | delete` against a served gateway."""

import json

from tests.integration.sdk_stack import SdkStack, sdk_stack_fixture  # noqa: F401
from tests.integration.test_runs_logs_cli import boxops


async def test_a_hook_is_made_with_its_secret_printed_once_listed_and_deleted(
    sdk_stack: SdkStack,
) -> None:
    made = await boxops(
        sdk_stack, "hooks", "create", "git-push", "--map", "repo=repository.full_name"
    )
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert len(secret) >= 32 and len(secret.split()) == 1
    assert "POST /v1/hooks/git-push publishes on ext.hook.git-push" in made.stderr

    listed = await boxops(sdk_stack, "hooks", "list", "--json")
    [entry] = json.loads(listed.stdout)
    assert entry["mapping"] == {"repo": "repository.full_name"}
    assert secret not in listed.stdout

    assert (await boxops(sdk_stack, "hooks", "delete", "git-push")).returncode == 0
    assert json.loads((await boxops(sdk_stack, "hooks", "list", "--json")).stdout) == []


async def test_a_bad_hook_request_is_one_line_and_exit_2(sdk_stack: SdkStack) -> None:
    for args, named in (
        (["create", "x", "--subject", "run.requested"], "is not public"),
        (["create", "x", "--map", "repo"], "expected FIELD=PATH"),
        (["delete", "nobody"], "no hook named 'nobody'"),
    ):
        result = await boxops(sdk_stack, "hooks", *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert named in result.stderr, result.stderr
