"""Declaring stays light: `import boxops` loads no decorator, and a module declaring
components (what `boxops.entry` imports in every run) loads no spec model until a spec is
asked for."""

from tests.unit.test_cli_imports import modules_loaded_by

DECLARING = (
    "import boxops\n"
    "@boxops.component(outputs={'model': boxops.Model('m')})\n"
    "def fit(data: boxops.Dataset, depth: int = 3) -> None: ...\n"
    "@boxops.pipeline\n"
    "def flow(data: boxops.Dataset) -> None:\n"
    "    fit(data=data)\n"
)


def test_importing_boxops_loads_neither_the_decorators_nor_the_async_client() -> None:
    loaded = modules_loaded_by("import boxops")
    assert not {"boxops.declare", "boxops.async_client", "httpx"} & loaded


def test_declaring_loads_no_pydantic_and_asking_for_a_spec_does() -> None:
    declared = modules_loaded_by(f"exec({DECLARING!r})")
    assert "boxops.declare" in declared
    assert not {"pydantic", "shared.specs", "yaml", "httpx"} & declared

    compiled = modules_loaded_by(f"exec({DECLARING!r}); flow.spec")
    assert {"pydantic", "shared.specs"} <= compiled
