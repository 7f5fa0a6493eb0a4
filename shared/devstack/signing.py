"""A token issuer for tests and benchmarks: a signing key of its own, its JWKS served over
real HTTP on a local port, and access tokens shaped as the realm's
(`deploy/keycloak/realm-ketnghia.json`: realm roles, `provinces`, `sponsor_units`, the
three services as audiences).

The services verify these tokens exactly as Keycloak's (`shared.auth.TokenVerifier`);
only the key differs. Tests that need the real Keycloak use `shared.devstack.keycloak`.
"""

import json
import threading
import time
import uuid
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.auth import Role
from shared.devstack.stack import REALM_FILE

AUDIENCES = ("ketnghia-registry", "ketnghia-activities", "ketnghia-reporting")


@dataclass(frozen=True)
class Identity:
    """Who a token says the caller is: its subject, name, roles and scopes."""

    subject: str
    name: str
    roles: tuple[str, ...]
    provinces: tuple[str, ...] = ()
    sponsor_units: tuple[str, ...] = ()

    def claims(self) -> dict[str, Any]:
        return {
            "sub": self.subject,
            "name": self.name,
            "preferred_username": self.name,
            "realm_access": {"roles": list(self.roles)},
            "provinces": list(self.provinces),
            "sponsor_units": list(self.sponsor_units),
        }


def person(
    role: Role, provinces: Iterable[str] = (), sponsor_units: Iterable[str] = (), name: str = ""
) -> Identity:
    """Someone new with one role, for a test."""
    subject = str(uuid.uuid4())
    return Identity(subject, name or f"{role.value} {subject[:8]}", (role.value,),
                    tuple(provinces), tuple(sponsor_units))  # fmt: skip


OPERATIONS = Identity("service-account-ketnghia-operations", "ketnghia-operations",
                      (Role.OPERATIONS.value,))  # fmt: skip


def demo_users(realm_file: Path = REALM_FILE) -> dict[str, Identity]:
    """The realm's demo users by username, with the claims Keycloak gives them."""
    realm = json.loads(realm_file.read_text())
    found = {}
    for user in realm.get("users", []):
        if user.get("serviceAccountClientId"):
            continue
        attributes = user.get("attributes", {})
        name = " ".join(filter(None, (user.get("lastName"), user.get("firstName"))))
        found[user["username"]] = Identity(
            subject=str(uuid.uuid5(uuid.NAMESPACE_URL, f"ketnghia:{user['username']}")),
            name=name or user["username"],
            roles=tuple(user.get("realmRoles", ())),
            provinces=tuple(attributes.get("provinces", ())),
            sponsor_units=tuple(attributes.get("sponsor_units", ())),
        )
    return found


@dataclass(frozen=True)
class Trust:
    """The issuer services under test trust, and how a test signs in there: as a demo user
    of the realm (by username) or as the operations service account."""

    issuer: str
    jwks_url: str | None
    sign_in: Callable[[str], httpx.Auth]
    operations: httpx.Auth


@dataclass
class LocalIssuer:
    """Signs tokens with its own RSA key; `jwks_url` publishes the public half."""

    port: int = 0
    kid: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    published: list[dict[str, Any]] = field(default_factory=list)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}/realms/ketnghia-test"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/certs"

    def settings(self) -> dict[str, str]:
        """What a service's settings need to trust this issuer."""
        return {"auth_issuer": self.issuer, "auth_jwks_url": self.jwks_url}

    def publish(self, key: rsa.RSAPrivateKey, kid: str) -> None:
        """Publish another key (a rotation: the services must fetch it on first sight)."""
        self.published.append(_jwk(key, kid))

    def token(
        self,
        identity: Identity,
        *,
        audience: str | Iterable[str] = AUDIENCES,
        lifetime: float = 900,
        issued_at: float | None = None,
        issuer: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
        algorithm: str = "RS256",
    ) -> str:
        now = time.time() if issued_at is None else issued_at
        claims = {
            **identity.claims(),
            "iss": issuer or self.issuer,
            "aud": audience if isinstance(audience, str) else list(audience),
            "iat": int(now),
            "exp": int(now + lifetime),
            "typ": "Bearer",
        }
        headers = {"kid": kid or self.kid}
        return jwt.encode(claims, key or self.key, algorithm=algorithm, headers=headers)

    def headers(self, identity: Identity) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(identity)}"}

    def auth(self, identity: Identity) -> httpx.Auth:
        """For an httpx client or request: signed in as `identity`."""
        return _Signed(self, identity)

    def trust(self) -> Trust:
        users = demo_users()
        return Trust(
            self.issuer, self.jwks_url, lambda name: self.auth(users[name]), self.auth(OPERATIONS)
        )


class _Signed(httpx.Auth):
    """A token signed once and used until a minute before it expires (signing costs about
    a millisecond: too much per request for the benchmarks)."""

    def __init__(self, issuer: LocalIssuer, identity: Identity, lifetime: float = 900) -> None:
        self.issuer, self.identity, self.lifetime = issuer, identity, lifetime
        self._token, self._renew_at = "", 0.0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if time.monotonic() >= self._renew_at:
            self._token = self.issuer.token(self.identity, lifetime=self.lifetime)
            self._renew_at = time.monotonic() + self.lifetime - 60
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**public, "kid": kid, "use": "sig", "alg": "RS256"}


@contextmanager
def local_issuer() -> Iterator[LocalIssuer]:
    """A `LocalIssuer` whose keys are served on a free local port while in use."""
    issuer = LocalIssuer()
    issuer.publish(issuer.key, issuer.kid)

    class Keys(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"keys": issuer.published}).encode()
            self.send_response(200 if self.path.endswith("/certs") else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Keys)
    issuer.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield issuer
    finally:
        server.shutdown()
        server.server_close()
