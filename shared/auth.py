"""Who is calling, and what they may do.

People sign in at Keycloak; a service only verifies the OIDC access token it is sent
(`Authorization: Bearer ...`): the signature against the provider's published keys (JWKS,
cached, fetched again when a token names a key id not seen yet), the issuer, the audience
(the service's own client id), the expiry with some clock skew allowed. PyJWT does the JOSE
work. Nothing here stores a password.

What the token grants comes from claims the realm maps (`deploy/keycloak/realm-ketnghia.json`):
realm roles in `realm_access.roles`, province codes in `provinces`, sponsor-unit ids in
`sponsor_units`. A province code of the 2025 edition also reaches the provinces merged
into it (`shared.provinces`). Each service's `service_layer/access.py` says which of
`Principal`'s permissions an operation needs; this module knows no operation.
"""

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx
import jwt
import structlog

from shared.provinces import reach

log = structlog.get_logger(__name__)

# Asymmetric algorithms only: a token signed with a shared secret or `none` is refused.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
MAX_TOKEN_BYTES = 16_384


class Role(StrEnum):
    NATIONAL_VIEWER = "national-viewer"  # reads every province, writes nothing
    PROVINCE_COORDINATOR = "province-coordinator"  # reads and manages its provinces
    UNIT_CLERK = "unit-clerk"  # records its sponsor units' activities
    PROVINCE_AUDITOR = "province-auditor"  # reads its provinces, writes nothing
    OPERATIONS = "operations"  # service accounts: the demo, the rebuild

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Role.NATIONAL_VIEWER: "Cán bộ theo dõi toàn quốc",
    Role.PROVINCE_COORDINATOR: "Điều phối viên tỉnh",
    Role.UNIT_CLERK: "Cán bộ đơn vị kết nghĩa",
    Role.PROVINCE_AUDITOR: "Kiểm tra viên tỉnh",
    Role.OPERATIONS: "Tài khoản dịch vụ",
}
# The role an actor is recorded with when it holds several: the roles that write first.
_PRECEDENCE = (
    Role.OPERATIONS,
    Role.PROVINCE_COORDINATOR,
    Role.UNIT_CLERK,
    Role.PROVINCE_AUDITOR,
    Role.NATIONAL_VIEWER,
)


class Unauthenticated(Exception):
    """No usable token: a 401 with `WWW-Authenticate`; the message says what was wrong.
    `token_sent` tells a refused token (RFC 6750's `invalid_token`) from a missing one."""

    def __init__(self, message: str, *, token_sent: bool = True) -> None:
        self.token_sent = token_sent
        super().__init__(message)


class Forbidden(Exception):
    """The caller is known but lacks the scope: a 403 naming the missing scope."""

    def __init__(self, scope: str, message: str) -> None:
        self.scope = scope
        super().__init__(message)


class IdentityProviderUnavailable(Exception):
    """The provider's keys could not be fetched and none are cached: a 503."""


@dataclass(frozen=True)
class Actor:
    """Who made a change, as its events carry it (CloudEvents extension attributes)."""

    subject: str
    name: str
    role: str
    units: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "name": self.name, "role": self.role,
                "units": list(self.units)}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Actor":
        return cls(data["subject"], data["name"], data["role"], tuple(data.get("units", ())))


@dataclass(frozen=True)
class Principal:
    """The verified caller: who, with which roles, for which provinces and sponsor units."""

    subject: str
    name: str
    roles: frozenset[Role]
    provinces: frozenset[str] = frozenset()
    sponsor_units: frozenset[str] = frozenset()
    reached: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reached", reach(self.provinces))

    @property
    def role(self) -> Role | None:
        return next((role for role in _PRECEDENCE if role in self.roles), None)

    @property
    def actor(self) -> Actor:
        role = self.role
        return Actor(
            self.subject, self.name, role.value if role else "", tuple(sorted(self.sponsor_units))
        )

    # -- what the roles grant ---------------------------------------------------------
    @property
    def reads_every_province(self) -> bool:
        return bool(self.roles & {Role.NATIONAL_VIEWER, Role.OPERATIONS})

    def reads(self, province: str) -> bool:
        """May read everything of `province` (its reports, programmes, assignments)."""
        return self.reads_every_province or (
            bool(self.roles & {Role.PROVINCE_COORDINATOR, Role.PROVINCE_AUDITOR})
            and province in self.reached
        )

    def manages(self, province: str) -> bool:
        """May set up `province`'s programmes, units, assignments, plans, locks, imports."""
        return Role.OPERATIONS in self.roles or (
            Role.PROVINCE_COORDINATOR in self.roles and province in self.reached
        )

    def clerk_units(self, province: str) -> frozenset[str]:
        """The sponsor units of `province` the caller records for as their clerk."""
        if Role.UNIT_CLERK in self.roles and province in self.reached:
            return self.sponsor_units
        return frozenset()

    def reads_assignment(self, province: str, units: Iterable[str]) -> bool:
        """May read an assignment of `province` whose member units (ever) are `units`: who
        reads the province, or a clerk of one of those units."""
        return self.reads(province) or bool(self.clerk_units(province) & set(units))

    def acts_for(self, province: str, units: Iterable[str]) -> bool:
        """Manages `province`, or is the clerk of one of `units` there."""
        return self.manages(province) or bool(self.clerk_units(province) & set(units))

    # -- refusals ---------------------------------------------------------------------
    def require_read(self, province: str) -> None:
        if not self.reads(province):
            raise forbidden_read(province)

    def require_manage(self, province: str) -> None:
        if not self.manages(province):
            raise forbidden(f"manage:province:{province}", f"quản lý chương trình tỉnh {province}",
                            f"manage province {province}")  # fmt: skip


