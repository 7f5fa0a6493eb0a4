"""Signing people in at the identity provider (Keycloak): the authorization code flow with
PKCE (S256) for a confidential client, the refresh of an expired access token, and the
address that signs them out there too."""

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx


class SignInFailed(Exception):
    """The provider refused the code or the refresh (`status` 400), or could not be
    reached (502). The message is ours: the provider's answer is not shown."""

    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str | None
    id_token: str | None
    expires_at: float  # time.time() when the access token runs out

    @classmethod
    def from_answer(cls, answer: dict[str, Any]) -> "Tokens":
        return cls(
            answer["access_token"],
            answer.get("refresh_token"),
            answer.get("id_token"),
            time.time() + float(answer.get("expires_in", 60)),
        )


def pkce_pair() -> tuple[str, str]:
    """A code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class Provider:
    """The provider's endpoints, read once from its discovery document."""

    def __init__(
        self, issuer: str, client_id: str, client_secret: str, client: httpx.AsyncClient
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self._http = client
        self._endpoints: dict[str, Any] | None = None

    async def _endpoint(self, name: str) -> str:
        if self._endpoints is None:
            try:
                answer = await self._http.get(f"{self.issuer}/.well-known/openid-configuration")
                answer.raise_for_status()
            except httpx.HTTPError as error:
                raise SignInFailed(f"{self.issuer} không trả lời / does not answer") from error
            self._endpoints = answer.json()
        return str(self._endpoints[name])

    async def authorization_url(self, redirect_uri: str, state: str, challenge: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid",
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return f"{await self._endpoint('authorization_endpoint')}?{urlencode(query)}"

    async def exchange(self, code: str, verifier: str, redirect_uri: str) -> Tokens:
        return await self._token(
            {"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
             "redirect_uri": redirect_uri}
        )  # fmt: skip

    async def refresh(self, refresh_token: str) -> Tokens:
        return await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def _token(self, form: dict[str, str]) -> Tokens:
        form |= {"client_id": self.client_id, "client_secret": self._secret}
        try:
            answer = await self._http.post(await self._endpoint("token_endpoint"), data=form)
        except httpx.HTTPError as error:
            raise SignInFailed(f"{self.issuer} không trả lời / does not answer") from error
        if 400 <= answer.status_code < 500:
            raise SignInFailed(
                "mã đăng nhập không hợp lệ hoặc đã dùng: hãy đăng nhập lại / the sign-in "
                "code is invalid or used",
                status=400,
            )
        if answer.status_code != 200:
            raise SignInFailed(f"{self.issuer} trả lời lỗi {answer.status_code} / failed")
        return Tokens.from_answer(answer.json())

    async def logout_url(self, id_token: str | None, after: str) -> str:
        query = {"client_id": self.client_id, "post_logout_redirect_uri": after}
        if id_token:
            query["id_token_hint"] = id_token
        return f"{await self._endpoint('end_session_endpoint')}?{urlencode(query)}"
