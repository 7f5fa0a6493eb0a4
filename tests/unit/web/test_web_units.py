"""The web app's own logic, without infrastructure: Vietnamese numbers and dates, the
recording form's body and where a service's reasons are shown, sessions, and the sign-in
routes' refusals (no open redirect, no sign-in finished by another browser, no page
without a session)."""

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter, ValidationError

from services.web.adapters.oidc import Tokens, pkce_pair
from services.web.adapters.services import ServiceError
from services.web.config import Settings
from services.web.domain.formatting import day, number, vnd
from services.web.entrypoints import pages
from services.web.entrypoints.auth import _safe
from services.web.entrypoints.http import create_app
from services.web.entrypoints.rendering import COOKIE
from services.web.service_layer.sessions import Sessions
from services.web.service_layer.views import activity_body, errors_by_field
from shared.auth import Principal, Role


def test_numbers_and_dates_are_written_the_vietnamese_way() -> None:
    assert vnd(21_750_000) == "21.750.000 đ"
    assert number("1.5") == "1,5"
    assert number(-1234) == "-1.234"
    assert number(None) == "–"
    assert day(date(2024, 9, 30)) == "30/09/2024"
    assert day("2024-09-30T14:05:00+07:00") == "30/09/2024 14:05"
    assert day(datetime(2025, 7, 1, 8, 0)) == "01/07/2025 08:00"


FORM = {"commune": "pre-2025:23116", "sponsor_unit_id": "u-1", "occurred_on": "2024-11-20",
        "category": "gifts_in_kind", "description": "Quà", "value_vnd": "21.750.000"}  # fmt: skip


def test_the_form_becomes_the_services_body() -> None:
    body = activity_body({**FORM, "amount": "2,5", "quantity_unit": "tấn",
                          "beneficiaries_count": "1.200", "beneficiary_kind": "persons",
                          "beneficiary_group": "poor"})  # fmt: skip
    assert body["commune"] == {"edition": "pre-2025", "code": "23116"}
    assert body["value_vnd"] == 21_750_000
    assert body["sponsor_unit_id"] == "u-1"
    assert body["quantity"] == {"amount": "2.5", "unit": "tấn"}
    assert body["beneficiaries"] == [{"count": 1200, "kind": "persons", "group": "poor"}]


def test_co_funding_splits_the_value_between_the_two_units() -> None:
    body = activity_body({**FORM, "co_unit_id": "u-2", "co_value_vnd": "1.750.000"})
    assert body["contributions"] == [
        {"sponsor_unit_id": "u-1", "value_vnd": 20_000_000},
        {"sponsor_unit_id": "u-2", "value_vnd": 1_750_000},
    ]


@pytest.mark.parametrize("value", ["mười triệu", "", "1e9", "9" * 20])
def test_a_value_that_is_no_amount_is_refused_beside_its_field(value: str) -> None:
    with pytest.raises(ServiceError) as refused:
        activity_body({**FORM, "value_vnd": value})
    assert list(errors_by_field(refused.value.field_errors)) == ["value_vnd"]


def test_the_services_reasons_go_beside_the_fields_they_name() -> None:
    refused = ServiceError("activities", 422, [
        {"loc": ["body", "quantity", "amount"], "msg": "quá lớn"},
        {"loc": ["body", "contributions", 1, "sponsor_unit_id"], "msg": "không là thành viên"},
        {"loc": ["body", "commune_code"], "msg": "xã không thuộc phân công"},
        {"loc": ["body"], "msg": "thiếu dữ liệu"},
    ])  # fmt: skip
    shown = errors_by_field(refused.field_errors)
    assert shown == {"amount": "quá lớn", "co_value_vnd": "không là thành viên",
                     "commune": "xã không thuộc phân công", "form": "thiếu dữ liệu"}  # fmt: skip


