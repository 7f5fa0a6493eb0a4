"""Signing in and out: `/login` sends the browser to Keycloak (authorization code + PKCE),
`/callback` takes it back, opens a session and sets its cookie; `/logout` (a form, with
its CSRF token) closes the session here and at Keycloak."""

import time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from services.web.adapters.oidc import Provider, SignInFailed, pkce_pair
from services.web.config import Settings
from services.web.entrypoints.rendering import COOKIE, LOGIN_COOKIE, page, session_of
from services.web.service_layer.sessions import Sessions, same
from shared.auth import IdentityProviderUnavailable, TokenVerifier, Unauthenticated

router = APIRouter()


def _safe(after: str | None) -> str:
    """Only a path of this app: never a redirect to another site."""
    if not after or not after.startswith("/") or after.startswith("//") or "\\" in after:
        return "/"
    return after


@router.get("/login")
async def login(request: Request, next: str | None = None) -> Response:
    settings: Settings = request.app.state.settings
    provider: Provider = request.app.state.provider
    sessions: Sessions = request.app.state.sessions
    verifier, challenge = pkce_pair()
    state, carried = sessions.start_login(verifier, _safe(next))
    try:
        target = await provider.authorization_url(f"{settings.base_url}/callback", state, challenge)
    except SignInFailed as failed:
        return page(request, "error.html", {"title": "Không đăng nhập được",
                                            "message": str(failed)}, status=503)  # fmt: skip
    response = RedirectResponse(target, status_code=303)
    # the browser that started the sign-in is the one that finishes it
    response.set_cookie(LOGIN_COOKIE, carried, max_age=600, httponly=True, samesite="lax",
                        secure=settings.secure_cookies, path="/callback")  # fmt: skip
    return response


@router.get("/callback")
async def callback(
    request: Request, state: str = "", code: str = "", error: str | None = None
) -> Response:
    settings: Settings = request.app.state.settings
    sessions: Sessions = request.app.state.sessions
    provider: Provider = request.app.state.provider
    verifier: TokenVerifier = request.app.state.verifier
    pending = sessions.finish_login(request.cookies.get(LOGIN_COOKIE, ""), state)
    if error or pending is None or not code:
        return page(request, "error.html", {
            "title": "Đăng nhập không thành công / sign-in failed",
            "message": "Phiên đăng nhập đã hết hạn hoặc không hợp lệ: hãy đăng nhập lại.",
            "retry": "/login",
        }, status=400)  # fmt: skip
    try:
        tokens = await provider.exchange(code, pending.verifier, f"{settings.base_url}/callback")
        principal = await verifier.verify(tokens.access_token)
    except (SignInFailed, Unauthenticated, IdentityProviderUnavailable) as failed:
        status = failed.status if isinstance(failed, SignInFailed) else 502
        return page(request, "error.html", {"title": "Đăng nhập không thành công",
                                            "message": str(failed), "retry": "/login"},
                    status=status)  # fmt: skip
    sessions.close(request.cookies.get(COOKIE))  # a sign-in replaces this browser's session
    session = sessions.open(principal, tokens)
    response = RedirectResponse(pending.after, status_code=303)
    response.set_cookie(COOKIE, session.id, max_age=int(session.expires_at - time.time()),
                        httponly=True, samesite="lax", secure=settings.secure_cookies)  # fmt: skip
    response.delete_cookie(LOGIN_COOKIE, path="/callback")
    return response


@router.post("/logout")
async def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    settings: Settings = request.app.state.settings
    sessions: Sessions = request.app.state.sessions
    provider: Provider = request.app.state.provider
    session = session_of(request)
    if session is None or not same(csrf, session.csrf):
        return RedirectResponse("/", status_code=303)
    sessions.close(session.id)
    try:
        target = await provider.logout_url(session.tokens.id_token, f"{settings.base_url}/")
    except SignInFailed:
        target = "/"
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(COOKIE)
    return response
