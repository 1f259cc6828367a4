"""`python -m bench [NAME …]`: run the benchmarks (all by default) and print their figures."""

import argparse
import asyncio

from bench import (
    artifacts,
    cli,
    cluster_runs,
    executor,
    gpu,
    monitors,
    ray,
    registry,
    runs,
    scheduler,
    triggers,
    ui_metrics,
    ui_runs,
)

BENCHMARKS = {
    "runs": runs.main,
    "cluster_runs": cluster_runs.main,
    "executor": executor.main,
    "triggers": triggers.main,
    "monitors": monitors.main,
    "scheduler": scheduler.main,
    "registry": registry.main,
    "artifacts": artifacts.main,
    "cli": cli.main,
    "ui_metrics": ui_metrics.main,
    "ui_runs": ui_runs.main,
    "ray": ray.main,
    "gpu": gpu.main,
}

parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], help="benchmarks to run")
arguments = parser.parse_args()
for name in arguments.names or BENCHMARKS:
    asyncio.run(BENCHMARKS[name]())