def forbidden(scope: str, vietnamese: str, english: str) -> Forbidden:
    return Forbidden(
        scope,
        f"Không có quyền {vietnamese} (thiếu phạm vi {scope}) / "
        f"not allowed to {english} (missing scope {scope})",
    )


def forbidden_read(province: str) -> Forbidden:
    """The refusal of a caller who may not read `province`."""
    return forbidden(
        f"read:province:{province}", f"xem số liệu tỉnh {province}", f"read province {province}"
    )


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    realm_access = claims.get("realm_access")
    raw_roles = realm_access.get("roles", []) if isinstance(realm_access, dict) else []
    known = {role.value for role in Role}
    return Principal(
        subject=str(claims["sub"]),
        name=_name(claims),
        roles=frozenset(Role(r) for r in _strings(raw_roles) if r in known),
        provinces=frozenset(_strings(claims.get("provinces"))),
        sponsor_units=frozenset(_strings(claims.get("sponsor_units"))),
    )


def _name(claims: dict[str, Any]) -> str:
    """The person's name as Vietnamese write it: family (họ và tên đệm) then given (tên),
    "Võ Văn Khải"; Keycloak's own `name` claim puts the given name first."""
    family, given = claims.get("family_name"), claims.get("given_name")
    if isinstance(family, str) and isinstance(given, str) and family.strip() and given.strip():
        return f"{family.strip()} {given.strip()}"
    return str(claims.get("name") or claims.get("preferred_username") or claims["sub"])


def _strings(value: Any) -> list[str]:
    """A claim that should be a list of strings; a single string counts as one."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


class TokenVerifier:
    """Verifies access tokens of one issuer for one audience."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks_url: str | None = None,
        leeway_seconds: float = 30,
        refresh_after_seconds: float = 3600,
        min_refetch_seconds: float = 10,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.jwks_url = jwks_url or f"{issuer.rstrip('/')}/protocol/openid-connect/certs"
        self.leeway = leeway_seconds
        self.refresh_after = refresh_after_seconds
        self.min_refetch = min_refetch_seconds  # an unknown `kid` cannot make us hammer it
        self._http = http
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = -float("inf")  # the last fetch that succeeded
        self._tried_at = -float("inf")  # the last attempt, failed or not
        self._lock = asyncio.Lock()

    async def verify(self, token: str) -> Principal:
        if len(token) > MAX_TOKEN_BYTES:
            raise Unauthenticated("token quá dài / the token is too long")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"token không đọc được / malformed token: {error}") from error
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in ALGORITHMS:
            raise Unauthenticated(
                f"thuật toán ký không được chấp nhận / algorithm {algorithm!r} refused"
            )
        key = await self._key(kid if isinstance(kid, str) else "")
        if key.algorithm_name != algorithm:
            raise Unauthenticated("thuật toán không khớp khóa / algorithm does not match the key")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise Unauthenticated("token đã hết hạn / the token has expired") from error
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"token không hợp lệ / invalid token: {error}") from error
        return principal_from_claims(claims)

    async def _key(self, kid: str) -> jwt.PyJWK:
        """The key named `kid`, fetching the provider's keys when they are an hour old or
        the kid is new to us; at most one attempt per `min_refetch` seconds, failed or
        not, so neither unknown kids nor a provider that is down hold requests up."""
        if kid not in self._keys or self._wants_fetch(kid):
            # An unknown kid waits for a fetch under way (the first requests after a start
            # all arrive before the keys: they wait for the one fetch, not answer 503).
            async with self._lock:
                if self._wants_fetch(kid):
                    await self._fetch()
        if kid not in self._keys:
            if not self._keys:
                raise IdentityProviderUnavailable(
                    "không lấy được khóa của nhà cung cấp định danh / "
                    "the identity provider's keys are unavailable"
                )
            raise Unauthenticated("khóa ký không thuộc nhà cung cấp / unknown signing key")
        return self._keys[kid]

    def _wants_fetch(self, kid: str) -> bool:
        now = time.monotonic()
        due = now - self._tried_at > self.min_refetch
        stale = now - self._fetched_at > self.refresh_after
        return due and (stale or kid not in self._keys)

    async def _fetch(self) -> None:
        self._tried_at = time.monotonic()
        try:
            if self._http is not None:
                response = await self._http.get(self.jwks_url)
            else:
                async with httpx.AsyncClient(timeout=5) as client:
                    response = await client.get(self.jwks_url)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as error:
            log.warning("jwks_unavailable", url=self.jwks_url, error=str(error))
            return  # the keys cached so far stay in use
        keys: dict[str, jwt.PyJWK] = {}
        for entry in document.get("keys", []) if isinstance(document, dict) else []:
            if (
                not isinstance(entry, dict)
                or entry.get("use", "sig") != "sig"
                or "kid" not in entry
            ):
                continue
            try:
                keys[entry["kid"]] = jwt.PyJWK(entry)
            except jwt.PyJWTError:
                continue  # a key type this library does not sign with
        if keys:  # an empty or garbled answer does not throw away the keys we have
            self._keys = keys
            self._fetched_at = time.monotonic()
