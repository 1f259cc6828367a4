"""The boxops launcher: a run's Ray Job entrypoint, on the node where Ray placed it.

It keeps the run contract there as the local backend does on the executor's machine: it
lays the attempt out in a fresh dir of the node's own (nothing is shared with the
executor's work dir), materialises the inputs (managed versions fetched from the artifact
store by digest; `file://` paths as found on the node; other URIs handed over), runs the
command with the contract's variables, passes its output on (stderr lines marked, as Ray
merges the streams), turns the SDK's params and tags into `::param`/`::tag` lines,
uploads the outputs when the command exits 0, and ends with one `::boxops-ended` line (see
ray_plan.py). A SIGTERM (Ray's stop_job) is passed on to the command's process group.
"""

import asyncio
import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO

from services.executor import contract, outputs, sdk_buffer, workdirs
from services.executor.blobs import GatewayBlobs
from services.executor.contract import ContractError, Layout
from services.executor.inputs import BlobStore, InputError, Inputs
from services.executor.outputs import OutputRefused
from services.executor.ray_plan import (
    BEGIN,
    RUN_VARIABLE,
    STDERR,
    Ended,
    Payload,
    UploadedOutput,
    dumps_ended,
)

PRINTING = threading.Lock()  # one line at a time on the job's log, from either stream


def main() -> None:
    """Run the payload's attempt; the job exits with the run's exit code."""
    raw = os.environ.get(RUN_VARIABLE)
    if not raw:
        sys.exit(f"boxops: {RUN_VARIABLE} is not set: this module runs as a boxops Ray Job")
    payload = Payload.model_validate_json(raw)
    _say(BEGIN)
    root = Path(tempfile.mkdtemp(prefix="boxops-run-"))
    try:
        ended = attempt(payload, Layout(root))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if ended.exit_code is None:
        _say(f"boxops: {ended.reason}")
    _say(dumps_ended(ended))
    code = ended.exit_code
    # A command killed by a signal exits as a shell says it: 128 + the signal.
    sys.exit(1 if code is None else (code if code >= 0 else 128 - code) % 256)


def attempt(payload: Payload, host: Layout) -> Ended:
    run = payload.run
    workdirs.lay_out(host, run)
    blobs = _blobs(payload)
    try:
        uris = asyncio.run(_inputs(payload, host, blobs))
        command = contract.render(run, host)
    except (InputError, ContractError) as err:
        return Ended(reason=str(err))
    env = contract.run_env(run, host, api_url=payload.api_url, token=payload.run_token, uris=uris)
    try:
        code = run_command(command, _base_env() | env, Path(host.work))
    except OSError as err:
        return Ended(reason=f"cannot start {command[0]!r}: {err.strerror}")
    _replay_records(Path(host.sdk))
    return asyncio.run(_upload(payload, host, blobs, code))


def _blobs(payload: Payload) -> BlobStore | None:
    if not payload.api_url:
        return None
    return GatewayBlobs(payload.api_url, payload.artifact_token)


async def _inputs(payload: Payload, host: Layout, blobs: BlobStore | None) -> dict[str, str]:
    inputs = Inputs(Path(host.root) / "cache", blobs)
    try:
        found = await inputs.materialise(payload.run.inputs, Path(host.inputs), local=True)
    finally:
        if blobs is not None:
            await blobs.close()
    return found.uris


async def _upload(payload: Payload, host: Layout, blobs: BlobStore | None, code: int) -> Ended:
    """What the run left, stored: its SDK's artifacts always, its outputs if it exited 0."""
    ended = Ended(exit_code=code, reason=f"exit code {code}")
    if blobs is None:
        return ended
    blobs = _blobs(payload)  # a new client: the inputs' one was closed with its loop
    assert blobs is not None  # noqa: S101 (api_url is set)
    try:
        ended.artifacts = await sdk_buffer.upload_artifacts(Path(host.sdk), blobs)
        if code == 0:
            await _outputs(payload, host, blobs, ended)
    finally:
        await blobs.close()
    return ended


async def _outputs(payload: Payload, host: Layout, blobs: BlobStore, ended: Ended) -> None:
    for name, declared in payload.run.outputs.items():
        try:
            collected = await asyncio.to_thread(outputs.collect, Path(host.outputs), name)
        except OutputRefused as err:
            ended.refused, ended.outputs = f"refused: {err}", {}
            _say(STDERR + f"boxops: refused: {err}")
            return
        files = await blobs.put_many(collected.files) if collected.files else []
        metrics = outputs.metrics_of(collected) if declared.type == "metrics" else {}
        ended.outputs[name] = UploadedOutput(files=files, metrics=metrics)


def run_command(command: list[str], env: dict[str, str], cwd: Path) -> int:
    """Run it in its own process group, its output passed on line by line; a SIGTERM to
    the launcher goes to the whole group, so that the run may end gracefully."""
    child = subprocess.Popen(  # noqa: S603 (the run's own command)
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )

    def stop(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):  # it has ended already
            os.killpg(child.pid, signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    assert child.stdout and child.stderr  # noqa: S101
    pumps = [
        threading.Thread(target=_pump, args=(child.stdout, "")),
        threading.Thread(target=_pump, args=(child.stderr, STDERR)),
    ]
    for pump in pumps:
        pump.start()
    code = child.wait()
    for pump in pumps:
        pump.join()
    return code


def _pump(stream: IO[bytes], prefix: str) -> None:
    for raw in stream:
        _say(prefix + raw.decode("utf-8", errors="replace").rstrip("\r\n"))


def _say(line: str) -> None:
    with PRINTING:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _replay_records(sdk: Path) -> None:
    """The SDK's params and tags (written to its buffer, not sent) and the metric points it
    could not send, as marker lines."""
    for record in sdk_buffer.records(sdk / "records.jsonl"):
        kind, name, value = record.get("kind"), record.get("name"), record.get("value")
        if kind in ("param", "tag") and isinstance(name, str) and name and value is not None:
            _say(f"::{kind} name={shlex.quote(name)} value={shlex.quote(str(value))}")
    for point in sdk_buffer.records(sdk / "metrics.jsonl"):  # points it could not send
        name, value, step = point.get("name"), point.get("value"), point.get("step")
        if isinstance(name, str) and isinstance(value, (int, float)):
            at_step = f" step={step}" if isinstance(step, int) else ""
            _say(f"::metric name={shlex.quote(name)} value={value}{at_step}")


def _base_env() -> dict[str, str]:
    """The node's environment without boxops' own variables (the launcher's payload)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}


if __name__ == "__main__":
    main()
