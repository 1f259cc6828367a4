"""An attempt on a remote backend (ray): what its node is handed, and what it uploaded."""

from services.executor.backends import Launch
from services.executor.contract import Layout
from services.executor.ray_plan import Ended, UploadedOutput
from services.executor.recorder import Recorder
from services.executor.settings import ExecutorSettings
from shared.bus import now
from shared.events import DeclaredOutput, RunDispatched, RunOutput
from shared.run_token import expiry, run_token


def remote_launch(settings: ExecutorSettings, run: RunDispatched, host: Layout) -> Launch:
    """The run itself, and how its SDK reaches the gateway: the node lays it out."""
    env = {"BOXOPS_API_URL": settings.gateway_url} if settings.gateway_url else {}
    if settings.run_token_secret and settings.gateway_url:
        expires = expiry(now().timestamp(), run.timeout_s, settings.run_token_max_s)
        env["BOXOPS_RUN_TOKEN"] = run_token(settings.run_token_secret, run.run_id, expires)
    return Launch(
        run_id=run.run_id,
        command=[],
        env=env,
        host=host,
        resources=run.resources,
        image=run.image,
        network=run.network,
        run=run,
    )


def uploaded_outputs(
    *, run_outputs: dict[str, DeclaredOutput], recorder: Recorder, ended: Ended | None
) -> tuple[dict[str, RunOutput], str | None]:
    """The declared outputs as the node uploaded them (on exit 0), or why one was refused."""
    if ended is None or ended.refused:
        return {}, ended.refused if ended else None
    found = {}
    for name, declared in run_outputs.items():
        output = ended.outputs.get(name) or UploadedOutput()
        metrics = {**recorder.last_values(), **output.metrics} if declared.type == "metrics" else {}
        found[name] = RunOutput(
            type=declared.type,
            name=declared.name,
            files=output.files,
            metrics=metrics,
            metadata={"files": len(output.files), "bytes": sum(f.size for f in output.files)},
        )
    return found, None
