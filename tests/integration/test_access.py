"""Who may read and write what: each role × each endpoint × own province, other province
and other unit, against the real services on the demo's data (Bình Thuận, 60, merged into
Lâm Đồng, 68, in 2025; Điện Biên, 11, is the other province).

People are the realm's demo users (`deploy/keycloak/realm-ketnghia.json`); here their
tokens come from the local issuer, in `test_access_keycloak.py` from the real Keycloak.
A refusal must be a 403 naming the missing scope and must leave no event behind; no
token, or a forged one, must be a 401 with `WWW-Authenticate`. The matrix and its counts
are printed (`pytest -s`).
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.activities.demo import ACTIVITIES
from shared.demo_cases import (
    BHXH,
    HOI_NONG_DAN_BT,
    SO_CONG_THUONG,
    VP_DOAN,
    demo_assignment_id,
    demo_unit_id,
)
from shared.devstack.signing import Trust, demo_users
from shared.metrics import scraped
from shared.tables import events
from tests.integration.conftest import eventually

NATIONAL = "quocgia"
COORDINATOR = "dieuphoi.binhthuan"  # Bình Thuận (60)
COORDINATOR_2025 = "dieuphoi.lamdong"  # Lâm Đồng (68): reaches 60 through the lineage
AUDITOR_2025 = "kiemtoan.lamdong"
OTHER_PROVINCE = "dieuphoi.dienbien"  # Điện Biên (11)
CLERK = "canbo.socongthuong"  # Sở Công Thương: a member of Đông Giang's assignment
OTHER_UNIT = "canbo.hoinongdan"  # Hội Nông dân: a unit of 60, not on Đông Giang
PEOPLE = [NATIONAL, COORDINATOR, COORDINATOR_2025, AUDITOR_2025, OTHER_PROVINCE, CLERK, OTHER_UNIT]
ANONYMOUS, FORGED = "(no token)", "(forged token)"
COLUMNS = {NATIONAL: "nat", COORDINATOR: "c60", COORDINATOR_2025: "c68", AUDITOR_2025: "a68",
           OTHER_PROVINCE: "c11", CLERK: "clk", OTHER_UNIT: "oclk", ANONYMOUS: "anon",
           FORGED: "forg"}  # fmt: skip

READS_60 = {NATIONAL, COORDINATOR, COORDINATOR_2025, AUDITOR_2025}
MANAGES_60 = {COORDINATOR, COORDINATOR_2025}
CLERKS_60 = {CLERK, OTHER_UNIT}

DONG_GIANG = demo_assignment_id("60", "commune", "23074")
SCT = demo_unit_id("60", SO_CONG_THUONG)
DONG_GIANG_ACTIVITY = ACTIVITIES[0]["id"]


def new_id() -> str:
    return str(uuid.uuid4())


def activity(unit: str) -> dict[str, Any]:
    return {
        "id": new_id(),
        "assignment_id": DONG_GIANG,
        "commune": {"edition": "pre-2025", "code": "23074"},
        "occurred_on": "2024-10-15",
        "sponsor_unit_id": demo_unit_id("60", unit),
        "category": "scholarship_school_equipment",
        "description": "Tặng quà (kiểm tra quyền)",
        "value_vnd": 1_000_000,
    }


SHEET = (
    "Ngày;Mã xã;Phiên bản đơn vị hành chính;Mã phân công;Đơn vị thực hiện;Hạng mục;Nội dung;"
    "Giá trị (VND);Nguồn kinh phí\n"
    f"16/10/2024;23074;trước 2025;{DONG_GIANG};{SO_CONG_THUONG};Quà tặng bằng hiện vật;"
    "Tặng quà (kiểm tra quyền nhập);500.000;Kinh phí của đơn vị\n"
)


@dataclass
class Case:
    """One request, and who may make it."""

    service: str
    method: str
    path: str
    allowed: set[str]
    scope: str  # what is being reached: own province, other province, other unit...
    body: Callable[[], Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    upload: bool = False

    @property
    def writes(self) -> bool:
        return self.method != "GET"

    @property
    def name(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.method} {self.path}{'?' + query if query else ''}"


def cases(programme_60: str, programme_11: str) -> list[Case]:
    clerk_reads = READS_60 | {CLERK}
    return [
        # -- registry ----------------------------------------------------------------------
        Case("registry", "GET", "/sponsor-units", READS_60 | CLERKS_60, "own province",
             params={"province": "60"}),
        Case("registry", "GET", "/sponsor-units", {NATIONAL, OTHER_PROVINCE}, "other province",
             params={"province": "11"}),
        Case("registry", "GET", f"/sponsor-units/{SCT}", clerk_reads, "own unit"),
        Case("registry", "GET", f"/sponsor-units/{SCT}/targets", clerk_reads, "own unit"),
        Case("registry", "GET", "/programmes", READS_60 | CLERKS_60, "own province",
             params={"province": "60"}),
        Case("registry", "GET", f"/programmes/{programme_60}", READS_60 | CLERKS_60,
             "own province"),
        Case("registry", "GET", f"/programmes/{programme_11}", {NATIONAL, OTHER_PROVINCE},
             "other province"),
        Case("registry", "GET", f"/programmes/{programme_60}/assignments", READS_60,
             "own province"),
        Case("registry", "GET", "/assignments", READS_60 | CLERKS_60, "own province",
             params={"province": "60"}),
        Case("registry", "GET", f"/assignments/{DONG_GIANG}", clerk_reads, "own assignment"),
        Case("registry", "GET", f"/assignments/{DONG_GIANG}/history", clerk_reads,
             "own assignment"),
        Case("registry", "GET", f"/assignments/{DONG_GIANG}/leads/2024", clerk_reads,
             "own assignment"),
        Case("registry", "POST", "/sponsor-units", MANAGES_60, "own province",
             body=lambda: {"id": new_id(), "province": "60", "name": f"Đơn vị {new_id()[:8]}",
                           "kind": "department"}),
        Case("registry", "POST", "/sponsor-units", {OTHER_PROVINCE}, "other province",
             body=lambda: {"id": new_id(), "province": "11", "name": f"Đơn vị {new_id()[:8]}",
                           "kind": "department"}),
        Case("registry", "POST", "/programmes", MANAGES_60, "own province",
             body=lambda: {"id": new_id(), "province": "60", "name": "Chương trình thử",
                           "start_year": 2026, "end_year": 2030, "scope": "thử"}),
        Case("registry", "POST", "/communes/pre-2025/23074/villages", MANAGES_60,
             "own province",
             body=lambda: {"id": new_id(), "province": "60", "kind": "thôn",
                           "name": f"Thôn {new_id()[:6]}"}),
        Case("registry", "PUT", f"/assignments/{DONG_GIANG}/leads/2025", MANAGES_60,
             "own assignment", body=lambda: {"sponsor_unit_id": SCT}),
        # -- activities --------------------------------------------------------------------
        Case("activities", "POST", "/activities", MANAGES_60 | {CLERK}, "own unit",
             body=lambda: activity(SO_CONG_THUONG)),
        Case("activities", "POST", "/activities", MANAGES_60, "other unit (BHXH)",
             body=lambda: activity(BHXH)),
        Case("activities", "POST", "/activities", MANAGES_60, "unit not on the assignment",
             body=lambda: activity(HOI_NONG_DAN_BT)),
        Case("activities", "GET", f"/activities/{DONG_GIANG_ACTIVITY}", clerk_reads,
             "own unit"),
        Case("activities", "GET", "/activities", READS_60, "own province",
             params={"province": "60"}),
        Case("activities", "GET", "/activities", {NATIONAL}, "every province"),
        Case("activities", "GET", "/activities", clerk_reads, "own assignment",
             params={"assignment_id": DONG_GIANG}),
        Case("activities", "POST", "/provinces/60/locks", MANAGES_60, "own province",
             body=lambda: {"id": new_id()[:8], "year": 2099, "quarter": 1,
                           "reason": "thử quyền"}),
        Case("activities", "POST", "/provinces/11/locks", {OTHER_PROVINCE}, "other province",
             body=lambda: {"id": new_id()[:8], "year": 2099, "quarter": 1,
                           "reason": "thử quyền"}),
        Case("activities", "GET", "/provinces/60/locks", READS_60 | CLERKS_60, "own province"),
        Case("activities", "POST", f"/assignments/{DONG_GIANG}/plans", MANAGES_60,
             "own assignment", body=lambda: {"year": 2025, "commitments": []}),
        Case("activities", "GET", f"/assignments/{DONG_GIANG}/plans/2024", clerk_reads,
             "own assignment"),
        Case("activities", "POST", "/imports", MANAGES_60 | CLERKS_60, "own province",
             params={"province": "60"}, upload=True),
        Case("activities", "GET", "/catalogue", set(PEOPLE), "public lists"),
        # -- reporting ---------------------------------------------------------------------
        Case("reporting", "GET", "/reports/provinces/60/summary", READS_60, "own province"),
        Case("reporting", "GET", "/reports/provinces/60/activities", READS_60, "own province",
             params={"year": "2024", "quarter": "4"}),
        Case("reporting", "GET", "/reports/provinces/49/districts/510", {NATIONAL},
             "another province's district"),
        Case("reporting", "GET", "/reports/provinces/60/summary", READS_60, "own province",
             params={"format": "csv"}),
        Case("reporting", "GET", "/reports/provinces/60/coverage", READS_60, "own province",
             params={"year": 2024, "format": "xlsx"}),
        Case("reporting", "GET", "/reports/provinces/60/plans", READS_60, "own province",
             params={"year": 2024}),
        Case("reporting", "GET", "/reports/provinces/68/summary",
             {NATIONAL, COORDINATOR_2025, AUDITOR_2025}, "2025 province"),
        Case("reporting", "GET", "/reports/provinces/11/summary", {NATIONAL, OTHER_PROVINCE},
             "other province"),
        Case("reporting", "GET", "/reports/communes/pre-2025/23074", clerk_reads,
             "own commune"),
        Case("reporting", "GET", "/reports/communes/pre-2025/23074", clerk_reads,
             "own commune", params={"format": "csv"}),
        Case("reporting", "GET", "/reports/communes/pre-2025/23074/activities", clerk_reads,
             "own commune"),
        Case("reporting", "GET", f"/reports/sponsor-units/{SCT}", clerk_reads, "own unit"),
    ]  # fmt: skip


@dataclass
class Tally:
    requests: int = 0
    leaks: int = 0  # a refused caller got an answer
    cross_writes: int = 0  # a refused write left an event behind
    wrongly_refused: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)


async def count_events(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(events)) or 0


async def send(client: httpx.AsyncClient, case: Case, auth: Any) -> httpx.Response:
    options: dict[str, Any] = {"params": case.params}
    if case.body is not None:
        options["json"] = case.body()
    if case.upload:
        options["files"] = {"file": ("quyen.csv", SHEET.encode())}
    answer = await client.request(case.method, case.path, auth=auth, **options)
    if answer.status_code == 202:  # an import: counted once it has finished
        await _followed(client, answer, auth)
    return answer


async def test_each_role_reaches_exactly_its_scope(
    trust: Trust,
    registry: httpx.AsyncClient,
    activities: httpx.AsyncClient,
    reporting: httpx.AsyncClient,
    registry_engine: AsyncEngine,
    activities_engine: AsyncEngine,
    reporting_engine: AsyncEngine,
    loaded: None,
    forged_auth: httpx.Auth,
) -> None:
    clients = {"registry": registry, "activities": activities, "reporting": reporting}
    engines = {"registry": registry_engine, "activities": activities_engine}
    programmes = {
        province: (await registry.get("/programmes", params={"province": province})).json()[0]["id"]
        for province in ("60", "11")
    }
    tally = Tally()
    lines = []
    callers: list[tuple[str, Any]] = [(p, trust.sign_in(p)) for p in PEOPLE]
    callers += [(ANONYMOUS, _NoAuth()), (FORGED, forged_auth)]
    for case in cases(programmes["60"], programmes["11"]):
        cells = []
        for who, auth in callers:
            engine = engines.get(case.service) if case.writes else None
            before = await count_events(engine) if engine else 0
            answer = await send(clients[case.service], case, auth)
            after = await count_events(engine) if engine else 0
            tally.requests += 1
            status = answer.status_code
            cells.append(str(status))
            where = f"{who}: {case.name} ({case.scope}) → {status} {answer.text[:200]}"
            if status >= 500:
                tally.unexpected.append(where)
            elif who in (ANONYMOUS, FORGED):
                if status != 401 or not answer.headers.get("WWW-Authenticate", "").startswith(
                    "Bearer"
                ):
                    tally.unexpected.append(where)
                tally.leaks += status < 400
                tally.cross_writes += after != before
            elif who in case.allowed:
                if status in (401, 403):
                    tally.wrongly_refused.append(where)
            else:
                tally.leaks += status < 400
                tally.cross_writes += after != before
                if status != 403 or "missing_scope" not in answer.json():
                    tally.unexpected.append(where)
        lines.append(f"{case.name[:62]:<62} {case.scope[:18]:<18} " + " ".join(
            f"{c:>4}" for c in cells))  # fmt: skip

    header = " ".join(f"{COLUMNS[who]:>4}" for who, _auth in callers)
    print(f"\n{'endpoint':<62} {'scope':<18} {header}")
    print("\n".join(lines))
    print("nat national viewer, c60/c68/c11 coordinators of 60/68/11, a68 auditor of 68, "
          "clk clerk of a member unit, oclk clerk of another unit of 60")  # fmt: skip
    print(
        f"{tally.requests} requests, {len(lines)} endpoints × {len(callers)} callers: "
        f"{tally.leaks} leaks, {tally.cross_writes} writes across scopes, "
        f"{len(tally.wrongly_refused)} wrongly refused, {len(tally.unexpected)} unexpected"
    )
    assert tally.leaks == 0
    assert tally.cross_writes == 0
    assert tally.wrongly_refused == []
    assert tally.unexpected == []


async def test_who_helps_a_commune_shows_only_assignments_the_caller_may_read(
    trust: Trust, registry: httpx.AsyncClient, loaded: None
) -> None:
    def helpers(who: str) -> Any:
        return registry.get("/communes/pre-2025/23074/helpers", params={"on": "2024-10-01"},
                            auth=trust.sign_in(who))  # fmt: skip

    own = (await helpers(CLERK)).json()["assignments"]
    other = (await helpers(OTHER_PROVINCE)).json()["assignments"]

    assert [a["assignment_id"] for a in own] == [DONG_GIANG]
    assert other == []


async def test_a_clerk_corrects_and_voids_only_what_its_unit_did(
    trust: Trust, activities: httpx.AsyncClient, loaded: None
) -> None:
    body = activity(SO_CONG_THUONG)
    recorded = await activities.post("/activities", json=body, auth=trust.sign_in(CLERK))
    assert recorded.status_code == 201, recorded.text
    etag = {"If-Match": recorded.headers["ETag"]}
    correction = {**body, "value_vnd": 2_000_000, "reason": "sửa giá trị"}
    correction.pop("id")

    by_other_unit = await activities.post(
        f"/activities/{body['id']}/void", json={"reason": "không phải của tôi"},
        headers=etag, auth=trust.sign_in(OTHER_UNIT),
    )  # fmt: skip
    by_clerk = await activities.post(
        f"/activities/{body['id']}/corrections", json=correction, headers=etag,
        auth=trust.sign_in(CLERK),
    )  # fmt: skip
    shown = (await activities.get(f"/activities/{body['id']}", auth=trust.sign_in(CLERK))).json()

    assert by_other_unit.status_code == 403
    assert by_other_unit.json()["missing_scope"] == f"record:assignment:{DONG_GIANG}"
    assert by_clerk.status_code == 200, by_clerk.text
    assert [h["actor"]["name"] for h in shown["history"]] == [
        "Võ Văn Khải",
        "Võ Văn Khải",
    ]
    assert {h["actor"]["role"] for h in shown["history"]} == {"unit-clerk"}
    assert shown["history"][0]["actor"]["units"] == [SCT]


async def test_an_idempotency_key_belongs_to_its_caller(
    trust: Trust, activities: httpx.AsyncClient, loaded: None
) -> None:
    key = {"Idempotency-Key": f"same-key-{new_id()}"}
    first = await activities.post(
        "/activities", json=activity(SO_CONG_THUONG), headers=key, auth=trust.sign_in(CLERK)
    )
    other = await activities.post(
        "/activities", json=activity(SO_CONG_THUONG), headers=key, auth=trust.sign_in(COORDINATOR)
    )

    assert first.status_code == other.status_code == 201
    assert "Idempotent-Replayed" not in other.headers
    assert other.json()["id"] != first.json()["id"]


class _NoAuth(httpx.Auth):
    """No `Authorization` header at all (the clients sign in by default)."""

    def auth_flow(self, request: httpx.Request) -> Any:
        request.headers.pop("Authorization", None)
        yield request


@pytest.fixture(scope="module")
def forged_auth(trust: Trust) -> httpx.Auth:
    """A token with the right issuer, audience, key id and claims of a national viewer,
    signed with a key that is not the issuer's."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    from shared.devstack.signing import LocalIssuer

    impostor = LocalIssuer(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    identity = demo_users()[NATIONAL]

    class Forged(httpx.Auth):
        def auth_flow(self, request: httpx.Request) -> Any:
            kid = _kid(trust)
            token = impostor.token(identity, issuer=trust.issuer, kid=kid)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request

    return Forged()


def _kid(trust: Trust) -> str:
    """The issuer's current signing key id, so that only the signature is wrong."""
    url = trust.jwks_url or f"{trust.issuer}/protocol/openid-connect/certs"
    keys = httpx.get(url, timeout=10).json()["keys"]
    return str(next(k["kid"] for k in keys if k.get("use", "sig") == "sig"))


async def test_a_province_sees_only_its_own_rows_in_reports_exports_and_drill_downs(
    trust: Trust, reporting: httpx.AsyncClient, loaded: None
) -> None:
    others = ("Điện Biên", "Quảng Nam", "Tam Kỳ", "Hòa Bình", "Chiềng Sơ")
    lam_dong = trust.sign_in(COORDINATOR_2025)
    mapped = await reporting.get(
        "/reports/provinces/68/summary", params={"year": 2024, "mapped": True}, auth=lam_dong
    )
    exports = [
        await reporting.get(f"/reports/provinces/60/{report}",
                            params={"year": 2024, "format": form}, auth=trust.sign_in(COORDINATOR))
        for report in ("summary", "coverage", "plans")
        for form in ("csv", "xlsx")
    ]  # fmt: skip
    behind = await reporting.get(
        "/reports/communes/pre-2025/23074/activities", auth=trust.sign_in(CLERK)
    )

    assert mapped.status_code == 200
    assert mapped.json()["communes"] == 2  # Bình Thuận's two: its predecessors' only
    assert {r["target_name"] for r in mapped.json()["lead_roster"]} <= {
        "Xã Đông Giang", "Xã Hàm Thạnh",
    }  # fmt: skip
    assert all(answer.status_code == 200 for answer in exports)
    csv_text = " ".join(
        answer.text for answer in exports if "csv" in answer.headers["content-type"]
    )
    assert not [name for name in others if name in csv_text]
    assert behind.status_code == 200
    assert behind.json()
    units_of_60 = {demo_unit_id("60", name) for name in (SO_CONG_THUONG, BHXH, VP_DOAN)}
    assert {row["commune"]["code"] for row in behind.json()} == {"23074"}
    assert {c["sponsor_unit_id"] for row in behind.json() for c in row["contributions"]} <= (
        units_of_60
    )


async def test_health_and_metrics_stay_open_and_name_no_one(
    registry: httpx.AsyncClient, activities: httpx.AsyncClient, reporting: httpx.AsyncClient,
    loaded: None,
) -> None:  # fmt: skip
    people = demo_users()
    for client in (registry, activities, reporting):
        answers = [
            await client.get(path, auth=_NoAuth()) for path in ("/healthz", "/readyz", "/metrics")
        ]
        exposed = answers[-1].text

        assert [answer.status_code for answer in answers] == [200, 200, 200]
        assert "ketnghia_http_request_duration_seconds_count" in scraped(exposed)
        named = [u for u, who in people.items() if who.subject in exposed or who.name in exposed]
        assert named == []
        assert "Bearer" not in exposed


async def test_a_clerk_imports_only_its_own_units_rows(
    trust: Trust, activities: httpx.AsyncClient, loaded: None
) -> None:
    sheet = SHEET.replace("500.000", "700.000")  # a row no one recorded yet
    upload = {"file": ("quyen.csv", sheet.encode())}

    other = await _imported(activities, upload, trust.sign_in(OTHER_UNIT))
    own = await _imported(activities, upload, trust.sign_in(CLERK))

    assert other["recorded"] == 0
    [refused] = other["errors"]
    assert refused["row"] == 2
    assert f"record:assignment:{DONG_GIANG}" in refused["reason"]
    assert own["recorded"] == 1
    assert own["actor"]["units"]  # the clerk's unit, as its token says


async def _imported(activities: httpx.AsyncClient, upload: Any, auth: Any) -> dict[str, Any]:
    """POST the upload as `auth` and follow the import to its end (its owner reads it)."""
    started = await activities.post("/imports", params={"province": "60"}, files=upload,
                                    auth=auth)  # fmt: skip
    assert started.status_code == 202, started.text
    return await _followed(activities, started, auth)


async def _followed(
    activities: httpx.AsyncClient, started: httpx.Response, auth: Any
) -> dict[str, Any]:
    async def finished() -> dict[str, Any] | None:
        answer: dict[str, Any] = (
            await activities.get(started.headers["Location"], auth=auth)
        ).json()
        return answer if answer["status"] != "running" else None

    done: dict[str, Any] = await eventually(finished, timeout=120)
    return done


async def test_through_an_assignment_a_2025_commune_shows_only_the_callers_province_rows(
    trust: Trust, reporting: httpx.AsyncClient, loaded: None
) -> None:
    """Hàm Thạnh (2025, Lâm Đồng 68) took in Hàm Cần, which Bình Thuận (60) helps: Bình
    Thuận's coordinator reads it through that assignment, limited to province 60's rows;
    Lâm Đồng's reads it whole; Điện Biên's not at all."""
    path = "/reports/communes/2025/23122"

    through = await reporting.get(path, params={"mapped": True}, auth=trust.sign_in(COORDINATOR))
    whole = await reporting.get(path, params={"mapped": True}, auth=trust.sign_in(COORDINATOR_2025))
    other = await reporting.get(path, params={"mapped": True}, auth=trust.sign_in(OTHER_PROVINCE))

    assert through.status_code == 200, through.text
    assert through.json()["scope"]["provinces"] == ["60"]
    assert through.json()["totals"] == whole.json()["totals"]  # all of it is 60's here
    assert "provinces" not in whole.json()["scope"]
    assert other.status_code == 403


async def test_a_provinces_assignments_are_listed_with_names_and_a_clerk_sees_its_own(
    trust: Trust, registry: httpx.AsyncClient, loaded: None
) -> None:
    def listing(who: str) -> Any:
        return registry.get("/assignments", params={"province": "60"}, auth=trust.sign_in(who))

    everything = (await listing(COORDINATOR_2025)).json()
    clerks = (await listing(OTHER_UNIT)).json()

    [dong_giang] = [a for a in everything if a["id"] == DONG_GIANG]
    assert dong_giang["targets"][0] == {"kind": "commune", "edition": "pre-2025",
                                        "code": "23074", "name": "Xã Đông Giang",
                                        "current": False}  # fmt: skip
    assert dong_giang["targets"][-1]["edition"] == "2025"  # continued after the reform
    assert SO_CONG_THUONG in {m["name"] for m in dong_giang["members"]}
    assert dong_giang["leads"]["2024"]["name"]
    assert len(everything) == 2
    assert [a["id"] for a in clerks] == [
        a["id"] for a in everything if HOI_NONG_DAN_BT in {m["name"] for m in a["members"]}
    ]
    assert DONG_GIANG not in {a["id"] for a in clerks}
