"""/docs and /redoc work on a machine without internet: every script, style sheet and
icon they load comes from the gateway itself, not a CDN."""

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.gateway_auth import Gateway, running_gateway


@pytest.fixture
async def gateway(nats_url: str, tmp_path: Path) -> AsyncIterator[Gateway]:
    async for running in running_gateway(nats_url, tmp_path / "home"):
        yield running


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_api_docs_load_their_assets_from_the_gateway(gateway: Gateway, page: str) -> None:
    html = await gateway.http.get(page)
    assert html.status_code == 200, html.text
    assets = re.findall(r"""(?:src|href)\s*=\s*['"]([^'"]+)['"]""", html.text)
    assets += re.findall(r"""(?:url|js_url|css_url):\s*['"]([^'"]+)['"]""", html.text)
    assert assets, html.text
    for asset in assets:
        assert asset.startswith("/"), f"{page} loads {asset} from elsewhere"
        answer = await gateway.http.get(asset)
        assert answer.status_code == 200, asset
        if asset != "/openapi.json":
            assert len(answer.content) > 1000, asset
