"""Who is signed in: a session per browser, kept in the app's memory and named by a random
cookie value. It holds the person's tokens (never sent to the browser), what the access
token says of them, the form token that guards their forms (CSRF), and the consistency
token of their last write.

A sign-in under way is kept in the browser, not here: its state, PKCE verifier and the
page to go back to travel in a cookie signed with the app's key, valid ten minutes (so
asking for sign-ins without end fills no memory and pushes out no one else's)."""

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field

from services.web.adapters.oidc import Tokens
from shared.auth import Principal

LOGIN_SECONDS = 600
MAX_SESSIONS = 10_000  # the oldest go first beyond this: memory stays bounded


@dataclass
class Session:
    id: str
    principal: Principal
    tokens: Tokens
    expires_at: float
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    written: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PendingLogin:
    verifier: str
    after: str  # the page to go back to
    started: float


def same(given: str, expected: str) -> bool:
    """Constant-time equality of two texts, whatever characters a hostile one holds."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


class Sessions:
    def __init__(self, hours: float, key: bytes | None = None) -> None:
        self._seconds = hours * 3600
        self._key = key or secrets.token_bytes(32)
        self._sessions: dict[str, Session] = {}

    def start_login(self, verifier: str, after: str) -> tuple[str, str]:
        """A new sign-in: its state, and the signed cookie that carries it."""
        state = secrets.token_urlsafe(24)
        data = json.dumps({"s": state, "v": verifier, "a": after, "t": time.time()})
        payload = base64.urlsafe_b64encode(data.encode()).decode()
        return state, f"{payload}.{self._sign(payload)}"

    def finish_login(self, cookie: str, state: str) -> PendingLogin | None:
        """The sign-in this browser started with `state`, if its cookie is ours and fresh."""
        payload, _, signature = cookie.partition(".")
        if not payload or not same(signature, self._sign(payload)):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload.encode()))
        except ValueError:
            return None
        if not same(state, data["s"]) or time.time() - data["t"] > LOGIN_SECONDS:
            return None
        return PendingLogin(data["v"], data["a"], data["t"])

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()

    def open(self, principal: Principal, tokens: Tokens) -> Session:
        self._forget_old()
        session = Session(secrets.token_urlsafe(32), principal, tokens, time.time() + self._seconds)
        self._sessions[session.id] = session
        return session

    def find(self, session_id: str | None) -> Session | None:
        session = self._sessions.get(session_id or "")
        if session is None or session.expires_at < time.time():
            return None
        return session

    def close(self, session_id: str | None) -> Session | None:
        return self._sessions.pop(session_id or "", None)

    def _forget_old(self) -> None:
        now = time.time()
        for key in [k for k, s in self._sessions.items() if s.expires_at < now]:
            del self._sessions[key]
        while len(self._sessions) >= MAX_SESSIONS:
            del self._sessions[next(iter(self._sessions))]
