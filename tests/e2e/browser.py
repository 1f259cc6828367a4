"""The web UI in a real browser (Debian's chromium, driven by Playwright) on a live stack
seeded by `boxops quickstart`: what the pages' tests share. Screenshots go to
$BOXOPS_SCREENSHOTS (or the test's tmp dir)."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from boxops.client import Client
from boxops.home import api_token, read_state

if TYPE_CHECKING:
    from playwright.sync_api import Page, Request

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WAIT_MS = 20_000


@dataclass
class Stack:
    url: str
    token: str
    client: Client
    env: dict[str, str]
    work_root: Path  # the runs' work dirs: a sandboxed run sees no other file a test makes

    def gate(self, run_id: str) -> Path:
        """The file `until [ -e gate ]` waits for in the run's work dir."""
        return self.work_root / run_id / "attempt-1" / "work" / "gate"


@dataclass
class Watched:
    """What went wrong in the page: console errors, failed requests, outside requests."""

    url: str
    problems: list[str] = field(default_factory=list)

    def attach(self, page: "Page") -> None:
        page.on("console", lambda m: m.type == "error" and self.problems.append(m.text))
        page.on("pageerror", lambda e: self.problems.append(str(e)))
        page.on("requestfailed", self._failed)
        page.on("request", self._outside)
        page.on(
            "response", lambda r: r.status >= 400 and self.problems.append(f"{r.status} {r.url}")
        )

    def _failed(self, request: "Request") -> None:
        # A live stream, or a refresh in flight, cut by leaving the page is not a failure.
        if "/stream" not in request.url and request.failure != "net::ERR_ABORTED":
            self.problems.append(f"failed: {request.url} {request.failure}")

    def _outside(self, request: "Request") -> None:
        if not request.url.startswith(self.url):
            self.problems.append(f"outside request: {request.url}")


def boxops(
    env: dict[str, str], *args: str, timeout: float = 300
) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(
        [sys.executable, "-m", "boxops.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@contextmanager
def quickstarted_stack(base: Path) -> Iterator[Stack]:
    """`boxops quickstart` on a fresh home under `base` (its stack keeps running), then down."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    home = base / "home"
    env["BOXOPS_HOME"] = str(home)
    work_root = base / "work"
    env["BOXOPS_WORK_ROOT"] = str(work_root)
    env["BOXOPS_EXTERNAL_FILE_ROOTS"] = str(base)
    try:
        started = boxops(env, "quickstart")
        assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
        state = read_state(home)
        assert state is not None
        token = api_token(home)
        with Client(state.gateway_url, token) as client:
            yield Stack(state.gateway_url, token, client, env, work_root)
    finally:
        boxops(env, "down", timeout=120)


@contextmanager
def signed_in_page(stack: Stack, shots: Path, name: str) -> Iterator[tuple["Page", Watched]]:
    """A chromium page logged in with the stack's admin token; a screenshot when done."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(base_url=stack.url)
        page.set_default_timeout(WAIT_MS)
        watched = Watched(stack.url)
        watched.attach(page)
        page.goto("/login")
        page.fill("input[name=token]", stack.token)
        page.click("form[action='/login'] button")
        page.wait_for_url("**/runs")
        yield page, watched
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=shots / f"{name}.png", full_page=True)
        browser.close()


def running(stack: Stack, script: str) -> str:
    run_id = stack.client.submit(command=["sh", "-c", script]).id
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run = stack.client.run(run_id)
        if run is not None and run.state == "running":
            return run_id
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not start")
