import asyncio
import contextlib
import os
import sys

from services.executor.app import build_app
from services.executor.settings import ExecutorSettings
from shared.logs import configure_logging
from shared.service import serve


def main() -> None:
    settings = ExecutorSettings()
    configure_logging("executor", settings)
    _watch_children_by_pidfd()
    asyncio.run(serve(build_app(settings)))


def _watch_children_by_pidfd() -> None:
    """Python 3.11 waits for each child process on a thread of its own, started with the
    run (~2 ms of a run's start); a pidfd in the event loop needs none. 3.12 does this
    by itself."""
    if sys.version_info >= (3, 12) or not hasattr(os, "pidfd_open"):
        return
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:
        return  # a kernel before 5.3: the threads it is
    asyncio.set_child_watcher(asyncio.PidfdChildWatcher())


def _preload_ray() -> None:
    """Ray's job client takes seconds to import: an executor waiting on standby to replace
    one (as a supervisor's does) has it imported before it starts, not after."""
    if os.environ.get("BOXOPS_RAY_ADDRESS"):
        with contextlib.suppress(ImportError):  # the executor says so once it starts
            import ray.job_submission  # noqa: F401


_preload_ray()

if __name__ == "__main__":
    main()
