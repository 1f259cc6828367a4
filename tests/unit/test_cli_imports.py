"""`boxops` starts fast: importing the CLI loads none of what only some commands need.

Every command pays for what `boxops.cli.main` imports, `--help` included; aiohttp (via the
artifact client), pandas, numpy and scikit-learn cost hundreds of milliseconds together,
pydantic-settings, asyncio, httpx and PyYAML tens each.
"""

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
# shared.specs: the spec models (pydantic, the event catalog), a tenth of a second.
HEAVY = ("aiohttp", "pandas", "numpy", "sklearn", "boxops.artifacts", "shared.specs")
# Loaded by the commands that use them only: settings beyond BOXOPS_HOME by no command.
LATER = ("pydantic_settings", "asyncio", "httpx", "yaml", "shared.events", "dotenv")
# httpx's own command line, which `import httpx` loads whenever click and pygments are there.
HTTPX_CLI = ("httpx._main", "click", "pygments")
# A command run in a fresh interpreter; it returns its exit code instead of exiting.
COMMAND = "from boxops.cli.main import app; app({args!r}, standalone_mode=False)"


def modules_loaded_by(statement: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules a fresh interpreter holds after running `statement`."""
    code = f"{statement}; import sys; print('\\n'.join(sorted(sys.modules)))"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")} | (env or {})
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=environ,
    )
    return set(done.stdout.split())


def heavy_among(modules: set[str], heavy: tuple[str, ...] = HEAVY) -> set[str]:
    """The heavy packages of which `modules` holds the package or any of its submodules."""
    return {h for h in heavy if any(m == h or m.startswith(f"{h}.") for m in modules)}


def test_importing_the_cli_loads_no_heavy_module() -> None:
    loaded = modules_loaded_by("import boxops.cli.main")
    assert "boxops.cli.main" in loaded
    assert heavy_among(loaded, HEAVY + LATER) == set()


def test_the_check_sees_a_heavy_module_when_one_is_loaded() -> None:
    loaded = modules_loaded_by("import boxops.cli.main, boxops.artifacts")
    assert {"aiohttp", "boxops.artifacts"} <= heavy_among(loaded)


def test_listing_runs_loads_httpx_without_its_command_line_or_settings(tmp_path: Path) -> None:
    """`boxops runs list`, here against a gateway that is not there: it still asks. (It
    prints the gateway's JSON: no run views are built, nor the event catalog.)"""
    env = {"BOXOPS_HOME": str(tmp_path), "BOXOPS_GATEWAY_URL": f"http://127.0.0.1:{free_port()}"}
    loaded = modules_loaded_by(COMMAND.format(args=["runs", "list"]), env)
    assert {"httpx", "httpcore", "boxops.client"} <= loaded
    assert heavy_among(loaded, HEAVY + HTTPX_CLI + LATER + ("shared.queries",)) == {"httpx"}


def test_httpx_still_has_its_command_line_after_the_client_was_imported() -> None:
    loaded = modules_loaded_by("import boxops.client, httpx._main")
    assert {"httpx._main", "click"} <= loaded


def test_status_loads_nats_but_no_settings_or_event_models(nats_url: str, tmp_path: Path) -> None:
    env = {"BOXOPS_HOME": str(tmp_path), "BOXOPS_NATS_URL": nats_url}
    loaded = modules_loaded_by(COMMAND.format(args=["status"]), env)
    assert {"nats", "asyncio", "boxops.stack"} <= loaded
    assert heavy_among(loaded, HEAVY + LATER + ("shared.queries",)) == {"asyncio", "dotenv"}


ASK_HEALTH = (
    "import asyncio; from boxops.stack import SERVICES, ask_health; "
    "asyncio.run(ask_health({url!r}, SERVICES, timeout=0.1))"
)


def test_asking_for_health_loads_nats_without_aiohttp(nats_url: str) -> None:
    """`boxops status`: nats-py would import aiohttp, which it needs only for websockets."""
    loaded = modules_loaded_by(ASK_HEALTH.format(url=nats_url))
    assert "nats" in loaded
    assert "aiohttp" not in loaded


def test_aiohttp_still_imports_after_nats_did_without_it(nats_url: str) -> None:
    loaded = modules_loaded_by(ASK_HEALTH.format(url=nats_url) + "; import aiohttp")
    assert "aiohttp" in loaded


def test_a_websocket_server_gets_nats_with_aiohttp() -> None:
    loaded = modules_loaded_by("from boxops.stack import nats_client; nats_client('ws://x')")
    assert {"nats", "aiohttp"} <= loaded
