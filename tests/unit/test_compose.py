"""docker-compose.yml cannot run here, so check it against the code it starts."""

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from boxops.bus_auth import write_all
from boxops.stack import nats_binary
from services.artifact.settings import ArtifactSettings
from services.executor.settings import ExecutorSettings
from services.gateway.settings import GatewaySettings
from services.scheduler.settings import SchedulerSettings
from shared import bus_permissions
from shared.service import health_subject
from shared.settings import BoxopsSettings

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
SETTINGS: dict[str, type[BaseSettings]] = {
    "registry": BoxopsSettings,
    "artifact": ArtifactSettings,
    "scheduler": SchedulerSettings,
    "trigger": BoxopsSettings,
    "executor": ExecutorSettings,
    "gateway": GatewaySettings,
}
PENDING: dict[str, set[str]] = {}  # variables whose settings have not landed yet
NATS_NODES = ("nats-1", "nats-2", "nats-3")


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return dict(compose["services"])


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def boxops_env(service: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, v in environment(service).items() if k.startswith("BOXOPS_")}


def interpolated(value: str) -> str:
    """What compose would pass: `${VAR:-default}` becomes its default, anything else a word."""
    return re.sub(r"\$\{\w+(?::?-([^}]*))?[^}]*\}", lambda m: m.group(1) or "secret", value)


def test_every_service_runs_its_own_module(services: dict[str, dict[str, Any]]) -> None:
    for name in SETTINGS:
        command = services[name]["command"]
        command = " ".join(command) if isinstance(command, list) else command
        assert command == f"python -m services.{name}"


def test_every_boxops_variable_is_a_settings_field(services: dict[str, dict[str, Any]]) -> None:
    for name, settings in SETTINGS.items():
        fields = {f"BOXOPS_{field.upper()}" for field in settings.model_fields}
        unknown = set(boxops_env(services[name])) - fields - PENDING.get(name, set())
        assert not unknown, f"{name} sets variables its settings ignore: {sorted(unknown)}"


