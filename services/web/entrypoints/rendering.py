"""What every page shares: the templates and their filters (Vietnamese numbers and dates),
the signed-in session and the services called on its behalf, the forms' CSRF check, and
errors shown as pages people can read (a service's 403 says what is missing)."""

import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from services.web.adapters.oidc import Provider, SignInFailed
from services.web.adapters.services import ServiceError, Services
from services.web.domain import formatting
from services.web.service_layer.sessions import Session, Sessions, same
from shared.auth import IdentityProviderUnavailable, Role, TokenVerifier, Unauthenticated
from shared.catalogue import BENEFICIARY_GROUPS, BENEFICIARY_KINDS, CATEGORIES, FUNDING_SOURCES
from shared.editions import FROM_2025, PRE_2025

COOKIE = "ketnghia_session"
LOGIN_COOKIE = "ketnghia_login"
REFRESH_BEFORE = 30  # seconds before the access token runs out

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.filters |= {
    "vnd": formatting.vnd, "number": formatting.number, "day": formatting.day,
    "edition": formatting.edition, "category": lambda code: CATEGORIES.get(code, code),
    "kind": lambda code: BENEFICIARY_KINDS.get(code, code),
    "group": lambda code: BENEFICIARY_GROUPS.get(code, code),
    "funding": lambda code: FUNDING_SOURCES.get(code, code),
    "urlquote": lambda text: quote(str(text), safe=""),
}  # fmt: skip
TEMPLATES.env.globals |= {"PRE_2025": PRE_2025, "FROM_2025": FROM_2025}
ROLE_LABELS = {
    Role.NATIONAL_VIEWER: "Xem toàn quốc", Role.PROVINCE_COORDINATOR: "Điều phối viên tỉnh",
    Role.UNIT_CLERK: "Cán bộ đơn vị", Role.PROVINCE_AUDITOR: "Kiểm tra tỉnh",
    Role.OPERATIONS: "Vận hành",
}  # fmt: skip


class SignInNeeded(Exception):
    def __init__(self, after: str) -> None:
        self.after = after


def session_of(request: Request) -> Session | None:
    sessions: Sessions = request.app.state.sessions
    return sessions.find(request.cookies.get(COOKIE))


async def _signed_in(request: Request) -> Session:
    """The person's session, its access token refreshed when it is about to run out; else
    a sign-in, coming back to this page."""
    session = session_of(request)
    after = _back_to(request)
    if session is None:
        raise SignInNeeded(after)
    if session.tokens.expires_at - REFRESH_BEFORE < time.time():
        provider: Provider = request.app.state.provider
        verifier: TokenVerifier = request.app.state.verifier
        if session.tokens.refresh_token is None:
            raise SignInNeeded(after)
        try:
            session.tokens = await provider.refresh(session.tokens.refresh_token)
            session.principal = await verifier.verify(session.tokens.access_token)
        except (SignInFailed, Unauthenticated, IdentityProviderUnavailable) as failed:
            request.app.state.sessions.close(session.id)
            raise SignInNeeded(after) from failed
    return session


Signed = Annotated[Session, Depends(_signed_in)]


def _back_to(request: Request) -> str:
    """Where to come back after signing in: this page; for a form sent after the session
    ended, the page the form was on (a POST cannot be repeated by a redirect)."""
    if request.method == "GET":
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    came_from = urlsplit(request.headers.get("referer", ""))
    if came_from.netloc == request.url.netloc and came_from.path.startswith("/"):
        return came_from.path + (f"?{came_from.query}" if came_from.query else "")
    return "/"


def services_for(request: Request, session: Session) -> Services:
    return Services(request.app.state.clients, session.tokens.access_token, session.written)


def check_csrf(session: Session, token: str) -> None:
    if not same(token or "", session.csrf):
        raise ServiceError("web", 403, "Biểu mẫu đã hết hạn: hãy tải lại trang / stale form")


def page(
    request: Request, template: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    session = session_of(request)
    principal = session.principal if session else None
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"session": session, "me": principal,
         "role": ROLE_LABELS.get(principal.role) if principal and principal.role else None,
         **context},
        status_code=status,
    )  # fmt: skip


async def _service_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ServiceError)
    if error.status == 401:  # the service no longer takes the token: sign in afresh
        request.app.state.sessions.close(request.cookies.get(COOKIE))
        response = page(request, "error.html", {
            "title": "Phiên đăng nhập không còn hiệu lực / signed out",
            "message": "Dịch vụ không nhận phiên đăng nhập này nữa: hãy đăng nhập lại.",
            "retry": f"/login?next={quote(_back_to(request), safe='/')}",
        }, status=401)  # fmt: skip
        response.delete_cookie(COOKIE)
        return response
    titles = {400: "Yêu cầu không hợp lệ / bad request", 403: "Không có quyền / not allowed",
              404: "Không tìm thấy / not found", 409: "Xung đột / conflict",
              413: "Tệp quá lớn / too large", 422: "Dữ liệu không hợp lệ / invalid",
              503: "Dịch vụ chưa sẵn sàng / unavailable"}  # fmt: skip
    # another refusal is the request's (400), a failure the service's (502)
    status = error.status if error.status in titles else 400 if error.status < 500 else 502
    return page(request, "error.html", {"title": titles.get(status, "Lỗi dịch vụ"),
                                        "message": error.message, "service": error.service},
                status=status)  # fmt: skip


async def _sign_in(request: Request, needed: Exception) -> Response:
    assert isinstance(needed, SignInNeeded)
    return RedirectResponse(f"/login?next={quote(needed.after, safe='/')}", status_code=303)


async def _invalid(request: Request, error: Exception) -> Response:
    """A malformed address or form: which part, never the input echoed back."""
    assert isinstance(error, RequestValidationError)
    parts = sorted({".".join(str(p) for p in e.get("loc", ())[1:]) for e in error.errors()})
    return page(request, "error.html", {
        "title": "Địa chỉ hoặc biểu mẫu không hợp lệ / invalid request",
        "message": f"Không hợp lệ / invalid: {', '.join(parts)}",
    }, status=422)  # fmt: skip


def error_handlers() -> dict[type[Exception], Any]:
    return {ServiceError: _service_error, SignInNeeded: _sign_in,
            RequestValidationError: _invalid}  # fmt: skip
