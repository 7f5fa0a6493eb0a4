"""`ketnghia`: the platform from a terminal, for the people who run it.

    ketnghia login [USERNAME], whoami, logout    sign in at Keycloak (the token is kept 0600)
    ketnghia users                               the local stack's demo users
    ketnghia status                              the stack and each service's readiness
    ketnghia demo                                administrative units and the published cases
    ketnghia report commune pre-2025 23074 --year 2024
    ketnghia report province 49 --year 2024 [--mapped]
    ketnghia report coverage|plans 60 --year 2024, ketnghia report sponsor-unit ID
    ketnghia import hoat-dong.xlsx --province 60
    ketnghia rebuild reporting|registry

Reports and imports go through the services' HTTP APIs (`KETNGHIA_<SERVICE>_URL`, by
default the local ports) with a bearer token: `KETNGHIA_TOKEN`, else the one `ketnghia
login` stored. The demo signs in as the operations service account (client credentials,
`KETNGHIA_OPERATIONS_SECRET`, by default the local realm's). Tokens come from
`AUTH_ISSUER`, else the local stack's Keycloak. Loading units and rebuilding work on the
database and Kafka directly: `DATABASE_URL` and `KAFKA_BOOTSTRAP_SERVERS`, else the local
stack's.
"""

import asyncio
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import httpx
import typer
from pydantic import BaseModel
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from tenacity import Retrying, retry_if_result, stop_after_attempt, wait_fixed

from services.reporting.entrypoints import exports
from services.reporting.entrypoints.answers import (
    CommuneReport,
    CountedUpTo,
    CoverageReport,
    PlansReport,
    ProvinceSummary,
    SponsorUnitReport,
)
from services.reporting.entrypoints.exports import Export
from shared import consistency
from shared.auth import IdentityProviderUnavailable, Principal, Role, TokenVerifier, Unauthenticated
from shared.demo_cases import CASES, demo_unit_id
from shared.devstack.keycloak import (
    LOCAL_OPERATIONS_SECRET,
    OPERATIONS_CLIENT,
    SignInRefused,
    client_credentials_token,
    end_session,
    password_token,
    refreshed_token,
)
from shared.devstack.processes import StackError
from shared.devstack.stack import REALM_FILE, SERVICE_PORTS, WEB_PORT, LocalStack, local_issuer
from shared.editions import PRE_2025
from shared.metrics import scraped
from shared.spreadsheets import Cell, neutralised

