"""Token verification (`shared.auth.TokenVerifier`) against a local issuer whose keys are
served over real HTTP, and what each role's scopes reach."""

import asyncio
import base64
import json
import time
from collections.abc import Iterator

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.auth import (
    Forbidden,
    IdentityProviderUnavailable,
    Principal,
    Role,
    TokenVerifier,
    Unauthenticated,
    principal_from_claims,
)
from shared.devstack.signing import LocalIssuer, demo_users, local_issuer, person

AUDIENCE = "ketnghia-registry"


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    with local_issuer() as serving:
        yield serving


def verifier(issuer: LocalIssuer, leeway_seconds: float = 30) -> TokenVerifier:
    return TokenVerifier(
        issuer=issuer.issuer,
        audience=AUDIENCE,
        jwks_url=issuer.jwks_url,
        leeway_seconds=leeway_seconds,
    )


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


async def refusal(check: TokenVerifier, token: str) -> str:
    with pytest.raises(Unauthenticated) as refused:
        await check.verify(token)
    return str(refused.value)


async def test_a_token_of_the_issuer_names_the_caller_and_its_scopes(issuer: LocalIssuer) -> None:
    clerk = demo_users()["canbo.socongthuong"]

    found = await verifier(issuer).verify(issuer.token(clerk))

    assert found.subject == clerk.subject
    assert found.roles == {Role.UNIT_CLERK}
    assert found.provinces == {"60"}
    assert found.sponsor_units == {"6dd6e969-acbf-5c23-a429-4b92b079a264"}
    assert found.actor.role == "unit-clerk"
    assert found.actor.units == ("6dd6e969-acbf-5c23-a429-4b92b079a264",)


async def test_forged_tokens_are_refused(issuer: LocalIssuer) -> None:
    check = verifier(issuer)
    viewer = person(Role.NATIONAL_VIEWER)
    good = issuer.token(viewer)
    _header, payload, _signature = good.split(".")
    unsigned = base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": issuer.kid}).encode())
    shared_secret = jwt.encode(
        {"sub": "x", "iss": issuer.issuer, "aud": AUDIENCE, "exp": time.time() + 60,
         "iat": time.time()},
        "a-secret-long-enough-for-hmac-signing-32b", algorithm="HS256",
        headers={"kid": issuer.kid},
    )  # fmt: skip

    assert "signature" in (await refusal(check, issuer.token(viewer, key=new_key()))).lower()
    assert "algorithm" in await refusal(check, f"{unsigned.decode().rstrip('=')}.{payload}.")
    assert "algorithm" in await refusal(check, shared_secret)
    assert "issuer" in (await refusal(check, issuer.token(viewer, issuer="http://evil"))).lower()
    assert "audience" in (await refusal(check, issuer.token(viewer, audience="other"))).lower()
    assert "hết hạn" in await refusal(check, issuer.token(viewer, issued_at=time.time() - 3600))
    assert "malformed" in await refusal(check, "not.a.token")
    assert "too long" in await refusal(check, "x" * 20_000)


async def test_clock_skew_is_allowed_within_the_leeway(issuer: LocalIssuer) -> None:
    viewer = person(Role.NATIONAL_VIEWER)
    just_expired = issuer.token(viewer, issued_at=time.time() - 920, lifetime=900)

    assert (await verifier(issuer, leeway_seconds=30).verify(just_expired)).roles
    assert "hết hạn" in await refusal(verifier(issuer, leeway_seconds=5), just_expired)


