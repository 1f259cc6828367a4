"""Every gateway router reads JSON bodies the same way (see services/gateway/json_bodies)."""

import importlib
import pkgutil

from fastapi import APIRouter

import services.gateway
from services.gateway.json_bodies import JsonRoute


def test_every_router_of_the_gateway_uses_the_json_route() -> None:
    routers = {
        f"{info.name}.{name}": value
        for info in pkgutil.iter_modules(services.gateway.__path__)
        if info.name != "__main__"
        for name, value in vars(importlib.import_module(f"services.gateway.{info.name}")).items()
        if isinstance(value, APIRouter)
    }

    assert "runs.router" in routers
    assert {
        name for name, router in routers.items() if router.route_class is not JsonRoute
    } == set()