app = typer.Typer(
    help="Kết nghĩa: báo cáo, nạp dữ liệu, dựng lại, trạng thái / "
    "reports, demo data, rebuilds and the stack's status.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
report_app = typer.Typer(help="Báo cáo trong terminal / reports in the terminal")
app.add_typer(report_app, name="report")
console = Console(markup=False, highlight=False)  # names and reasons print as written

Year = Annotated[int | None, typer.Option(help="năm / year")]
RequiredYear = Annotated[int, typer.Option(help="năm / year")]
Quarter = Annotated[int | None, typer.Option(help="quý / quarter (1–4)")]
Mapped = Annotated[
    bool, typer.Option("--mapped", help="quy đổi sang đơn vị từ 01/7/2025 / map to today's units")
]
AsOf = Annotated[str | None, typer.Option(help="đến thời điểm / as of (ISO date or time)")]


def service_url(service: str) -> str:
    default = f"http://127.0.0.1:{SERVICE_PORTS[service]}"
    return os.environ.get(f"KETNGHIA_{service.upper()}_URL", default).rstrip("/")


def fail(message: str) -> typer.Exit:
    console.print(f"lỗi / error: {message}", style="bold red", soft_wrap=True)
    return typer.Exit(1)


def _get(
    service: str, path: str, params: dict[str, Any], token: str | None = None
) -> httpx.Response:
    query = {k: v for k, v in params.items() if v not in (None, False)}
    return _call(service, "GET", path, token=token, params=query, timeout=30)


def _call(
    service: str, method: str, path: str, *, token: str | None = None, **options: Any
) -> httpx.Response:
    """The service's answer to a call with `token` (else the user's); a clear error and
    exit code 1 when it does not answer or refuses."""
    url = f"{service_url(service)}{path}"
    headers = {**options.pop("headers", {}), "Authorization": f"Bearer {token or user_token()}"}
    if _written:  # what this command wrote is visible to what it reads next
        headers[consistency.HEADER] = _written[-1]
    try:
        response = httpx.request(method, url, headers=headers, **options)
    except httpx.TransportError as error:
        raise fail(f"{service} không trả lời tại {url} / does not answer ({error})") from error
    if response.status_code >= 400:
        raise fail(f"{response.status_code} {url}: {_reason(response)}")
    if written := response.headers.get(consistency.HEADER):
        _written.append(written)
    return response


_written: list[str] = []  # the consistency tokens of this command's writes, newest last


def _reason(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        return response.text
    if isinstance(detail, list):
        return "; ".join(f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg')}" for d in detail)
    return str(detail)


# -- sign-in ------------------------------------------------------------------------------
NOT_SIGNED_IN = "chưa đăng nhập / not signed in: run `ketnghia login`"
EXPIRY_MARGIN_SECONDS = 30  # refresh a little early: the call must arrive before expiry


def auth_issuer() -> str:
    return os.environ.get("AUTH_ISSUER") or local_issuer()


def token_file() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(config) / "ketnghia" / "token.json"


def _keep(issuer: str, username: str, answer: dict[str, Any]) -> None:
    """Store the tokens readable by this user only (they act as the user until expiry)."""
    path = token_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    login = {
        "issuer": issuer,
        "username": username,
        "access_token": answer["access_token"],
        "refresh_token": answer.get("refresh_token"),
        "expires_at": time.time() + answer["expires_in"],
    }
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        json.dump(login, out)
    path.chmod(0o600)  # a file an older run left keeps its mode through O_CREAT


def _stored_login() -> dict[str, Any]:
    path = token_file()
    if not path.exists():
        raise fail(NOT_SIGNED_IN)
    login: dict[str, Any] = json.loads(path.read_text())
    if login["issuer"] != auth_issuer():
        raise fail(f"đã đăng nhập ở {login['issuer']}, không phải {auth_issuer()} / "
                   "signed in at another issuer: run `ketnghia login`")  # fmt: skip
    return login


def user_token() -> str:
    """`KETNGHIA_TOKEN`, else the stored sign-in, refreshed when it has expired."""
    if token := os.environ.get("KETNGHIA_TOKEN"):
        return token
    login = _stored_login()
    if time.time() < login["expires_at"] - EXPIRY_MARGIN_SECONDS:
        return str(login["access_token"])
    try:
        answer = refreshed_token(login["issuer"], login["refresh_token"])
    except SignInRefused as error:
        raise fail(f"phiên đăng nhập đã hết / the session has ended ({error}): "
                   "run `ketnghia login`") from error  # fmt: skip
    _keep(login["issuer"], login["username"], answer)
    return str(answer["access_token"])


def operations_token() -> str:
    """The operations service account's token (client credentials)."""
    secret = os.environ.get("KETNGHIA_OPERATIONS_SECRET", LOCAL_OPERATIONS_SECRET)
    try:
        return str(
            client_credentials_token(auth_issuer(), OPERATIONS_CLIENT, secret)["access_token"]
        )
    except SignInRefused as error:
        raise fail(
            f"tài khoản vận hành bị từ chối / the operations account was refused: {error}"
        ) from error


@app.command()
def login(
    username: Annotated[str | None, typer.Argument(help="tên đăng nhập / username")] = None,
) -> None:
    """Đăng nhập / sign in at Keycloak (password grant of the local `ketnghia-cli` client)."""
    username = username or typer.prompt("Tên đăng nhập / username")
    password = typer.prompt("Mật khẩu / password", hide_input=True)
    issuer = auth_issuer()
    try:
        answer = password_token(issuer, username, password)
    except SignInRefused as error:
        raise fail(f"đăng nhập không được / sign-in refused: {error}") from error
    _keep(issuer, username, answer)
    console.print(f"đã đăng nhập / signed in: {username} at {issuer} (token in {token_file()})")


@app.command()
def logout() -> None:
    """Đăng xuất / end the Keycloak session and forget the stored token."""
    path = token_file()
    if not path.exists():
        console.print("chưa đăng nhập / not signed in")
        return
    login = json.loads(path.read_text())
    path.unlink()
    try:
        end_session(login["issuer"], login["refresh_token"])
    except SignInRefused as error:  # the token is forgotten here all the same
        console.print(f"Keycloak: {error}")
    console.print("đã đăng xuất / signed out")


@app.command()
def whoami() -> None:
    """Tôi là ai / who the services take you for: the token verified as a service would."""
    principal = asyncio.run(_verified(user_token()))
    units = demo_unit_names()
    roles = ", ".join(f"{role.label} ({role.value})" for role in sorted(principal.roles))
    reached = sorted(principal.reached - principal.provinces)
    lines = [
        f"tên / name:           {principal.name}",
        f"vai trò / role:       {roles or '–'}",
        f"tỉnh / provinces:     {', '.join(sorted(principal.provinces)) or '–'}"
        + (f" (cả tỉnh cũ / with the merged {', '.join(reached)})" if reached else ""),
        "đơn vị / units:       "
        + (", ".join(f"{units.get(u, u)} ({u})" for u in sorted(principal.sponsor_units)) or "–"),
    ]
    console.print("\n".join(lines), soft_wrap=True)


@app.command()
def token() -> None:
    """In token truy cập / print the access token, for curl:
    `curl -H "Authorization: Bearer $(ketnghia token)" ...`"""
    print(user_token())


async def _verified(token: str) -> Principal:
    verifier = TokenVerifier(
        issuer=auth_issuer(),
        audience="ketnghia-registry",
        jwks_url=os.environ.get("AUTH_JWKS_URL"),
    )
    try:
        return await verifier.verify(token)
    except (Unauthenticated, IdentityProviderUnavailable) as error:
        raise fail(str(error)) from error


def demo_unit_names() -> dict[str, str]:
    """Sponsor-unit id → name, for the units of the demo cases."""
    return {demo_unit_id(case.province, name): name for case in CASES for name in case.units}


@app.command()
def users() -> None:
    """Người dùng mẫu / the local realm's demo users and how to sign in as each."""
    units = demo_unit_names()
    realm = json.loads(REALM_FILE.read_text())
    table = Table("đăng nhập / sign in", "vai trò / role", "phạm vi / scope")
    table.columns[0].no_wrap = True
    for user in realm["users"]:
        if user.get("serviceAccountClientId"):
            continue
        attributes = user["attributes"]
        scope = attributes["provinces"] + [units.get(u, u) for u in attributes["sponsor_units"]]
        roles = ", ".join(Role(role).label for role in user["realmRoles"])
        table.add_row(f"ketnghia login {user['username']}", roles,
                      ", ".join(scope) or "mọi tỉnh / every province")  # fmt: skip
    console.print(table)
    console.print(f"mật khẩu / password: ketnghia-demo; Keycloak {auth_issuer()}", soft_wrap=True)


# -- reports ------------------------------------------------------------------------------
Shown = TypeVar(
    "Shown", CommuneReport, ProvinceSummary, CoverageReport, PlansReport, SponsorUnitReport
)


def show_report(
    path: str, params: dict[str, Any], export: Export[Shown], token: str | None = None
) -> None:
    """The report's JSON read into its model (the reporting service's answers): its plain
    fields as the heading, its figures as the table its CSV export holds (the same table a
    province opens in Excel)."""
    report = export.read_json(_get("reporting", path, params, token).content)
    console.print("\n".join(_heading(report)), soft_wrap=True)
    console.print(_table(export.headers, export.rows(report)))
    console.print(f"đếm đến / counted up to: {_positions(report.counted_up_to)}", soft_wrap=True)


def _heading(report: BaseModel) -> list[str]:
    """The report's fields given in its JSON that hold no list (what it is about, in which
    scope), in the model's order, each as its JSON writes it; the totals are the table's."""
    lines = []
    for name in type(report).model_fields:
        value = getattr(report, name)
        if name == "totals" or name not in report.model_fields_set or isinstance(value, list):
            continue
        if not isinstance(value, BaseModel):
            lines.append(f"{name}: {value}")
            continue
        given = value.model_dump(mode="json", exclude_unset=True)
        if not any(isinstance(v, list | dict) for v in given.values()):
            lines.append(
                f"{name}: " + ", ".join(f"{k}={v}" for k, v in given.items() if v is not None)
            )
    return lines


def _positions(positions: list[CountedUpTo]) -> str:
    if not positions:
        return "chưa có sự kiện nào / no events yet"
    return ", ".join(f"{p.topic}[{p.partition}]@{p.next_offset}" for p in positions)


def _table(headers: list[str], rows: list[list[Cell]]) -> Table:
    money = {index for index, title in enumerate(headers) if "VND" in title}
    table = Table(*headers, show_lines=False)
    for row in rows:
        cells = [_cell(cell) for cell in row]
        table.add_row(*(_vnd(c) if i in money and c else c for i, c in enumerate(cells)))
    return table


def _cell(cell: Cell) -> str:
    """A cell as the CSV export writes it (nothing for none; text that could start a
    formula behind a `'`)."""
    shown = neutralised(cell)
    return "" if shown is None else str(shown)


def _vnd(cell: str) -> str:
    """21750000 → 21.750.000, as Vietnamese write amounts."""
    try:
        return f"{int(cell):,}".replace(",", ".")
    except ValueError:
        return cell


def _scope(
    year: int | None, quarter: int | None, mapped: bool, as_of: str | None
) -> dict[str, Any]:
    return {"year": year, "quarter": quarter, "mapped": mapped, "as_of": as_of}


@report_app.command("commune")
def commune_report(
    edition: Annotated[str, typer.Argument(help="pre-2025 | 2025")],
    code: Annotated[str, typer.Argument(help="mã xã / commune code")],
    year: Year = None,
    quarter: Quarter = None,
    mapped: Mapped = False,
    as_of: AsOf = None,
) -> None:
    """Xã × giai đoạn / a commune over the programme period."""
    show_report(
        f"/reports/communes/{edition}/{code}", _scope(year, quarter, mapped, as_of), exports.COMMUNE
    )


@report_app.command("province")
def province_report(
    province: str, year: Year = None, mapped: Mapped = False, as_of: AsOf = None
) -> None:
    """Tổng hợp tỉnh / the province summary."""
    show_report(
        f"/reports/provinces/{province}/summary",
        _scope(year, None, mapped, as_of),
        exports.PROVINCE,
    )


@report_app.command("coverage")
def coverage_report(province: str, year: RequiredYear, quarter: Quarter = None) -> None:
    """Xã được phân công chưa có hoạt động / assigned communes without activity."""
    show_report(
        f"/reports/provinces/{province}/coverage",
        _scope(year, quarter, False, None),
        exports.COVERAGE,
    )


@report_app.command("plans")
def plans_report(province: str, year: RequiredYear) -> None:
    """Kế hoạch và thực hiện / plan versus actual."""
    show_report(
        f"/reports/provinces/{province}/plans", _scope(year, None, False, None), exports.PLANS
    )


@report_app.command("sponsor-unit")
def sponsor_unit_report(unit_id: str, year: Year = None) -> None:
    """Đơn vị: đã làm gì, ở đâu / what a sponsor unit did, where."""
    show_report(
        f"/reports/sponsor-units/{unit_id}", _scope(year, None, False, None), exports.SPONSOR_UNIT
    )


# -- operations ---------------------------------------------------------------------------
class Rebuildable(StrEnum):
    REPORTING = "reporting"
    REGISTRY = "registry"


def use_local_stack() -> None:
    """Settings read the environment; without Kafka and database there, use the local stack's."""
    if os.environ.get("DATABASE_URL") and os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        return
    try:
        endpoints = LocalStack().endpoints()
    except StackError as error:
        raise fail(str(error)) from error
    for name, value in endpoints.environment().items():
        os.environ.setdefault(name, value)


@app.command()
def rebuild(
    service: Rebuildable,
    switch: Annotated[bool, typer.Option(help="switch the rebuilt tables in")] = True,
) -> None:
    """Dựng lại các bảng từ sự kiện / rebuild the projections from the events."""
    use_local_stack()
    if service == Rebuildable.REGISTRY:
        from services.registry.entrypoints import rebuild as registry_rebuild

        asyncio.run(registry_rebuild.main())
        return
    from services.reporting.config import Settings
    from services.reporting.service_layer.rebuild import rebuild as rebuild_reporting

    schema, progress = asyncio.run(
        rebuild_reporting(Settings(), switch=switch, report=lambda p: console.print(p.line()))
    )
    console.print(f"xong: các bảng báo cáo ở schema {schema!r} / done: projections in {schema!r}")
    console.print(progress.timeline())


@app.command()
def demo() -> None:
    """Nạp đơn vị hành chính và dữ liệu mẫu / load the units and the published cases."""
    use_local_stack()
    from services.activities import demo as activities_demo
    from services.registry import demo as registry_demo
    from services.registry.entrypoints import load_admin_units

    token = operations_token()
    asyncio.run(load_admin_units.main())
    asyncio.run(registry_demo.main(service_url("registry"), token))
    asyncio.run(activities_demo.main(service_url("activities"), token))
    guide(token)
    users()


DONG_GIANG = f"/reports/communes/{PRE_2025}/23074"


def guide(token: str) -> None:
    """Where to look, with the first report once the reporting service has caught up."""

    def caught_up() -> bool:
        report = exports.COMMUNE.read_json(
            _get("reporting", DONG_GIANG, {"year": 2024}, token).content
        )
        metrics = _get("reporting", "/metrics", {}, token).text
        behind = scraped(metrics).get("ketnghia_projection_lag_events", [])
        counted = bool(report.totals.activities and report.commune.name)
        return counted and bool(behind) and not any(sample.value for sample in behind)

    # up to 2 minutes; then the report is shown as far as it has got
    Retrying(
        retry=retry_if_result(lambda done: not done),
        wait=wait_fixed(0.5),
        stop=stop_after_attempt(240),
        retry_error_callback=lambda _state: False,
    )(caught_up)
    console.rule("Xã Đông Giang (Bình Thuận), 2024 — ketnghia report commune pre-2025 23074")
    show_report(DONG_GIANG, {"year": 2024}, exports.COMMUNE, token)
    console.rule("Xem tiếp / where to look")
    lines = [f"{name:<11} {service_url(name)}/docs   /readyz   /metrics" for name in SERVICE_PORTS]
    me = "ketnghia" if shutil.which("ketnghia") else os.path.relpath(sys.argv[0])
    lines += [
        "",
        f"{me} login quocgia                               # đăng nhập / sign in, then:",
        f"{me} report commune pre-2025 23116 --year 2024   # Hàm Cần: vay vốn",
        f"{me} report commune 2025 23122 --mapped          # Hàm Thạnh (Lâm Đồng)",
        f"{me} report province 49                          # Quảng Nam",
        f"{me} status                                      # stack, readiness, lag",
        f"{service_url('reporting')}/reports/provinces/60/summary?format=xlsx",
        f"logs (JSON): {LocalStack().home / 'logs'}",
    ]
    console.print("\n".join(lines), soft_wrap=True)
    console.rule("Trang web / the web app")
    console.print(f"http://127.0.0.1:{WEB_PORT}  — đăng nhập bằng một người dùng mẫu / sign in as:")


@app.command("import")
def import_sheet(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".xlsx | .csv")],
    province: Annotated[str, typer.Option(help="mã tỉnh / province code")],
) -> None:
    """Nhập hoạt động từ tệp / import activities from a sheet (errors by row and column)."""
    with file.open("rb") as content:
        started = _call(
            "activities", "POST", "/imports", params={"province": province},
            files={"file": (file.name, content)}, timeout=None,
        )  # fmt: skip
    outcome = _follow_import(file.name, started.headers["Location"])
    console.print(outcome["summary"])
    if outcome["status"] == "failed":
        raise fail(f"nhập thất bại / the import failed: {outcome['failure']}")
    if outcome["errors"]:
        errors = Table("Dòng", "Cột", "Lỗi", title="Dòng lỗi (không ghi) / rows not recorded")
        for problem in outcome["errors"]:
            errors.add_row(str(problem["row"]), problem["column"], problem["reason"])
        console.print(errors)
        if outcome["errors_kept"] < outcome["refused_rows"]:
            console.print(f"(chỉ giữ {outcome['errors_kept']} lỗi đầu / the first ones only)")
        raise typer.Exit(2)


def _follow_import(name: str, location: str, poll: float = 0.3) -> dict[str, Any]:
    """Follow an import to its end with a progress line: rows read, recorded, refused."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"đang nhập {name} / importing")

        def state() -> dict[str, Any]:
            answer: dict[str, Any] = _call("activities", "GET", location).json()
            progress.update(
                task,
                description=f"đang nhập {name}: đọc {answer['rows']:,} dòng, ghi "
                f"{answer['recorded']:,}, đã có {answer['already_recorded']:,}, lỗi "
                f"{answer['refused_rows']:,} / importing",
            )
            return answer

        following = Retrying(
            retry=retry_if_result(lambda answer: answer["status"] == "running"),
            wait=wait_fixed(poll),
        )
        return following(state)


@app.command()
def status() -> None:
    """Kafka, PostgreSQL and the services: running, answering, ready; the figures to watch."""
    stack = LocalStack().status()
    table = Table("thành phần / part", "trạng thái / state", "địa chỉ / where")
    for part in ("kafka", "postgres"):
        found = stack[part]
        state = "answers" if found.get("answers") else "running" if found["running"] else "stopped"
        table.add_row(part, state, str(found.get("bootstrap") or found.get("url") or "–"))
    ready = True
    for service in SERVICE_PORTS:
        state, figures = _service_state(service_url(service))
        ready = ready and state == "ready"
        table.add_row(service, f"{state} {figures}".strip(), f"{service_url(service)}/docs")
    console.print(table)
    if not ready:
        raise typer.Exit(1)


WATCHED: dict[str, tuple[str, Callable[[list[float]], float]]] = {
    # figure → its label and how its series add up
    "ketnghia_outbox_backlog": ("outbox", sum),
    "ketnghia_projection_lag_seconds": ("lag s", max),
    "ketnghia_dead_letters_total": ("dead letters", sum),
}


def _service_state(url: str) -> tuple[str, str]:
    try:
        ready = httpx.get(f"{url}/readyz", timeout=5)
        metrics = httpx.get(f"{url}/metrics", timeout=5).text
    except httpx.TransportError:
        return "not answering", ""
    state = "ready" if ready.status_code == 200 else f"not ready {ready.json().get('checks')}"
    series = scraped(metrics)
    return state, ", ".join(
        f"{label} {combine([sample.value for sample in series[name]]):g}"
        for name, (label, combine) in WATCHED.items()
        if name in series
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
