"""Where the embedded stack keeps its state, and how a CLI finds a running one."""

import hashlib
import json
import os
import secrets
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from shared.home import home as home  # re-exported: where each command looks for the stack


@dataclass(frozen=True)
class StackState:
    pid: int
    nats_url: str
    gateway_url: str
    started_at: str


def state_file(root: Path) -> Path:
    return root / "stack.json"


def log_file(root: Path, process: str) -> Path:
    """Where the embedded stack writes a process's output (a service, or `nats`)."""
    return root / "logs" / f"{process}.log"


def bus_dir(root: Path) -> Path:
    """The bus's identities, its server config and credentials files (boxops/bus_auth.py)."""
    return root / "bus"


def credentials_file(root: Path, user: str) -> Path:
    return bus_dir(root) / f"{user}.env"


def sdk_socket(root: Path) -> Path:
    """The embedded gateway's Unix socket, for sandboxed runs' SDK (they have no network):
    in a private folder of this home under the temp dir (a socket's path is at most 107
    bytes, and home is hidden from runs)."""
    stack = hashlib.sha256(str(root).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"boxops-{os.getuid()}-{stack}-gateway" / "sdk.sock"


def nats_port_file(root: Path) -> Path:
    """The port the embedded NATS listens on, kept across restarts."""
    return root / "nats-port"


def nats_pid_file(root: Path) -> Path:
    return root / "nats.pid"


def saved_nats_url(root: Path) -> str | None:
    """The URL other systems publish to, running or not (None before the first start)."""
    try:
        return f"nats://127.0.0.1:{int(nats_port_file(root).read_text())}"
    except (FileNotFoundError, ValueError):
        return None


def operator_login(root: Path) -> dict[str, str]:
    """The bus identity the CLI asks as: BOXOPS_NATS_CREDENTIALS, else the embedded stack's
    operator identity; none if neither exists (a server without authorization)."""
    # Imported here: python-dotenv is a hundredth of the start-up of commands that never
    # talk to the bus.
    from shared.credentials import nats_login

    path = Path(os.environ.get("BOXOPS_NATS_CREDENTIALS") or credentials_file(root, "admin"))
    return nats_login(path) if path.exists() else {}


def read_state(root: Path) -> StackState | None:
    """The running stack's state, or None if none runs (a stale file is ignored)."""
    try:
        state = StackState(**json.loads(state_file(root).read_text()))
    except (FileNotFoundError, json.JSONDecodeError, TypeError):
        return None
    return state if pid_alive(state.pid) else None


def write_state(root: Path, state: StackState) -> None:
    path = state_file(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(state), indent=2))
    temporary.replace(path)  # readers never see half a file


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def api_token(root: Path) -> str:
    """The embedded gateway's token, made on first use and readable by this user only."""
    path = root / "token"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()


def run_token_secret(root: Path) -> str:
    """The secret the embedded executor signs run tokens with and the gateway checks."""
    path = root / "run-token-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()