def test_a_sign_in_is_finished_once_and_sessions_expire() -> None:
    sessions = Sessions(hours=1 / 3600)  # one second
    state, cookie = sessions.start_login("verifier", "/provinces/60")
    found = sessions.finish_login(cookie, state)
    assert found is not None
    assert (found.verifier, found.after) == ("verifier", "/provinces/60")
    assert sessions.finish_login(cookie, "another state") is None
    forged = cookie[:-1] + ("0" if cookie[-1] != "0" else "1")
    assert sessions.finish_login(forged, state) is None  # not signed by this app
    assert Sessions(hours=1).finish_login(cookie, state) is None  # nor by another key
    assert sessions.finish_login("é.é", "é") is None  # hostile text: refused, no error
    me = Principal("s", "Trần Thị B", frozenset({Role.UNIT_CLERK}))
    opened = sessions.open(me, Tokens("a", "r", "i", 0))
    assert sessions.find(opened.id) is opened
    opened.expires_at = 0
    assert sessions.find(opened.id) is None


def test_pkce_challenge_is_the_s256_of_the_verifier() -> None:
    import base64
    import hashlib

    verifier, challenge = pkce_pair()
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert challenge == digest.decode()
    assert 43 <= len(verifier) <= 128


@pytest.mark.parametrize(
    ("after", "goes"),
    [("/provinces/60", "/provinces/60"), ("//evil.example/x", "/"), ("https://evil.example", "/"),
     ("/\\evil.example", "/"), (None, "/")],
)  # fmt: skip
def test_after_sign_in_only_a_page_of_this_app(after: str | None, goes: str) -> None:
    assert _safe(after) == goes


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(auth_issuer="http://127.0.0.1:9/realms/none"))) as client:
        yield client


@pytest.mark.parametrize(
    "path", ["/", "/provinces/60", "/communes/pre-2025/23116", "/record", "/import",
             "/provinces/60/locks", "/exports/provinces/60/summary.xlsx"],
)  # fmt: skip
def test_every_page_asks_to_sign_in_first(client: TestClient, path: str) -> None:
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith("/login?next=")


def test_a_callback_this_browser_did_not_start_is_refused(client: TestClient) -> None:
    answer = client.get("/callback", params={"state": "forged", "code": "x"})
    assert answer.status_code == 400
    assert "đăng nhập lại" in answer.text.lower()


def test_pages_load_nothing_from_other_hosts(client: TestClient) -> None:
    answer = client.get("/callback")
    policy = answer.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert answer.headers["X-Frame-Options"] == "DENY"


def test_a_malformed_address_is_a_page_that_does_not_echo_it(client: TestClient) -> None:
    answer = client.get("/callback", params={"state": "x" * 10})  # fine: a page, not JSON
    assert answer.headers["content-type"].startswith("text/html")
    bad = client.get("/exports/provinces/6%000/summary.xlsx", follow_redirects=False)
    assert bad.status_code in (303, 422)  # sign-in first, or refused: never a 500


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_the_chart_palette_reads_against_white() -> None:
    """WCAG contrast of each chart colour against the white page: at least 4.5:1."""
    from services.web.service_layer.views import PALETTE

    ratios = {c: (1.05) / (_luminance(c) + 0.05) for c in PALETTE}
    assert all(ratio >= 4.5 for ratio in ratios.values()), ratios
    assert len(set(PALETTE)) == len(PALETTE) >= 6  # categories told apart


@pytest.mark.parametrize("value", ["²", "١٢٣", "1.5.0"])
def test_digits_of_other_scripts_are_no_amount(value: str) -> None:
    with pytest.raises(ServiceError):
        activity_body({**FORM, "value_vnd": value})
    with pytest.raises(ServiceError):
        activity_body({**FORM, "beneficiaries_count": value})


@pytest.mark.parametrize(
    ("written", "read"), [("1.500", "1500"), ("2,5", "2.5"), ("1.500,25", "1500.25"), ("15", "15")]
)
def test_quantities_are_read_the_vietnamese_way(written: str, read: str) -> None:
    assert activity_body({**FORM, "amount": written})["quantity"]["amount"] == read


@pytest.mark.parametrize("written", ["1.5", "1,5,5", "x", "1 500"])
def test_an_ambiguous_quantity_is_refused(written: str) -> None:
    with pytest.raises(ServiceError):
        activity_body({**FORM, "amount": written})


def test_moments_are_shown_in_vietnam_time() -> None:
    assert day("2024-09-30T20:00:00+00:00") == "01/10/2024 03:00"


@pytest.mark.parametrize("path", ["/callback?state=%C3%A9&code=x", "/provinces/%D9%A1%D9%A2"])
def test_hostile_text_in_a_page_address_is_never_a_500(client: TestClient, path: str) -> None:
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code < 500
    assert answer.headers["Cache-Control"] == "no-store"