def test_every_service_environment_validates(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, settings in SETTINGS.items():
        with monkeypatch.context() as env:
            for key in [k for k in os.environ if k.startswith("BOXOPS_")]:
                env.delenv(key)
            for key, value in boxops_env(services[name]).items():
                env.setenv(key, interpolated(value))
            settings()


def test_depends_on_names_existing_services(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        missing = set(service.get("depends_on") or ()) - set(services)
        assert not missing, f"{name} depends on unknown services {sorted(missing)}"


def test_each_service_has_its_own_database_schema(services: dict[str, dict[str, Any]]) -> None:
    schemas = [
        env["BOXOPS_DB_SCHEMA"]
        for env in map(boxops_env, services.values())
        if "BOXOPS_DB_SCHEMA" in env
    ]
    assert len(schemas) == len(set(schemas)), schemas
    for name, service in services.items():
        env = boxops_env(service)
        assert ("BOXOPS_DB_URL" in env) == ("BOXOPS_DB_SCHEMA" in env), name


def test_health_probes_ask_the_service_they_run_in(services: dict[str, dict[str, Any]]) -> None:
    for name in SETTINGS:
        subject = environment(services[name]).get("HEALTH_SUBJECT")
        assert subject in (None, health_subject(name)), name


def test_the_bus_has_no_default_password(services: dict[str, dict[str, Any]]) -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    assert "NATS_PASSWORD" not in text
    for node in NATS_NODES:
        assert "--pass" not in services[node]["command"]
        assert "-c" in services[node]["command"]


def test_each_service_connects_as_its_own_bus_identity(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in SETTINGS:
        path = Path(boxops_env(services[name])["BOXOPS_NATS_CREDENTIALS"])
        assert path.name == f"{name}.env", name
        mounts = [m.split(":") for m in services[name]["volumes"]]
        assert [f"bus-{name}", str(path.parent), "ro"] in mounts, name


def test_compose_nats_config_grants_each_service_its_own_subjects(
    services: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    """bus-init's command, run here, writes the config NATS reads: the same permissions."""
    init = services["bus-init"]
    module, home, url, _ = init["command"][2:]
    assert module == "boxops.bus_auth"
    bus_mount = dict(m.split(":", 1)[::-1] for m in init["volumes"])
    assert bus_mount[f"{home}/bus"] == "bus"
    config_path = option(services["nats-1"], "-c")
    for node in NATS_NODES:
        nats_mounts = dict(m.split(":")[:2][::-1] for m in services[node]["volumes"])
        assert option(services[node], "-c") == config_path, node
        assert nats_mounts[str(Path(config_path).parent)] == "bus", node

    write_all(tmp_path, url)
    config = json.loads((tmp_path / "bus" / Path(config_path).name).read_text())
    users = {user["user"]: user["permissions"] for user in config["authorization"]["users"]}
    for name in SETTINGS:
        expected = bus_permissions.service(name)
        assert users[name]["publish"]["allow"] == list(expected.publish), name
        assert users[name]["subscribe"]["allow"] == list(expected.subscribe), name
        assert not [a for a in users[name]["publish"]["allow"] if "STREAM.UPDATE" in a], name
    assert "run.completed" not in users["ingress"]["publish"]["allow"]
    assert users["ingress"]["publish"]["allow"] == list(bus_permissions.PUBLIC_SUBJECTS)


def test_the_operator_declares_the_streams_before_any_service_starts(
    services: dict[str, dict[str, Any]],
) -> None:
    """A service's identity may not create or update streams: bus-streams does, as admin."""
    declare = services["bus-streams"]
    assert declare["command"] == ["python", "-m", "boxops.bus_streams"]
    assert Path(environment(declare)["BOXOPS_NATS_CREDENTIALS"]).name == "admin.env"
    for node in NATS_NODES:
        assert declare["depends_on"][node]["condition"] == "service_healthy", node
    for name in SETTINGS:
        waits = services[name]["depends_on"]["bus-streams"]["condition"]
        assert waits == "service_completed_successfully", name


def bus_volumes(service: dict[str, Any]) -> dict[str, str]:
    """The service's volumes that hold bus credentials: {volume: where it is mounted}."""
    mounts = [m.split(":") for m in service.get("volumes") or ()]
    return {m[0]: m[1] for m in mounts if m[0] == "bus" or m[0].startswith("bus-")}


def test_no_service_mounts_another_ones_credentials_or_the_admins(
    services: dict[str, dict[str, Any]],
) -> None:
    """Every service runs as uid 10001: file modes cannot keep one from another's file, so
    each mounts a volume holding only its own credentials (a run on compose's executor can
    read what the executor can)."""
    for name in SETTINGS:
        assert bus_volumes(services[name]) == {f"bus-{name}": "/home/boxops/bus"}, name
    admin_readers = [n for n, s in services.items() if "bus-admin" in bus_volumes(s)]
    assert sorted(admin_readers) == ["bus-init", "bus-streams"]
    assert bus_volumes(services["bus-streams"]) == {"bus-admin": "/home/boxops/bus"}
    whole = [n for n, s in services.items() if "bus" in bus_volumes(s)]
    assert sorted(whole) == ["bus-init", *NATS_NODES]


def test_bus_init_gives_each_volume_only_its_owners_credentials(
    services: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    """bus-init's command, run here, with its volumes as folders: each holds one file."""
    init = services["bus-init"]
    home, url, out = init["command"][3:]
    mounted = bus_volumes(init)
    dockerfile = COMPOSE.with_name("Dockerfile").read_text(encoding="utf-8")
    for name in (*SETTINGS, "admin"):
        assert mounted[f"bus-{name}"] == f"{out}/{name}", name
        # A new named volume takes the owner of its mount point in the image: uid 10001.
        assert f"{out}/$name" in dockerfile and f" {name}" in dockerfile, name
    write_all(tmp_path, url, tmp_path / "out")
    for name in (*SETTINGS, "admin"):
        assert [p.name for p in (tmp_path / "out" / name).iterdir()] == [f"{name}.env"]
        assert (tmp_path / "out" / name / f"{name}.env").read_text() == (
            tmp_path / "bus" / f"{name}.env"
        ).read_text()
    assert home == "/home/boxops"


def option(service: dict[str, Any], flag: str) -> str:
    """The value that follows `flag` in the service's command."""
    command = [str(part) for part in service["command"]]
    return command[command.index(flag) + 1]


def test_the_bus_is_a_three_node_cluster_each_routed_to_the_others(
    services: dict[str, dict[str, Any]],
) -> None:
    names = [option(services[node], "--name") for node in NATS_NODES]
    assert names == list(NATS_NODES)  # JetStream in a cluster needs a server name each
    for node in NATS_NODES:
        assert option(services[node], "--cluster_name") == "boxops", node
        assert option(services[node], "--cluster") == "nats://0.0.0.0:6222", node
        routes = option(services[node], "--routes").split(",")
        assert sorted(routes) == [f"nats://{o}:6222" for o in NATS_NODES if o != node], node
        assert "-js" in services[node]["command"], node
    stores = {next(m for m in services[n]["volumes"] if m.endswith(":/data")) for n in NATS_NODES}
    assert len(stores) == 3  # a store of its own each: a copy of every stream


def test_every_service_is_given_every_node_and_streams_are_kept_three_ways(
    services: dict[str, dict[str, Any]],
) -> None:
    seeds = ",".join(f"nats://{node}:4222" for node in NATS_NODES)
    for name in (*SETTINGS, "bus-streams"):
        assert boxops_env(services[name])["BOXOPS_NATS_URL"] == seeds, name
    assert boxops_env(services["bus-streams"])["BOXOPS_NATS_REPLICAS"] == "3"
    assert services["bus-init"]["command"][4] == seeds


def test_every_node_accepts_the_config_bus_init_writes(
    services: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    """The wheel's nats-server checks (-t) each node's command line with bus-init's config."""
    write_all(tmp_path, services["bus-init"]["command"][4])
    config = tmp_path / "bus" / Path(option(services["nats-1"], "-c")).name
    for node in NATS_NODES:
        command = [str(part) for part in services[node]["command"]]
        command[command.index("-c") + 1] = str(config)
        command[command.index("-sd") + 1] = str(tmp_path / node)
        checked = subprocess.run(
            [nats_binary(), "-t", *command], capture_output=True, text=True, timeout=60
        )
        assert checked.returncode == 0, (node, checked.stdout, checked.stderr)
        assert "is valid" in checked.stdout + checked.stderr, node


def test_the_cluster_profile_puts_an_executor_in_front_of_a_ray_head_and_worker(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster = {"ray-head", "ray-worker", "executor-ray"}
    assert {n for n, s in services.items() if "cluster" in (s.get("profiles") or ())} == cluster
    head = services["ray-head"]["command"]
    for name in ("ray-head", "executor-ray"):  # one image, built alike
        assert services[name]["build"]["args"] == {"EXTRAS": "ray"}, name
    assert {services[name]["image"] for name in cluster} == {"boxops-ray:${BOXOPS_TAG:-latest}"}
    port = next(arg.split("=")[1] for arg in head if arg.startswith("--port="))
    assert f"--address=ray-head:{port}" in services["ray-worker"]["command"]
    dashboard = next(arg.split("=")[1] for arg in head if arg.startswith("--dashboard-port="))
    env = boxops_env(services["executor-ray"])
    assert env["BOXOPS_RAY_ADDRESS"] == f"http://ray-head:{dashboard}"
    with monkeypatch.context() as patched:
        for key in [k for k in os.environ if k.startswith("BOXOPS_")]:
            patched.delenv(key)
        for key, value in env.items():
            patched.setenv(key, interpolated(value))
        assert ExecutorSettings().ray_address == f"http://ray-head:{dashboard}"
    dockerfile = COMPOSE.with_name("Dockerfile").read_text(encoding="utf-8")
    assert 'pip install ".${EXTRAS:+[$EXTRAS]}"' in dockerfile
