"""The realm file against the code: roles `shared.auth` knows, the services' audiences,
the same token claims from every client people sign in with, demo scopes that exist in
the demo data. The real Keycloak reads it in tests/integration/test_keycloak.py."""

import json
from typing import Any

import pytest

from shared.auth import Role
from shared.demo_cases import CASES, demo_unit_id
from shared.devstack.stack import REALM_FILE, SERVICE_PORTS

REALM: dict[str, Any] = json.loads(REALM_FILE.read_text())
CLIENTS = {client["clientId"]: client for client in REALM["clients"]}
AUDIENCES = {f"ketnghia-{service}" for service in SERVICE_PORTS}
PEOPLE = [user for user in REALM["users"] if not user.get("serviceAccountClientId")]


def mapped(client: dict[str, Any]) -> dict[str, set[str]]:
    """The claims a client's mappers add: user attributes and audiences."""
    mappers = client.get("protocolMappers", [])
    return {
        "attributes": {m["config"]["claim.name"] for m in mappers
                       if m["protocolMapper"] == "oidc-usermodel-attribute-mapper"},
        "audiences": {m["config"]["included.client.audience"] for m in mappers
                      if m["protocolMapper"] == "oidc-audience-mapper"},
    }  # fmt: skip


def test_realm_roles_are_the_roles_the_services_know() -> None:
    assert {role["name"] for role in REALM["roles"]["realm"]} == {role.value for role in Role}
    assert all(role["description"] for role in REALM["roles"]["realm"])


def test_each_service_is_an_audience_client_without_a_sign_in_flow() -> None:
    for audience in AUDIENCES:
        client = CLIENTS[audience]
        assert not client["publicClient"]
        assert not client["standardFlowEnabled"]
        assert not client["directAccessGrantsEnabled"]


@pytest.mark.parametrize("client_id", ["ketnghia-web", "ketnghia-cli"])
def test_people_get_their_scopes_and_every_service_as_audience(client_id: str) -> None:
    # The mappers sit on each client, not in a shared client scope: a realm file that
    # declares any client scope loses all of Keycloak's built-in ones (`roles`, `profile`,
    # `basic`), and the account console with them.
    assert "clientScopes" not in REALM
    for mapper in CLIENTS[client_id]["protocolMappers"]:
        if mapper["protocolMapper"] == "oidc-usermodel-attribute-mapper":
            assert mapper["config"]["multivalued"] == "true"
            assert mapper["config"]["access.token.claim"] == "true"
    assert mapped(CLIENTS[client_id]) == {
        "attributes": {"provinces", "sponsor_units"},
        "audiences": AUDIENCES,
    }


def test_the_web_client_uses_pkce_and_the_cli_is_public() -> None:
    web, cli = CLIENTS["ketnghia-web"], CLIENTS["ketnghia-cli"]
    assert web["attributes"]["pkce.code.challenge.method"] == "S256"
    assert not web["publicClient"]
    assert not web["directAccessGrantsEnabled"]
    assert cli["publicClient"]
    assert cli["directAccessGrantsEnabled"]
    assert cli["attributes"]["oauth2.device.authorization.grant.enabled"] == "true"
    assert "local" in cli["description"]


def test_the_operations_service_account() -> None:
    client = CLIENTS["ketnghia-operations"]
    assert client["serviceAccountsEnabled"]
    assert not client["publicClient"]
    assert mapped(client)["audiences"] == AUDIENCES
    [account] = [u for u in REALM["users"] if u.get("serviceAccountClientId")]
    assert account["serviceAccountClientId"] == "ketnghia-operations"
    assert account["realmRoles"] == [Role.OPERATIONS.value]


def test_the_user_profile_keeps_scopes_that_only_admins_set() -> None:
    [provider] = REALM["components"]["org.keycloak.userprofile.UserProfileProvider"]
    [config] = provider["config"]["kc.user.profile.config"]
    attributes = {a["name"]: a for a in json.loads(config)["attributes"]}
    for name in ("provinces", "sponsor_units"):
        assert attributes[name]["multivalued"]
        assert attributes[name]["permissions"]["edit"] == ["admin"], "no one widens their own"


@pytest.mark.parametrize("user", PEOPLE, ids=[user["username"] for user in PEOPLE])
def test_demo_users_have_what_tests_read_and_scopes_of_the_demo_data(user: dict[str, Any]) -> None:
    assert user["firstName"]
    assert user["lastName"]
    [role] = [Role(name) for name in user["realmRoles"]]
    provinces, units = user["attributes"]["provinces"], user["attributes"]["sponsor_units"]
    assert bool(provinces) == (role != Role.NATIONAL_VIEWER)
    assert bool(units) == (role == Role.UNIT_CLERK)
    demo_units = {
        demo_unit_id(case.province, name) for case in CASES if case.province in provinces
        for name in case.units
    }  # fmt: skip
    assert set(units) <= demo_units, "a clerk's units are demo units of the clerk's province"
    [credential] = user["credentials"]
    assert credential["value"] == "ketnghia-demo"
    assert not credential["temporary"]
