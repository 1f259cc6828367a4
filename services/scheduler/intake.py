"""From `run.requested` to a run: inline commands as they are, components and pipelines
resolved through the registry and checked. A request that cannot run becomes a run that
is refused with the reason, never one stuck in pending."""

from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from services.scheduler import plan
from services.scheduler.domain import Run
from services.scheduler.pipeline import PipelinePlan
from services.scheduler.plan import PlanError
from services.scheduler.resolver import Missing, Registry
from shared.events import Cause, InputRef, RunRequested
from shared.registry_api import PinnedComponent, PipelineView
from shared.specs import REFERENCE, ComponentSpec, PipelineSpec, validation_problems

# What a request may set over a component's own; each is null in a request that did not.
ASKABLE = ("resources", "timeout_s", "retries", "retry_backoff_s")


def base_run(run_id: str, request: RunRequested, at: datetime) -> Run:
    run = Run(
        id=run_id,
        command=tuple(request.command or ()),
        created_at=at,
        env=dict(request.env),
        priority=request.priority,
        cause=request.cause,
        selector=dict(request.selector),
        concurrency_key=request.concurrency_key,
        max_concurrency=request.max_concurrency,
    )
    return asked(run, request)


def refused_run(run_id: str, request: RunRequested, at: datetime) -> Run:
    """A request that cannot run, with what it named as asked, so listings and their
    --component and --pipeline filters show it."""
    kind = "component" if request.component else "pipeline" if request.pipeline else "command"
    run = base_run(run_id, request, at)
    return replace(run, kind=kind, component=request.component, pipeline=request.pipeline)


UNSTORABLE_REASON = (
    "the database cannot store a value of this request "
    "(a number out of range, or text with a NUL character)"
)


def bare_run(run_id: str, request: RunRequested, at: datetime) -> Run:
    """What can be recorded of a request whose values the database refused: its id and the
    kind of its cause, so its id resolves (to a refused run) rather than to nothing."""
    return Run(id=run_id, command=(), created_at=at, cause=Cause(kind=request.cause.kind))


def asked(run: Run, request: RunRequested) -> Run:
    """The settings the request set, over the run's (its component's own, or the defaults)."""
    given = {name: getattr(request, name) for name in ASKABLE}
    return replace(run, **{name: value for name, value in given.items() if value is not None})


async def build(run_id: str, request: RunRequested, registry: Registry, at: datetime) -> Run:
    """The run to record; raises PlanError (the reason to refuse it) or RegistryUnavailable."""
    run = base_run(run_id, request, at)
    if request.component:
        try:
            found = await registry.component(request.component)
        except Missing:
            return await named_pipeline_run(run, request, registry)
        spec = stored(ComponentSpec, found.spec, found.ref)
        inputs = {
            name: await _input(registry, spec, name, ref) for name, ref in request.inputs.items()
        }
        return asked(component_run(run, found, request.params, inputs), request)
    if request.pipeline:
        return await pipeline_run(run, await registry.pipeline(request.pipeline), request, registry)
    return run


async def named_pipeline_run(run: Run, request: RunRequested, registry: Registry) -> Run:
    """A name no component has, but a pipeline has, runs the pipeline: `runs submit
    iris-train` needs no `--pipeline`, and over HTTP `{"component": "iris-train"}` does the
    same."""
    name = request.component
    try:
        found = await registry.pipeline(name or "")
    except Missing:
        raise PlanError(f"unknown component {name!r}: no component or pipeline {name!r}") from None
    return await pipeline_run(run, found, request, registry)


SpecModel = TypeVar("SpecModel", bound=BaseModel)


def stored(model: type[SpecModel], spec: dict[str, Any], ref: str) -> SpecModel:
    """A spec the registry recorded, checked as specs are checked now: one recorded before a
    check was added (a param default not of its type) refuses the run, not the batch."""
    try:
        return model.model_validate(spec)
    except ValidationError as err:
        refused = "; ".join(validation_problems(err))
        raise PlanError(
            f"{ref} has a spec this version refuses ({refused}); register a corrected version"
        ) from None


async def _input(registry: Registry, spec: ComponentSpec, name: str, ref: str) -> InputRef:
    if name not in spec.inputs:
        known = ", ".join(sorted(spec.inputs)) or "none"
        raise PlanError(f"unknown input {name!r} for {spec.name} (it takes: {known})")
    return await registry.input(spec.inputs[name].type, ref)


def component_run(
    run: Run,
    found: PinnedComponent,
    params: dict[str, Any],
    inputs: dict[str, InputRef],
) -> Run:
    """A run of one component version with checked params and inputs, and the component's
    own settings (pure)."""
    spec = ComponentSpec.model_validate(found.spec)
    ref = found.ref
    typed = plan.typed_params(spec.params, params, ref)
    plan.check_inputs(spec, inputs, ref)
    key = plan.cache_key(ref, found.digest, typed, inputs)
    return replace(
        run,
        kind="component",
        component=ref,
        spec=found.spec,
        command=tuple(plan.render(spec.command, typed, run.id)),
        params=typed,
        inputs=inputs,
        declared_outputs=plan.declared_outputs(spec),
        # BOXOPS_PARAM_* are the executor's to add (services/executor/contract.py), over these.
        env={**spec.env, **run.env},
        resources=spec.resources,
        image=spec.image,
        backend=spec.backend,
        network=spec.network,
        selector={**spec.selector, **run.selector},
        timeout_s=spec.timeout,
        retries=spec.retries,
        retry_backoff_s=spec.retry_backoff,
        cache_key=key,
        concurrency_key=run.concurrency_key
        or (f"component:{spec.name}" if spec.max_concurrency else None),
        max_concurrency=run.max_concurrency or spec.max_concurrency,
    )


async def pipeline_run(
    run: Run, found: PipelineView, request: RunRequested, registry: Registry
) -> Run:
    spec = stored(PipelineSpec, found.spec, found.ref)
    ref = found.ref
    params = plan.typed_params(spec.params, request.params, ref)
    unknown = sorted(set(request.inputs) - set(spec.inputs))
    if unknown:
        raise PlanError(f"unknown input {unknown[0]!r} for {ref}")
    inputs = {}
    for name, declared in spec.inputs.items():
        if name in request.inputs:
            inputs[name] = await registry.input(declared.type, request.inputs[name])
        elif declared.required:
            raise PlanError(f"missing required input {name!r} ({declared.type}) for {ref}")
    # Literal NAME@VERSION inputs of steps are resolved now, so the pipeline later
    # progresses without asking the registry (and without waiting on it).
    literals: dict[str, dict[str, InputRef]] = {}
    for step_name, step in spec.steps.items():
        pinned = found.components[step_name]
        component = stored(ComponentSpec, pinned.spec, pinned.ref)
        for name, value in step.inputs.items():
            if not REFERENCE.search(value):
                resolved = await _input(registry, component, name, value)
                literals.setdefault(step_name, {})[name] = resolved
    kept = PipelinePlan(**dict(found), literals=literals)
    return replace(
        run,
        kind="pipeline",
        pipeline=ref,
        spec=kept.model_dump(mode="json"),
        command=(),
        params=params,
        inputs=inputs,
        concurrency_key=run.concurrency_key
        or (f"pipeline:{spec.name}" if spec.max_concurrency else None),
        max_concurrency=run.max_concurrency or spec.max_concurrency,
    )
