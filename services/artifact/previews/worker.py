"""The preview worker: one JSON request a line on stdin, one JSON preview a line on stdout.

`python -m services.artifact.previews.worker MEMORY_MB`; started and killed by runner.py.
"""

import json
import resource
import sys
from pathlib import Path

from services.artifact.previews.compute import preview

READY = "ready\n"


def limit_memory(megabytes: int) -> None:
    # A hostile file (a zip bomb in an .npz, a huge image) hits this limit, not the machine.
    limit = megabytes * 1024**2
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def answer(request: dict[str, str]) -> dict[str, object]:
    try:
        return preview(Path(request["path"]), request["kind"], request.get("name"))
    except MemoryError:
        return {"kind": request["kind"], "error": "preview needs more memory than allowed"}
    except Exception as err:
        # A file we cannot read is a failed preview, not a dead worker.
        return {"kind": request["kind"], "error": f"{type(err).__name__}: {err}"[:1000]}


def main() -> None:
    limit_memory(int(sys.argv[1]) if len(sys.argv) > 1 else 2048)
    sys.stdout.write(READY)  # started: a request's time limit is for its preview alone
    sys.stdout.flush()
    for line in sys.stdin:
        sys.stdout.write(json.dumps(answer(json.loads(line)), allow_nan=False) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
