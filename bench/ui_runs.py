"""The runs page at 100,000 runs, on SQLite and on PostgreSQL.

The embedded stack (`boxops up --detach`), with 100,000 ended runs written straight into
the scheduler's tables (with their start, end, duration, a dataset input and an accuracy
each), then the server time of `GET /runs` — gateway, the scheduler's answer and the
rendering — as a signed-in browser asks it on a kept-alive connection, 50 requests a view:
no filter, a state filter, free text (one that matches often and one that matches nothing,
which reads every run), a metric sort with its column, and the 20th page of that sort.
Target: p50 ≤ 150 ms.
"""

import asyncio
import html
import random
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx
import sqlalchemy as sa

from bench.embedded import embedded
from bench.stats import summary
from bench.triggers import PG
from boxops.home import api_token
from services.scheduler.tables import LastMetricRow, RunInputRow, RunRow, RunTextRow
from services.scheduler.texts import run_text
from shared.db import create_engine

RUNS = 100_000
REQUESTS = 50
CHUNK = 5_000
COMPONENTS = [
    f"{word}-{n}@1" for word in ("prepare", "train", "evaluate", "score") for n in range(5)
]
VIEWS = {
    "no filter": "/runs",
    "state=failed": "/runs?state=failed",
    "q=train (matches often)": "/runs?q=train",
    "q=nothing-matches (reads all)": "/runs?q=nothing-matches",
    "sort=metric.accuracy:desc": "/runs?sort=metric.accuracy:desc&columns=metric.accuracy",
}


async def main() -> None:
    with embedded() as (home, state, _):
        await _fill(f"sqlite+aiosqlite:///{home / 'db' / 'scheduler.db'}", "main")
        await _measure("sqlite", state.gateway_url, api_token(home))
    database = f"boxops_bench_ui_{uuid.uuid4().hex[:8]}"  # its own: others bench at once
    await _database(f"CREATE DATABASE {database}")
    try:
        with embedded(f"{PG}/{database}") as (home, state, _):
            url = f"{PG}/{database}".replace("postgresql://", "postgresql+asyncpg://")
            await _fill(url, "scheduler")
            await _measure("postgres", state.gateway_url, api_token(home))
    finally:
        await _database(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


async def _database(statement: str) -> None:
    connection = await asyncpg.connect(f"{PG}/postgres")
    await connection.execute(statement)
    await connection.close()


async def _fill(url: str, schema: str) -> None:
    """RUNS ended runs, their inputs and last accuracy, in chunks of one transaction each."""
    engine = create_engine(url, schema)
    began = time.perf_counter()
    start = datetime.now(UTC) - timedelta(days=100)
    rng = random.Random(7)
    try:
        for first in range(0, RUNS, CHUNK):
            runs = [_run(rng, start, n) for n in range(first, first + CHUNK)]
            async with engine.begin() as connection:
                await connection.execute(sa.insert(RunRow), runs)
                await connection.execute(sa.insert(RunInputRow), [_input(rng, r) for r in runs])
                await connection.execute(sa.insert(RunTextRow), [_text(r) for r in runs])
                await connection.execute(
                    sa.insert(LastMetricRow), [_accuracy(rng, r) for r in runs]
                )
        if "postgresql" in url:  # the planner's statistics, as autovacuum would gather them
            async with engine.begin() as connection:
                await connection.execute(sa.text("ANALYZE"))
    finally:
        await engine.dispose()
    print(f"{'wrote ' + str(RUNS) + ' runs':<40} {time.perf_counter() - began:8.1f} s")


def _run(rng: random.Random, start: datetime, n: int) -> dict[str, Any]:
    created = start + timedelta(seconds=n * 86.4)
    running = created + timedelta(seconds=rng.uniform(0.1, 5))
    duration = rng.uniform(1, 600)
    state = rng.choices(["completed", "failed", "aborted"], [85, 10, 5])[0]
    component = rng.choice(COMPONENTS)
    return {
        "id": uuid.uuid4().hex,
        "kind": "component",
        "state": state,
        "reason": "exit code 0" if state == "completed" else "exit code 1",
        "command": ["python", f"{component.split('-')[0]}.py", "--seed", str(n)],
        "env": {},
        "resources": {},
        "cause": {"kind": "manual"},
        "params": {"lr": rng.choice([0.1, 0.01, 0.001])},
        "reported_params": {},
        "inputs": {},
        "declared_outputs": {},
        "outputs": {},
        "spec": {},
        "component": component,
        "pipeline": f"pipe-{n % 7}@1",
        "selector": {},
        "executor_id": "vm-1",
        "started_at": running,
        "exit_code": 0 if state == "completed" else 1,
        "provenance": {},
        "metrics": {},
        "tags": {},
        "artifacts": [],
        "created_at": created,
        "updated_at": running + timedelta(seconds=duration),
        "running_at": running,
        "ended_at": running + timedelta(seconds=duration),
        "duration_s": duration,
    }


def _text(run: dict[str, Any]) -> dict[str, Any]:
    return {"run_id": run["id"], "text": run_text(SimpleNamespace(**run))}


def _input(rng: random.Random, run: dict[str, Any]) -> dict[str, Any]:
    version = rng.randint(1, 50)
    return {
        "run_id": run["id"],
        "input": "data",
        "type": "dataset",
        "name": "iris",
        "version": version,
    }


def _accuracy(rng: random.Random, run: dict[str, Any]) -> dict[str, Any]:
    return {
        "run_id": run["id"],
        "name": "accuracy",
        "value": round(rng.random(), 4),
        "step": 10,
        "at": run["ended_at"],
    }


async def _measure(label: str, gateway_url: str, token: str) -> None:
    async with httpx.AsyncClient(base_url=gateway_url, timeout=60) as browser:
        signed_in = await browser.post("/login", data={"token": token, "next": "/runs"})
        assert signed_in.status_code == 303, signed_in.text
        deep = await _twentieth_page(browser, VIEWS["sort=metric.accuracy:desc"])
        for name, path in [*VIEWS.items(), ("sort=metric.accuracy, 20th page", deep)]:
            await _get(browser, path)  # warm: the first request of a view pays for imports
            took = [await _get(browser, path) for _ in range(REQUESTS)]
            print(summary(f"runs page ({label}) {name}", took))


async def _get(browser: httpx.AsyncClient, path: str) -> float:
    began = time.perf_counter()
    answer = await browser.get(path)
    took = time.perf_counter() - began
    assert answer.status_code == 200 and 'class="problem"' not in answer.text, answer.text[:500]
    shown = answer.text.count("<tr data-run=")
    assert shown == (0 if "nothing-matches" in path else 50), path
    return took


async def _twentieth_page(browser: httpx.AsyncClient, path: str) -> str:
    for _ in range(19):
        found = re.search(r'<a href="([^"]+)" rel="next">', (await browser.get(path)).text)
        assert found, path
        path = html.unescape(found.group(1))
    return path


if __name__ == "__main__":
    asyncio.run(main())
