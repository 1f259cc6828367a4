"""What several pages look up alike. A thing not there is a 404 raised as HTTPException:
the gateway shows a page's HTTP error as a page naming it."""

from fastapi import HTTPException, Request

from services.gateway.ask import ask
from shared.queries import RUNS_GET, RunGet, RunView


async def run_of(request: Request, run_id: str) -> RunView:
    """The run with this id, or a 404 naming it."""
    try:
        return RunView.model_validate(await ask(request, RUNS_GET, RunGet(run_id=run_id)))
    except HTTPException as err:
        if err.status_code == 404:
            raise HTTPException(404, f"no run with id {run_id!r}") from None
        raise
