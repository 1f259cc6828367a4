"""What sampling a live run costs the executor: the CPU time of one reading of a run's
process tree (psutil over the leader and its descendants, as the executor does it), and
what that is of one core at the default interval, per live run.

The reading walks the host's process table to find the descendants: its cost grows with
the processes on the host, so their count is printed beside it.
"""

import os
import signal
import subprocess
import time

import psutil

from bench.stats import summary
from services.executor.sampler import TreeProbe
from services.executor.settings import ExecutorSettings
from services.executor.usage import Usage

READS = 300
TREE = "sleep 600 & sleep 600 & sleep 600 & wait"  # a leader and three children, as a run


def sampler_overhead(reads: int = READS) -> float:
    """Print the figures; the share of a core one live run's sampling takes, in percent."""
    tree = subprocess.Popen(["sh", "-c", TREE], start_new_session=True)
    try:
        probe, usage = TreeProbe(tree.pid), Usage.since(time.monotonic())
        while len(psutil.Process(tree.pid).children()) < 3:
            time.sleep(0.01)  # its children are started
        costs = []
        for _ in range(reads):
            cpu = time.process_time()
            reading = probe.now()
            assert reading is not None
            usage.add(reading)
            costs.append(time.process_time() - cpu)
    finally:
        os.killpg(tree.pid, signal.SIGKILL)
        tree.wait()
    per_read = sum(costs) / len(costs)
    interval = ExecutorSettings().executor_sample_s
    share = 100 * per_read / interval
    print(summary(f"sampler: CPU per reading ({len(psutil.pids())} host processes)", costs))
    print(f"sampler: {share:.3f} % of a core per live run, sampled every {interval:g} s")
    return share
