"""The real Keycloak with the realm file: each demo user signs in, and the services'
verifier (`shared.auth.TokenVerifier`) finds the roles, provinces and sponsor units the
realm file gives that user. Expectations are read from the same file.
"""

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from shared.auth import Principal, Role, TokenVerifier, Unauthenticated
from shared.devstack import LocalStack
from shared.devstack.keycloak import (
    LOCAL_OPERATIONS_SECRET,
    OPERATIONS_CLIENT,
    LocalKeycloak,
    SignInRefused,
    client_credentials_token,
    password_token,
)
from shared.devstack.stack import REALM_FILE, SERVICE_PORTS

REALM: dict[str, Any] = json.loads(REALM_FILE.read_text())
PEOPLE = [user for user in REALM["users"] if not user.get("serviceAccountClientId")]
AUDIENCES = [f"ketnghia-{service}" for service in SERVICE_PORTS]


def password_of(user: dict[str, Any]) -> str:
    [credential] = user["credentials"]
    return str(credential["value"])


async def verified(issuer: str, token: str, audience: str = AUDIENCES[0]) -> Principal:
    return await TokenVerifier(issuer=issuer, audience=audience).verify(token)


@pytest.mark.parametrize("user", PEOPLE, ids=[user["username"] for user in PEOPLE])
async def test_each_demo_user_gets_the_scopes_the_realm_file_gives(
    keycloak_issuer: str, user: dict[str, Any]
) -> None:
    answer = await asyncio.to_thread(
        password_token, keycloak_issuer, user["username"], password_of(user)
    )
    # Keycloak counts the lifetime from its own clock's second: 899 or 900 for 900.
    assert REALM["accessTokenLifespan"] - 2 <= answer["expires_in"] <= REALM["accessTokenLifespan"]
    principal = await verified(keycloak_issuer, answer["access_token"])

    attributes = user["attributes"]
    assert principal.roles == {Role(role) for role in user["realmRoles"]}
    assert principal.provinces == set(attributes["provinces"])
    assert principal.sponsor_units == set(attributes["sponsor_units"])
    # Keycloak's `name` is "given family"; the services write it as Vietnamese do.
    assert principal.name == f"{user['lastName']} {user['firstName']}"
    claims = jwt.decode(answer["access_token"], options={"verify_signature": False})
    for claim in ("provinces", "sponsor_units"):
        if attributes[claim]:  # multivalued: one province is still a list of one
            assert claims[claim] == attributes[claim]
    print(
        f"{user['username']}: {principal.name}, {sorted(principal.roles)}, "
        f"provinces {sorted(principal.provinces)}, units {sorted(principal.sponsor_units)}"
    )


async def test_one_sign_in_is_good_for_every_service_and_no_other_audience(
    keycloak_issuer: str,
) -> None:
    clerk = next(user for user in PEOPLE if user["attributes"]["sponsor_units"])
    answer = await asyncio.to_thread(
        password_token, keycloak_issuer, clerk["username"], password_of(clerk)
    )
    token = answer["access_token"]
    for audience in AUDIENCES:
        principal = await verified(keycloak_issuer, token, audience)
        assert principal.sponsor_units == set(clerk["attributes"]["sponsor_units"])
        print(f"{clerk['username']}'s token verified for {audience}")
    with pytest.raises(Unauthenticated, match="Audience"):
        await verified(keycloak_issuer, token, "ketnghia-elsewhere")


async def test_the_operations_service_account_has_the_operations_role(
    keycloak_issuer: str,
) -> None:
    answer = await asyncio.to_thread(
        client_credentials_token, keycloak_issuer, OPERATIONS_CLIENT, LOCAL_OPERATIONS_SECRET
    )
    for audience in AUDIENCES:
        principal = await verified(keycloak_issuer, answer["access_token"], audience)
        assert principal.roles == {Role.OPERATIONS}
        assert principal.provinces == principal.sponsor_units == frozenset()
    assert principal.manages("60")
    assert principal.reads("11")
    print(f"{OPERATIONS_CLIENT}: {principal.name}, roles {sorted(principal.roles)}")
    with pytest.raises(SignInRefused, match=r"unauthorized_client|invalid_client"):
        await asyncio.to_thread(
            client_credentials_token, keycloak_issuer, OPERATIONS_CLIENT, "not-the-secret"
        )


async def test_a_wrong_password_is_refused(keycloak_issuer: str) -> None:
    user = PEOPLE[0]
    with pytest.raises(SignInRefused, match="invalid_grant"):
        await asyncio.to_thread(
            password_token, keycloak_issuer, user["username"], password_of(user) + "x"
        )
    print(f"{user['username']} with a wrong password: refused")


async def test_a_changed_realm_file_reaches_the_running_server(
    keycloak_issuer: str, tmp_path: Path
) -> None:
    stack = LocalStack()
    port = stack.state().keycloak_port
    if port is None or not keycloak_issuer.startswith(f"http://127.0.0.1:{port}/"):
        pytest.skip("AUTH_ISSUER names a Keycloak this session does not manage")
    changed = json.loads(REALM_FILE.read_text())
    coordinator = next(u for u in changed["users"] if u["username"] == "dieuphoi.dienbien")
    coordinator["attributes"]["provinces"] = ["11", "14"]
    edited = tmp_path / REALM_FILE.name
    edited.write_text(json.dumps(changed, ensure_ascii=False))
    home = stack.keycloak.home
    try:
        assert await asyncio.to_thread(
            LocalKeycloak(home, stack.keycloak.pom, edited).sync_realm, port
        )
        answer = await asyncio.to_thread(
            password_token, keycloak_issuer, "dieuphoi.dienbien", password_of(coordinator)
        )
        assert (await verified(keycloak_issuer, answer["access_token"])).provinces == {"11", "14"}
        print("an edited realm file reached the running Keycloak: dieuphoi.dienbien has 11, 14")
    finally:
        assert await asyncio.to_thread(stack.keycloak.sync_realm, port), "the file is back"
    assert not await asyncio.to_thread(stack.keycloak.sync_realm, port), "nothing changed"


async def test_the_web_client_requires_pkce_and_the_cli_offers_the_device_grant(
    keycloak_issuer: str,
) -> None:
    sign_in = {"client_id": "ketnghia-web", "response_type": "code", "scope": "openid",
               "redirect_uri": "http://127.0.0.1:8000/signed-in"}  # fmt: skip
    async with httpx.AsyncClient(base_url=f"{keycloak_issuer}/protocol/openid-connect") as oidc:
        without = await oidc.get("/auth", params=sign_in)
        assert without.status_code == 302
        assert "code_challenge_method" in without.headers["location"], "refused without PKCE"
        challenge = {"code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                     "code_challenge_method": "S256"}  # fmt: skip
        assert (await oidc.get("/auth", params={**sign_in, **challenge})).status_code == 200
        device = await oidc.post("/auth/device", data={"client_id": "ketnghia-cli"})
        assert device.status_code == 200
        assert device.json()["verification_uri"] == f"{keycloak_issuer}/device"
    print("ketnghia-web: sign-in page only with PKCE S256; ketnghia-cli: device grant offered")