async def test_a_rotated_key_is_fetched_on_first_sight_and_unknown_keys_are_not_hammered(
    issuer: LocalIssuer,
) -> None:
    fetches = []
    transport = httpx.AsyncHTTPTransport()

    class Counting(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            fetches.append(request.url)
            return await transport.handle_async_request(request)

    async with httpx.AsyncClient(transport=Counting()) as client:
        check = TokenVerifier(issuer=issuer.issuer, audience=AUDIENCE, jwks_url=issuer.jwks_url,
                              min_refetch_seconds=0.2, http=client)  # fmt: skip
        viewer = person(Role.NATIONAL_VIEWER)
        await check.verify(issuer.token(viewer))
        await check.verify(issuer.token(viewer))
        assert len(fetches) == 1  # cached

        rotated = new_key()
        issuer.publish(rotated, "rotated")
        await asyncio.sleep(0.25)
        assert (await check.verify(issuer.token(viewer, key=rotated, kid="rotated"))).roles
        assert len(fetches) == 2

        stranger = issuer.token(viewer, key=new_key(), kid="nobody")
        await asyncio.sleep(0.25)
        for _ in range(20):
            await refusal(check, stranger)
        assert len(fetches) == 3  # one look for the unknown key, not twenty


async def test_a_provider_that_goes_down_neither_stops_nor_stalls_signed_in_callers(
    issuer: LocalIssuer,
) -> None:
    attempts = []
    down = False
    transport = httpx.AsyncHTTPTransport()

    class Flaky(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            attempts.append(down)
            if down:
                raise httpx.ConnectError("the identity provider is down")
            return await transport.handle_async_request(request)

    async with httpx.AsyncClient(transport=Flaky()) as client:
        check = TokenVerifier(
            issuer=issuer.issuer, audience=AUDIENCE, jwks_url=issuer.jwks_url,
            refresh_after_seconds=0, min_refetch_seconds=5, http=client,
        )  # fmt: skip
        viewer = person(Role.NATIONAL_VIEWER)
        await check.verify(issuer.token(viewer))
        down = True
        await asyncio.sleep(0.01)
        check.min_refetch = 0
        for _ in range(3):
            assert (await check.verify(issuer.token(viewer))).roles  # the cached keys serve
        check.min_refetch = 5
        for _ in range(20):
            assert (await check.verify(issuer.token(viewer))).roles

    assert attempts[0] is False
    assert len(attempts) == 4  # one good fetch, then one attempt per request while due only


async def test_no_keys_from_the_provider_is_a_503_not_a_401() -> None:
    check = TokenVerifier(issuer="http://127.0.0.1:9/realms/x", audience=AUDIENCE)
    with local_issuer() as other:
        token = other.token(person(Role.NATIONAL_VIEWER))

    with pytest.raises(IdentityProviderUnavailable):
        await check.verify(token)


def test_a_2025_province_reaches_its_predecessors_and_not_the_reverse() -> None:
    lam_dong = Principal("s", "n", frozenset({Role.PROVINCE_COORDINATOR}), frozenset({"68"}))
    binh_thuan = Principal("s", "n", frozenset({Role.PROVINCE_COORDINATOR}), frozenset({"60"}))

    assert lam_dong.reached == {"60", "67", "68"}
    assert lam_dong.manages("60")
    assert lam_dong.reads("67")
    assert not binh_thuan.reads("68")
    assert not lam_dong.reads("11")


def test_what_each_role_may_do_in_its_province() -> None:
    unit = "6dd6e969-acbf-5c23-a429-4b92b079a264"
    viewer = principal_from_claims(person(Role.NATIONAL_VIEWER).claims())
    auditor = principal_from_claims(person(Role.PROVINCE_AUDITOR, ["60"]).claims())
    clerk = principal_from_claims(person(Role.UNIT_CLERK, ["60"], [unit]).claims())

    assert viewer.reads("11")
    assert not viewer.manages("11")
    assert auditor.reads("60")
    assert not auditor.manages("60")
    assert not auditor.reads("11")
    assert not clerk.reads("60")
    assert clerk.clerk_units("60") == {unit}
    assert clerk.acts_for("60", [unit])
    assert not clerk.acts_for("60", ["another"])
    assert clerk.clerk_units("11") == set()
    with pytest.raises(Forbidden) as refused:
        auditor.require_manage("60")
    assert refused.value.scope == "manage:province:60"
    assert "Không có quyền" in str(refused.value)
    assert "not allowed" in str(refused.value)


def test_claims_of_the_wrong_shape_grant_nothing() -> None:
    found = principal_from_claims(
        {"sub": "x", "realm_access": {"roles": ["admin", 7, "unit-clerk"]}, "provinces": "60",
         "sponsor_units": {"not": "a list"}}
    )  # fmt: skip

    assert found.roles == {Role.UNIT_CLERK}
    assert found.provinces == {"60"}
    assert found.sponsor_units == set()


def test_a_name_reads_family_name_first_as_vietnamese_write_it() -> None:
    keycloak_style = {"sub": "x", "name": "Khải Võ Văn", "given_name": "Khải",
                      "family_name": "Võ Văn"}  # fmt: skip

    assert principal_from_claims(keycloak_style).name == "Võ Văn Khải"
    assert principal_from_claims({"sub": "x", "name": "Ban Dân tộc"}).name == "Ban Dân tộc"
    assert principal_from_claims({"sub": "x"}).name == "x"


async def test_requests_that_arrive_before_the_keys_wait_for_the_one_fetch(
    issuer: LocalIssuer,
) -> None:
    """Just after a start, eight signed-in requests at once: one fetches the keys, the
    others wait for it; none is told the provider is unavailable."""
    clerk = demo_users()["canbo.socongthuong"]
    fetches = 0

    async def slow_provider(request: httpx.Request) -> httpx.Response:
        nonlocal fetches
        fetches += 1
        await asyncio.sleep(0.2)
        async with httpx.AsyncClient() as real:
            return await real.get(str(request.url))

    async with httpx.AsyncClient(transport=httpx.MockTransport(slow_provider)) as http:
        check = TokenVerifier(issuer=issuer.issuer, audience=AUDIENCE,
                              jwks_url=issuer.jwks_url, http=http)  # fmt: skip
        found = await asyncio.gather(*(check.verify(issuer.token(clerk)) for _ in range(8)))

    assert [principal.subject for principal in found] == [clerk.subject] * 8
    assert fetches == 1
