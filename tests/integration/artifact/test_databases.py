"""The artifact service's tables on SQLite and PostgreSQL (its own schema), and the CLI
against a running service."""

import asyncio
import hashlib
import os
import subprocess
import sys
from pathlib import Path

from tests.integration.artifact.support import artifact_settings, running, write_random


async def test_blobs_uploads_and_names_on_either_database(
    db: tuple[str, str], tmp_path: Path, nats_url: str
) -> None:
    url, schema = db
    settings = artifact_settings("file", tmp_path, nats_url, db_url=url, db_schema=schema)
    async with running(settings, "file") as stack:
        source = write_random(tmp_path / "a.bin", 5000)
        blob = await stack.client.put_file(source, media_type="application/octet-stream")
        assert (await stack.client.exists([blob.sha256, "0" * 64])).missing == ["0" * 64]
        await stack.client.bind("runs/r9/metrics.jsonl", blob.sha256)
        assert (await stack.client.name("runs/r9/metrics.jsonl")).size == 5000
        assert [b.sha256 for b in await stack.client.listing()] == [blob.sha256]


async def test_the_cli_puts_gets_and_shows(tmp_path: Path, nats_url: str) -> None:
    async with running(artifact_settings("file", tmp_path, nats_url), "file") as stack:
        source = tmp_path / "table.csv"
        source.write_text("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(50)))
        env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
        env |= {"BOXOPS_GATEWAY_URL": stack.gateway_url, "BOXOPS_HOME": str(tmp_path / "cli")}

        def boxops(*args: str) -> subprocess.CompletedProcess[str]:
            command = [sys.executable, "-m", "boxops.cli.main", "artifacts", *args]
            return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

        put = await _in_thread(boxops, "put", str(source))
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        assert (put.returncode, put.stdout.strip()) == (0, digest), put.stderr
        got = await _in_thread(boxops, "get", digest, "-o", str(tmp_path / "copy.csv"))
        assert got.returncode == 0 and (tmp_path / "copy.csv").read_text() == source.read_text()
        shown = await _in_thread(boxops, "show", digest)
        assert shown.returncode == 0 and "50 rows" in shown.stdout, shown.stdout + shown.stderr
        missing = await _in_thread(boxops, "show", "f" * 64)
        assert missing.returncode == 2 and "no blob" in missing.stderr


async def _in_thread(call, *args):  # type: ignore[no-untyped-def]
    return await asyncio.to_thread(call, *args)
