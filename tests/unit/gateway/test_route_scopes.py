"""Every route of every gateway router names the scope it needs (`@needs`): one left out
would need `admin`, closed to the tokens that should reach it."""

import importlib
import pkgutil

from fastapi import APIRouter
from fastapi.routing import APIRoute

import services.gateway


def routes() -> dict[str, APIRoute]:
    found = {}
    for info in pkgutil.iter_modules(services.gateway.__path__):
        if info.name == "__main__":
            continue
        for value in vars(importlib.import_module(f"services.gateway.{info.name}")).values():
            if isinstance(value, APIRouter):
                found |= {
                    f"{sorted(r.methods)} {r.path}": r
                    for r in value.routes
                    if isinstance(r, APIRoute)
                }
    return found


def test_every_route_of_the_gateway_names_its_scope() -> None:
    found = routes()
    assert len(found) >= 40
    assert [
        name for name, route in found.items() if not hasattr(route.endpoint, "requirement")
    ] == []
