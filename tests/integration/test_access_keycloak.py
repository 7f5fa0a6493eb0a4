"""The access matrix of `test_access.py` again, with tokens the real Keycloak issues: the
demo users sign in with their passwords (the CLI's password grant), the services trust
the realm's issuer and fetch its keys, and the defaults clients use the operations
service account (client credentials)."""

import json
import time
from collections.abc import Generator
from typing import Any

import httpx
import pytest

from shared.devstack.keycloak import (
    LOCAL_OPERATIONS_SECRET,
    OPERATIONS_CLIENT,
    client_credentials_token,
    password_token,
)
from shared.devstack.signing import Trust
from shared.devstack.stack import REALM_FILE
from tests.integration.test_access import (  # noqa: F401 - collected here with Keycloak's tokens
    forged_auth,
    test_a_clerk_corrects_and_voids_only_what_its_unit_did,
    test_each_role_reaches_exactly_its_scope,
)

PASSWORDS = {
    user["username"]: user["credentials"][0]["value"]
    for user in json.loads(REALM_FILE.read_text())["users"]
    if user.get("credentials")
}


class KeycloakToken(httpx.Auth):
    """A token from Keycloak, asked for again a minute before it expires."""

    def __init__(self, fetch: Any) -> None:
        self.fetch = fetch
        self.token, self.renew_at = "", 0.0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if time.monotonic() >= self.renew_at:
            answer = self.fetch()
            self.token = answer["access_token"]
            self.renew_at = time.monotonic() + answer["expires_in"] - 60
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


@pytest.fixture(scope="module")
def trust(keycloak_issuer: str) -> Trust:
    """The services of this module trust the real Keycloak."""
    people = {
        name: KeycloakToken(
            lambda name=name: password_token(keycloak_issuer, name, PASSWORDS[name])
        )
        for name in PASSWORDS
    }
    operations = KeycloakToken(
        lambda: client_credentials_token(
            keycloak_issuer, OPERATIONS_CLIENT, LOCAL_OPERATIONS_SECRET
        )
    )
    return Trust(keycloak_issuer, None, lambda name: people[name], operations)
