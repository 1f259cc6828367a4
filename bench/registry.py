"""The registry's figures on the embedded stack (SQLite, local blob store).

- 10,000 external versions announced by other systems (bare JSON dataset.version.created
  events on NATS, 100 datasets of 100 versions): versions recorded per second, from the
  first publish to the registry's 10,000th own announcement;
- `boxops datasets push` of a directory of 10,000 small files, end to end (hashing,
  uploads, registration): files per second; then the same push again, which must find the
  version by its digest and send nothing (target: ≤ 20 % of the first push's time).

With the first push, the CPU time each process spent on it, user and system. A push
creates two files a blob in the store (the blob, its preview), so the figure moves with
what a file create costs: on ext4 without a journal, inodes freed in the last minutes are
skipped one by one when a new file is created, so just after something deleted many files
(an earlier run of this benchmark does) a create can cost 20 times its usual CPU time, and
the artifact service's system time shows it.
"""

import asyncio
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nats.aio.msg import Msg

from bench.embedded import connect, embedded, service_pids
from bench.stats import user_system_s

VERSIONS = 10_000
DATASETS = 100
FILES = 10_000


def boxops(home: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    env["BOXOPS_HOME"] = str(home)
    command = [sys.executable, "-m", "boxops.cli.main", *args]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout


async def main() -> None:
    with embedded() as (home, state, _), tempfile.TemporaryDirectory() as files:
        await _announcements(state.nats_url, home)
        _push(home, Path(files), await service_pids(home, state))


async def _announcements(nats_url: str, home: Path) -> None:
    # Published as another system would, with the ingress identity; read as the operator.
    publisher = await connect(home, nats_url, "ingress")
    client = await connect(home, nats_url)
    js = publisher.jetstream()
    recorded = asyncio.Event()
    count = 0

    async def on_version(msg: Msg) -> None:
        nonlocal count
        if "version" in json.loads(msg.data):  # the registry's own announcement
            count += 1
            if count >= VERSIONS:
                recorded.set()

    await client.subscribe("dataset.version.created", cb=on_version)
    began = time.perf_counter()
    for start in range(0, VERSIONS, 1000):
        await asyncio.gather(*(js.publish(*_announcement(i)) for i in range(start, start + 1000)))
    published = time.perf_counter() - began
    await asyncio.wait_for(recorded.wait(), 600)
    took = time.perf_counter() - began
    await client.close()
    await publisher.close()
    print(f"{'announcements published':<40} {VERSIONS / published:8.0f} events/s")
    print(
        f"{'external versions recorded from events':<40} {VERSIONS / took:8.0f} versions/s"
        f"  ({VERSIONS} in {took:.1f} s)"
    )


def _announcement(i: int) -> tuple[str, bytes]:
    dataset = f"bench-{i % DATASETS}"
    digest = "sha256:" + hashlib.sha256(str(i).encode()).hexdigest()
    body = {"dataset": dataset, "uri": f"s3://bench/{dataset}/{i}/", "digest": digest}
    return "dataset.version.created", json.dumps(body).encode()


def _push(home: Path, folder: Path, pids: dict[str, int]) -> None:
    for i in range(FILES):
        part = folder / f"part-{i // 100:03d}"
        part.mkdir(parents=True, exist_ok=True)
        (part / f"{i:05d}.json").write_text(json.dumps({"row": i, "value": i * 0.5}) * 4)
    timings, cpu = [], {}
    for _ in range(2):
        before = {name: user_system_s(pid) for name, pid in pids.items()}
        cli_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        answer = json.loads(boxops(home, "datasets", "push", "bench-files", str(folder), "--json"))
        timings.append(time.perf_counter() - began)
        assert answer["version"] == 1
        if not cpu:  # the first push's
            cli = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu["cli"] = (cli.ru_utime - cli_before.ru_utime, cli.ru_stime - cli_before.ru_stime)
            for name, pid in pids.items():
                user, system = user_system_s(pid)
                cpu[name] = (user - before[name][0], system - before[name][1])
    first, second = timings
    print(
        f"{'datasets push, 10,000 small files':<40} {FILES / first:8.0f} files/s  ({first:.1f} s)"
    )
    busy = [f"{name} {user:.1f}+{system:.1f}" for name, (user, system) in cpu.items()]
    print(f"  CPU of the first push, user+system s: {', '.join(busy)}")
    print(
        f"{'the same push again (nothing new)':<40} {second:8.2f} s"
        f"  ({100 * second / first:.0f} % of the first)"
    )