def test_a_hostile_csrf_token_on_logout_is_no_500(client: TestClient) -> None:
    answer = client.post("/logout", data={"csrf": "é"}, follow_redirects=False)
    assert answer.status_code == 303


@pytest.mark.parametrize("code", ["٦٠", "６０", "٢٣٠٧٤", "２３０７４"])
def test_a_page_address_takes_codes_in_ascii_digits_only(code: str) -> None:
    """Other scripts' digits are digits to Python's `\\d`: in a signed-in coordinator's page
    address they are a 422, never a lookup (signed out, the sign-in comes first)."""
    for path_type in (pages.Province, pages.Code):
        with pytest.raises(ValidationError):
            TypeAdapter(path_type).validate_python(code)
    assert TypeAdapter(pages.Code).validate_python("23074") == "23074"
    assert TypeAdapter(pages.Province).validate_python("60") == "60"


UUID = "0b6f2c1e-0000-4000-8000-000000000001"
IF_1 = {"If-Match": '"1"'}
# Each setup form, what it posts, and what the web app must ask of which service then:
# method, service, path, JSON body, If-Match (the version the form was drawn from).
SETUP_FORMS: list[tuple[str, dict[str, str], tuple[str, str, str, Any, dict[str, str]]]] = [
    ("/provinces/60/programmes", {"name": "CT", "start_year": "2021", "end_year": "2025"},
     ("POST", "registry", "/programmes", {"province": "60", "name": "CT", "start_year": 2021,
      "end_year": 2025, "scope": "", "legal_bases": []}, {})),
    ("/provinces/60/sponsor-units", {"name": "Sở Y tế", "kind": "department"},
     ("POST", "registry", "/sponsor-units",
      {"province": "60", "name": "Sở Y tế", "kind": "department"}, {})),
    ("/provinces/60/assignments", {"programme_id": UUID, "edition": "pre-2025", "code": "22945"},
     ("POST", "registry", "/assignments", {"programme_id": UUID, "target": {"kind": "commune",
      "edition": "pre-2025", "code": "22945"}, "members": [], "leads": {}}, {})),
    (f"/provinces/60/assignments/{UUID}/succession", {"version": "3"},
     ("POST", "registry", f"/assignments/{UUID}/succession", {}, {"If-Match": '"3"'})),
    (f"/provinces/60/programmes/{UUID}/legal-bases",
     {"version": "1", "number": "1/QĐ", "issued_on": "2024-01-02", "issuer": "UBND"},
     ("POST", "registry", f"/programmes/{UUID}/legal-bases",
      {"number": "1/QĐ", "issued_on": "2024-01-02", "issuer": "UBND"}, IF_1)),
    (f"/provinces/60/assignments/{UUID}/members",
     {"version": "1", "sponsor_unit_id": UUID, "joined_on": "2024-01-02"},
     ("POST", "registry", f"/assignments/{UUID}/members",
      {"sponsor_unit_id": UUID, "joined_on": "2024-01-02"}, IF_1)),
    (f"/provinces/60/assignments/{UUID}/leave",
     {"version": "1", "sponsor_unit_id": UUID, "left_on": "2024-01-02"},
     ("POST", "registry", f"/assignments/{UUID}/members/{UUID}/leave",
      {"left_on": "2024-01-02"}, IF_1)),
    (f"/provinces/60/assignments/{UUID}/lead",
     {"version": "1", "year": "2024", "sponsor_unit_id": UUID},
     ("PUT", "registry", f"/assignments/{UUID}/leads/2024", {"sponsor_unit_id": UUID}, IF_1)),
    (f"/provinces/60/assignments/{UUID}/end",
     {"version": "1", "ended_on": "2024-01-02", "reason": "xong"},
     ("POST", "registry", f"/assignments/{UUID}/end",
      {"ended_on": "2024-01-02", "reason": "xong"}, IF_1)),
    (f"/provinces/60/assignments/{UUID}/continuation", {"version": "1", "communes": "22945"},
     ("POST", "registry", f"/assignments/{UUID}/continuation", {"communes": ["22945"]}, IF_1)),
    (f"/assignments/{UUID}/plan", {"year": "2024", "description": "Bò giống"},
     ("POST", "activities", f"/assignments/{UUID}/plans", {"year": 2024, "commitments": [
      {"description": "Bò giống", "category": None, "quarter": None}]}, {})),
]  # fmt: skip


