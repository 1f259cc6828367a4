"""`boxops` starts fast: importing the CLI loads none of what only some commands need.

Every command pays for what `boxops.cli.main` imports, `--help` included; aiohttp (via the
artifact client), pandas, numpy and scikit-learn cost hundreds of milliseconds together.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# shared.specs: the spec models (pydantic, the event catalog), a tenth of a second.
HEAVY = ("aiohttp", "pandas", "numpy", "sklearn", "boxops.artifacts", "shared.specs")


def modules_loaded_by(statement: str) -> set[str]:
    """The modules a fresh interpreter holds after running `statement`."""
    code = f"{statement}; import sys; print('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(done.stdout.split())


def heavy_among(modules: set[str]) -> set[str]:
    """The heavy packages of which `modules` holds the package or any of its submodules."""
    return {h for h in HEAVY if any(m == h or m.startswith(f"{h}.") for m in modules)}


def test_importing_the_cli_loads_no_heavy_module() -> None:
    loaded = modules_loaded_by("import boxops.cli.main")
    assert "boxops.cli.main" in loaded
    assert heavy_among(loaded) == set()


def test_the_check_sees_a_heavy_module_when_one_is_loaded() -> None:
    loaded = modules_loaded_by("import boxops.cli.main, boxops.artifacts")
    assert {"aiohttp", "boxops.artifacts"} <= heavy_among(loaded)


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
