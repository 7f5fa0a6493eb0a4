"""Who is signed in: a session per browser, kept in the app's memory and named by a random
cookie value. It holds the person's tokens (never sent to the browser), what the access
token says of them, the form token that guards their forms (CSRF), and the consistency
token of their last write. Sign-ins under way are kept for ten minutes."""

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


class Sessions:
    def __init__(self, hours: float) -> None:
        self._seconds = hours * 3600
        self._sessions: dict[str, Session] = {}
        self._logins: dict[str, PendingLogin] = {}

    def start_login(self, verifier: str, after: str) -> str:
        self._forget_old()
        state = secrets.token_urlsafe(24)
        self._logins[state] = PendingLogin(verifier, after, time.time())
        return state

    def finish_login(self, state: str) -> PendingLogin | None:
        pending = self._logins.pop(state, None)
        if pending is None or time.time() - pending.started > LOGIN_SECONDS:
            return None
        return pending

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
        for state in [s for s, p in self._logins.items() if now - p.started > LOGIN_SECONDS]:
            del self._logins[state]
        for key in [k for k, s in self._sessions.items() if s.expires_at < now]:
            del self._sessions[key]
        while len(self._sessions) >= MAX_SESSIONS:
            del self._sessions[next(iter(self._sessions))]
        while len(self._logins) >= MAX_SESSIONS:
            del self._logins[next(iter(self._logins))]