@dataclass
class Asked:
    """What the web app asked of the services, through stand-ins for them."""

    requests: list[tuple[str, str, httpx.Request]] = field(default_factory=list)

    def stand_in(self, service: str) -> httpx.AsyncClient:
        def answer(request: httpx.Request) -> httpx.Response:
            self.requests.append((service, request.method, request))
            return httpx.Response(200 if request.method == "GET" else 201, json=[])

        return httpx.AsyncClient(
            base_url=f"http://{service}", transport=httpx.MockTransport(answer)
        )

    def writes(self) -> list[tuple[str, str, str, Any, dict[str, str]]]:
        return [
            (method, service, request.url.path, json.loads(request.content),
             {"If-Match": request.headers["If-Match"]} if "If-Match" in request.headers else {})
            for service, method, request in self.requests if method != "GET"
        ]  # fmt: skip


def signed_in_with_stand_ins(client: TestClient) -> tuple[Asked, Any]:
    """A coordinator of province 60 signed in; the services stood in for (`Asked`)."""
    services = Asked()
    state: Any = client.app.state  # type: ignore[attr-defined]
    for replaced in state.clients.values():
        client.portal.call(replaced.aclose)  # type: ignore[union-attr]
    state.clients = {name: services.stand_in(name) for name in ("registry", "activities")}
    me = Principal("s", "Nguyễn Văn A", frozenset({Role.PROVINCE_COORDINATOR}), frozenset({"60"}))
    session = state.sessions.open(me, Tokens("a", "r", "i", time.time() + 3600))
    client.cookies.set(COOKIE, session.id)
    return services, session


@pytest.mark.parametrize(("path", "form", "asked"), SETUP_FORMS, ids=[p for p, *_ in SETUP_FORMS])
@pytest.mark.parametrize("csrf", [None, "", "forged", "é"])
def test_a_setup_form_asks_its_service_only_with_its_csrf_token(
    client: TestClient,
    path: str,
    form: dict[str, str],
    asked: tuple[str, str, str, Any, dict[str, str]],
    csrf: str | None,
) -> None:
    services, session = signed_in_with_stand_ins(client)
    sent = form if csrf is None else {**form, "csrf": csrf}
    answer = client.post(path, data=sent, follow_redirects=False)
    assert answer.status_code == 403, answer.text
    assert "hết hạn" in answer.text
    assert services.requests == []  # refused before any service was asked
    client.cookies.set(COOKIE, session.id)
    right = client.post(path, data={**form, "csrf": session.csrf}, follow_redirects=False)
    assert right.status_code == 303, right.text
    assert services.writes() == [asked]


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/provinces/60/programmes",
         {"name": "C" * 301, "start_year": "2021", "end_year": "2025"}),
        ("/provinces/60/sponsor-units", {"name": "Sở", "kind": "=HYPERLINK(1)"}),
        (f"/provinces/60/assignments/{UUID}/end",
         {"version": "1" + "0" * 18, "ended_on": "2024-01-02", "reason": "xong"}),
        (f"/provinces/60/assignments/{UUID}/end",
         {"version": "1", "ended_on": "2024-13-45", "reason": "xong"}),
        (f"/provinces/60/assignments/{UUID}/continuation", {"version": "1", "communes": "2" * 601}),
        (f"/assignments/{UUID}/plan", {"year": "99999", "description": "Bò"}),
        (f"/assignments/{UUID}/plan", {"year": "2024", "description": "B" * 2001}),
    ],
    ids=["name of 301", "formula for a kind", "version past 10^18", "no such day",
         "601 letters of codes", "year 99999", "description of 2001"],
)  # fmt: skip
def test_a_hostile_setup_form_is_a_422_and_no_service_is_asked_to_change(
    client: TestClient, path: str, form: dict[str, str]
) -> None:
    services, session = signed_in_with_stand_ins(client)
    answer = client.post(path, data={**form, "csrf": session.csrf}, follow_redirects=False)
    assert answer.status_code == 422, answer.text[:300]
    assert services.writes() == []
