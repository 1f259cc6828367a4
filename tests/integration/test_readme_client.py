"""The README's Python client example, run as written against a served gateway, scheduler
and executor."""

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.integration.sdk_stack import TOKEN, SdkStack, sdk_stack_fixture  # noqa: F401

README = Path(__file__).parents[2] / "README.md"


def client_example() -> str:
    """The first Python block under "### The Python client"."""
    section = README.read_text().split("### The Python client", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, "no Python example under ### The Python client"
    return found.group(1)


async def test_the_readme_client_example_runs_a_command_and_reads_its_logs(
    sdk_stack: SdkStack,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    env |= {"BOXOPS_GATEWAY_URL": sdk_stack.url, "BOXOPS_API_TOKEN": TOKEN}
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", client_example()],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "completed 0 ['hello']\n"


def test_the_client_is_reachable_from_the_package_without_loading_it_on_import() -> None:
    code = "import sys, boxops; assert 'boxops.client' not in sys.modules; boxops.Client.from_env"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=README.parent)
