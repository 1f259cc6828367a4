"""The web UI in a real browser (Debian's chromium, driven by Playwright) on a live
`boxops up --detach` stack: what a person sees, with no console error, no failed request
and nothing loaded from the internet. Screenshots go to $BOXOPS_SCREENSHOTS (or the test's
tmp dir)."""

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from boxops.client import Client
from boxops.home import api_token
from tests.conftest import free_port
from tests.e2e.test_embedded_stack import boxops

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WAIT_MS = 20_000
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")


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

    def attach(self, page: "playwright.Page") -> None:
        page.on("console", lambda m: m.type == "error" and self.problems.append(m.text))
        page.on("pageerror", lambda e: self.problems.append(str(e)))
        page.on("requestfailed", self._failed)
        page.on("request", self._outside)
        page.on(
            "response", lambda r: r.status >= 400 and self.problems.append(f"{r.status} {r.url}")
        )

    def _failed(self, request: "playwright.Request") -> None:
        # A live stream cut by leaving the page is not a failure of the page.
        if "/stream" not in request.url:
            self.problems.append(f"failed: {request.url} {request.failure}")

    def _outside(self, request: "playwright.Request") -> None:
        if not request.url.startswith(self.url):
            self.problems.append(f"outside request: {request.url}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    home = tmp_path_factory.mktemp("ui") / "home"
    env["BOXOPS_HOME"] = str(home)
    work_root = tmp_path_factory.mktemp("ui-work")
    env["BOXOPS_WORK_ROOT"] = str(work_root)
    port = free_port()
    started = boxops(env, "up", "--detach", "--port", str(port))
    assert started.returncode == 0, started.stderr + started.stdout
    url = f"http://127.0.0.1:{port}"
    token = api_token(home)
    try:
        with Client(url, token) as client:
            yield Stack(url, token, client, env, work_root)
    finally:
        boxops(env, "down")


@pytest.fixture
def page(
    stack: Stack, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple["playwright.Page", Watched]]:
    shots = Path(os.environ.get("BOXOPS_SCREENSHOTS", tmp_path))
    with playwright.sync_playwright() as driver:
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
        page.screenshot(path=shots / f"{request.node.name}.png", full_page=True)
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


def test_the_runs_page_loads_clean(stack: Stack, page: tuple["playwright.Page", Watched]) -> None:
    tab, watched = page
    done = stack.client.submit(command=["true"]).id
    stack.client.wait(done, timeout=30)
    tab.goto("/runs")
    tab.wait_for_selector(f"a[href='/runs/{done}']")
    assert tab.locator("tbody tr").count() >= 1
    assert watched.problems == []


def test_a_printed_line_appears_within_a_second(
    stack: Stack, page: tuple["playwright.Page", Watched]
) -> None:
    tab, watched = page
    script = "echo first; until [ -e gate ]; do sleep 0.01; done; echo second >&2; sleep 60"
    run_id = running(stack, script)
    gate = stack.gate(run_id)
    tab.goto(f"/runs/{run_id}")
    tab.wait_for_selector("#logs .stdout:has-text('first')")

    gate.touch()
    printed = time.monotonic()
    tab.wait_for_selector("#logs .stderr:has-text('second')", timeout=5_000)
    shown_s = time.monotonic() - printed

    assert shown_s < 1.0, shown_s
    stack.client.abort(run_id)
    assert watched.problems == []


def test_a_state_change_appears_without_a_reload(
    stack: Stack, page: tuple["playwright.Page", Watched]
) -> None:
    tab, watched = page
    run_id = running(stack, "until [ -e gate ]; do sleep 0.05; done")
    gate = stack.gate(run_id)
    tab.goto("/runs")
    row = tab.locator(f"tr[data-run='{run_id}']")
    row.locator(".state-running").wait_for()
    tab.evaluate("window.notReloaded = true")

    gate.touch()

    row.locator(".state-completed").wait_for()
    assert tab.evaluate("window.notReloaded") is True
    assert watched.problems == []


def test_abort_from_the_page_stops_the_run(
    stack: Stack, page: tuple["playwright.Page", Watched]
) -> None:
    tab, watched = page
    run_id = running(stack, "sleep 60")
    tab.goto(f"/runs/{run_id}")
    tab.click("text=Abort")

    assert stack.client.wait(run_id, timeout=30).state == "aborted"
    tab.locator("#run-state .state-aborted").wait_for()
    assert watched.problems == []


def test_an_unknown_run_is_a_404_page(page: tuple["playwright.Page", Watched]) -> None:
    tab, _ = page
    answer = tab.goto("/runs/nope")
    assert answer is not None and answer.status == 404
    assert "no run with id 'nope'" in tab.inner_text("main")


def test_boxops_ui_prints_the_url_and_needs_a_stack(stack: Stack, tmp_path: Path) -> None:
    shown = boxops(stack.env | {"DISPLAY": ""}, "ui")
    assert (shown.returncode, shown.stdout) == (0, f"{stack.url}/runs\n"), shown.stderr

    nothing = boxops(stack.env | {"BOXOPS_HOME": str(tmp_path / "none")}, "ui")

    assert nothing.returncode == 2 and nothing.stdout == ""
    assert nothing.stderr.strip().startswith("boxops is not running under")
