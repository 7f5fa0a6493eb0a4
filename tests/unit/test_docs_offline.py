"""Each service's `/docs` page loads its scripts and styles from the service itself, not a
CDN: on a provincial network without internet it still works."""

import re

import pytest
from fastapi.testclient import TestClient

from shared.migrations import SERVICES
from tests.unit.test_routes_need_sign_in import app_of


@pytest.mark.parametrize("service", SERVICES)
def test_the_docs_page_needs_no_other_host(service: str) -> None:
    client = TestClient(app_of(service))
    page = client.get("/docs")
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)

    assert page.status_code == 200
    assert "swagger-ui-bundle.js" in " ".join(assets)
    for asset in assets:
        assert asset.startswith("/"), f"{asset} comes from another host"
        assert client.get(asset).status_code == 200, asset
