"""The run contract, as paths and variables a black box sees: pure logic.

A run's attempt dir holds what the black box reads and writes, each part mounted on
its own in a container:

    params.json      the params as JSON                  ($BOXOPS_PARAMS)
    inputs/<name>/   materialised inputs, read-only      ($BOXOPS_INPUTS)
    outputs/<name>/  declared outputs, uploaded at the end ($BOXOPS_OUTPUTS)
    work/            the current directory               ($BOXOPS_WORKDIR)
    sdk/             the SDK's buffer of metrics, params, tags and artifacts
    logs.jsonl       the executor's archive of the output (never visible to the run)

Its variables are derived here and only here (`run_env`): each param as BOXOPS_PARAM_<NAME>
(`param_env`), each input handed over by URI as BOXOPS_INPUT_<NAME>_URI, the paths above, the
run's id, attempt, labels and, for the SDK, the gateway's URL and a run token. Precedence:
the run's own `env` (the component's, then the request's) comes first and the contract's
variables are laid over it, so a run cannot spoof its own contract (an env that sets
BOXOPS_PARAM_LR does not change the param lr); a run's env can set any other variable.
"""

import json
import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from shared.events import RunDispatched
from shared.placeholders import REFERENCE


@dataclass(frozen=True)
class Layout:
    """Where the parts of one attempt live, on the host or inside a container."""

    root: PurePath

    @property
    def params(self) -> PurePath:
        return self.root / "params.json"

    @property
    def inputs(self) -> PurePath:
        return self.root / "inputs"

    @property
    def outputs(self) -> PurePath:
        return self.root / "outputs"

    @property
    def work(self) -> PurePath:
        return self.root / "work"

    @property
    def sdk(self) -> PurePath:
        return self.root / "sdk"

    @property
    def logs(self) -> PurePath:
        return self.root / "logs.jsonl"


class ContractError(ValueError):
    """The dispatched run cannot be laid out; the text says why."""


def render(run: RunDispatched, seen: Layout) -> list[str]:
    """The command with its placeholders filled in one pass, so a filled-in value (a param
    given as `{{ outputs.x }}`) reaches the program as written, never expanded again.

    A component's `template` gets its params, `{{ run.id }}` and paths; an inline command
    (no template) only its `{{ inputs.x }}` / `{{ outputs.x }}` paths."""
    templated = run.template is not None

    def fill(match: re.Match[str]) -> str:
        ref = match.group(1)
        kind, _, name = ref.partition(".")
        if kind in ("inputs", "outputs"):
            declared = run.inputs if kind == "inputs" else run.outputs
            if name not in declared:
                raise ContractError(f"command refers to {ref}, which the run does not declare")
            return str((seen.inputs if kind == "inputs" else seen.outputs) / name)
        if not templated:
            return match.group(0)
        if kind == "params" and name in run.params:
            return _text(run.params[name])
        if ref == "run.id":
            return run.run_id
        raise ContractError(f"command refers to {ref}, which the run does not declare")

    return [REFERENCE.sub(fill, part) for part in run.template or run.command]


def env_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def param_env(params: dict[str, Any]) -> dict[str, str]:
    """BOXOPS_PARAM_<NAME> for each param (`data-set` → DATA_SET), lists and dicts as JSON."""
    return {f"BOXOPS_PARAM_{env_name(k)}": _text(v) for k, v in params.items()}


def gpu_env(devices: list[str]) -> dict[str, str]:
    """The GPUs a run may use, exactly its own: one that asked for none sees an empty
    CUDA_VISIBLE_DEVICES (and NVIDIA's runtime `void`), so it cannot take one silently."""
    ids = ",".join(devices)
    return {"CUDA_VISIBLE_DEVICES": ids, "NVIDIA_VISIBLE_DEVICES": ids or "void"}


def run_env(
    run: RunDispatched, seen: Layout, *, api_url: str, token: str, uris: dict[str, str]
) -> dict[str, str]:
    """The run's own env with the contract's variables laid over it (see the module doc)."""
    env = dict(run.env)
    env.update(param_env(run.params))
    env.update({f"BOXOPS_INPUT_{env_name(k)}_URI": uri for k, uri in uris.items()})
    env.update(
        BOXOPS_RUN_ID=run.run_id,
        BOXOPS_ATTEMPT=str(run.attempt),
        BOXOPS_PARAMS=str(seen.params),
        BOXOPS_INPUTS=str(seen.inputs),
        BOXOPS_OUTPUTS=str(seen.outputs),
        BOXOPS_WORKDIR=str(seen.work),
        BOXOPS_SDK_DIR=str(seen.sdk),
    )
    if run.component:
        env["BOXOPS_COMPONENT"] = run.component
    env["BOXOPS_LABELS"] = json.dumps(run.labels())
    if api_url:
        env.update(BOXOPS_API_URL=api_url, BOXOPS_RUN_TOKEN=token)
    return env


def params_json(params: dict[str, Any]) -> str:
    return json.dumps(params, indent=2, sort_keys=True, default=str) + "\n"


def _text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)
