import hashlib
import os
import re
import socket
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from pydantic import Field, field_validator, model_validator

from shared.settings import BoxopsSettings


class ExecutorSettings(BoxopsSettings):
    executor_id: str = Field(default_factory=socket.gethostname, description="Unique per machine.")
    slots: int = Field(default_factory=lambda: max(2, 2 * (os.cpu_count() or 1)), ge=1)
    cpu: float = Field(default_factory=lambda: float(os.cpu_count() or 1), gt=0)
    memory_mb: int = Field(default_factory=lambda: _memory_mb(), gt=0)
    gpu: int = Field(0, ge=0, description="GPUs this executor offers.")
    labels: dict[str, str] = Field(default_factory=dict, description='JSON, e.g. {"zone": "eu"}')
    heartbeat_s: float = 1.0
    stop_grace_s: float = 10.0
    log_flush_s: float = 0.05
    executor_gpus: str | None = Field(
        None,
        description="GPU ids to offer (`0,1`) or `none`; unset: those NVML finds, or `gpu` ids"
        " 0…gpu-1 without NVML.",
    )
    executor_sample_s: float = Field(
        5.0, ge=0, description="Sample each run's CPU, memory and I/O this often; 0: off."
    )
    log_limit_mb: float = Field(64, gt=0, description="Output recorded per run; the rest dropped.")
    metric_flush_s: float = Field(0.1, gt=0, description="Pause between metric batches.")
    keep_failed_workdirs_s: float = Field(
        24 * 3600, ge=0, description="A run's work dir is kept this long unless it completed."
    )
    input_cache_max_bytes: int = Field(
        10 * 1024**3,
        ge=0,
        description="Bound of the cache of downloaded inputs: past it, the least recently"
        " used go (never one a running attempt uses).",
    )
    workdir_sweep_s: float = Field(600, gt=0, description="How often kept work dirs are swept.")
    gateway_url: str = Field("", description="Gateway URL for artifacts and the SDK.")
    api_token: str = Field("", description="The gateway's bearer token (artifacts).")
    run_token_secret: str = Field("", description="Signs the run-scoped SDK tokens.")
    sdk_socket: Path | None = Field(
        None,
        description="The gateway's Unix socket (its BOXOPS_SDK_SOCKET): shown to sandboxed "
        "local runs, which have no network, for their SDK.",
    )
    run_token_max_s: float = Field(
        7 * 24 * 3600,
        gt=0,
        description="A run's SDK token expires this long after its start at the latest "
        "(its timeout and an hour, if it has one).",
    )
    docker: bool = Field(True, description="Offer the docker backend when a daemon answers.")
    docker_url: str = Field("", description="Docker daemon URL; empty: the default socket.")
    docker_user: str = Field(
        "65534:65534", description="Run containers as this user; empty: the image's own user."
    )
    local_rlimit_memory: bool = Field(
        False, description="Without cgroup v2: cap a local run's address space at its memory."
    )
    ray_address: str = Field(
        "",
        description="A Ray cluster's dashboard (job API) URL, e.g. http://127.0.0.1:8265: set, "
        "this executor runs every run as a Ray Job there (backend ray, and only it) and offers "
        "the cluster's capacity.",
    )
    ray_python: str = Field("python", description="The Python on the Ray nodes (with boxops).")
    ray_gpu_resource: str = Field(
        "GPU", description="The Ray resource a run's gpu asks for: GPU, or a custom resource."
    )
    ray_poll_s: float = Field(5.0, gt=0, description="How often the cluster's capacity is read.")
    ray_artifact_token: str = Field(
        "",
        description="The token a Ray node fetches inputs and stores outputs with; empty: the "
        "executor's own api_token.",
    )
    work_root: Path | None = Field(
        None,
        description="Where runs' work dirs live, outside home; default: a private (0700) "
        "directory of this stack under the system's temp dir.",
    )
    local_sandbox: bool = Field(
        True,
        description="Run local runs in a bubblewrap sandbox that hides home; false runs them "
        "unsandboxed: a run can then read all the executor can, home's tokens included.",
    )
    local_sandbox_hide: list[Path] = Field(
        default_factory=lambda: [
            Path("/run/docker.sock"),
            Path("/var/run/docker.sock"),
            # The user's session sockets (D-Bus, ssh-agent, a rootless Docker's…): through
            # them a run could start a process outside its sandbox.
            Path(f"/run/user/{os.getuid()}"),
        ],
        description="Paths a sandboxed local run must not see, besides home, other runs and"
        " the executor's own $XDG_RUNTIME_DIR.",
    )

    @field_validator("executor_id")
    @classmethod
    def _subject_token(cls, value: str) -> str:
        # The id is a NATS subject token (run.dispatched.<id>): no dots, spaces or wildcards.
        token = re.sub(r"[^A-Za-z0-9_-]", "-", value).strip("-")
        if not token:
            raise ValueError(f"executor id {value!r} has no usable characters")
        return token

    @field_validator("ray_address")
    @classmethod
    def _ray_url(cls, value: str) -> str:
        if not value:
            return value
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(
                f"BOXOPS_RAY_ADDRESS {value!r} must be the Ray dashboard's http(s) URL, "
                "e.g. http://127.0.0.1:8265"
            )
        return value.rstrip("/")

    @model_validator(mode="after")
    def _work_root_outside_home(self) -> "ExecutorSettings":
        work_root, home = self.work_dirs(), self.home
        if work_root == home or home in work_root.parents or work_root in home.parents:
            raise ValueError(
                f"BOXOPS_WORK_ROOT must be outside BOXOPS_HOME ({home}) and not hold it: a "
                "run could read its tokens through its work dir's parents"
            )
        return self

    def work_dirs(self) -> Path:
        """The runs' work dirs: work_root, or a private dir of this home under the temp dir."""
        if self.work_root is not None:
            return self.work_root.expanduser().resolve()
        stack = hashlib.sha256(str(self.home).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()).resolve() / f"boxops-{os.getuid()}-{stack}"


def _memory_mb() -> int:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 4096
