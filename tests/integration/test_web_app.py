"""The web app as people use it: in Debian's Chromium (headless, driven by Playwright),
signed in at the real Keycloak, against the three services on real Kafka and PostgreSQL.

A coordinator of Bình Thuận (60) opens the dashboard, records an activity through the form
(and sees the service's reasons beside the fields it names), sees it counted at once,
imports a sheet with a bad row, locks a quarter and is refused in it, downloads the
summary; a clerk sees only its unit's assignments and is told plainly what it may not
open. Every request the browser makes goes to the app or to Keycloak; every page has a
heading and labelled fields. Screenshots go to `.local/screenshots/` (kept out of git).
"""

import csv
import io
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from openpyxl import load_workbook
from playwright.async_api import Browser, Page, async_playwright

from services.registry.adapters.admin_dataset import AdminDataset
from services.web.config import Settings as WebSettings
from services.web.entrypoints.http import create_app as create_web_app
from shared.demo_cases import HOI_NONG_DAN_BT, SO_CONG_THUONG
from shared.devstack.stack import WEB_PORT
from tests.http import listening
from tests.integration.test_access_keycloak import PASSWORDS, trust  # noqa: F401 - Keycloak's
from tests.integration.test_consistency import single_successor_communes

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / ".local" / "screenshots"
COORDINATOR, CLERK = "dieuphoi.binhthuan", "canbo.socongthuong"
FLAGS = [  # as the machine's notes say: no sandbox as root, and no calls to other hosts
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
HAM_CAN = "Xã Hàm Cần (trước 2025)"


@pytest.fixture(scope="module")
async def web(
    keycloak_issuer: str, registry_url: str, activities_url: str, reporting_url: str, loaded: None
) -> AsyncIterator[str]:
    """The web app on the port Keycloak's ketnghia-web client sends people back to."""
    settings = WebSettings(
        base_url=f"http://127.0.0.1:{WEB_PORT}", auth_issuer=keycloak_issuer,
        ketnghia_registry_url=registry_url, ketnghia_activities_url=activities_url,
        ketnghia_reporting_url=reporting_url,
    )  # fmt: skip
    app = create_web_app(settings)
    async with app.router.lifespan_context(app), listening(app, WEB_PORT) as url:
        yield url


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        found = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield found
        await found.close()


class Visit:
    """A person's browser tab: the hosts it asked, and a screenshot per page."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.hosts: set[str] = set()
        page.on("request", lambda request: self.hosts.add(urlsplit(request.url).netloc))

    async def shot(self, name: str) -> None:
        await self.page.screenshot(path=SHOTS / f"{name}.png", full_page=True)

    async def accessible(self) -> list[str]:
        """What a screen reader would miss: no h1, a field without a label."""
        return list(
            await self.page.evaluate("""() => {
            const missing = [];
            if (!document.querySelector('h1')) missing.push('no h1');
            for (const field of document.querySelectorAll('input, select, textarea')) {
                if (field.type === 'hidden') continue;
                const labelled = (field.id && document.querySelector(`label[for="${field.id}"]`))
                    || field.closest('label') || field.getAttribute('aria-label');
                if (!labelled) missing.push(field.name || field.outerHTML.slice(0, 60));
            }
            return missing;
        }""")
        )


async def signed_in(browser: Browser, web: str, user: str) -> Visit:
    page = await (await browser.new_context(locale="vi-VN", accept_downloads=True)).new_page()
    visit = Visit(page)
    await page.goto(f"{web}/")
    await page.fill("#username", user)  # Keycloak's sign-in page
    await page.fill("#password", PASSWORDS[user])
    await page.click("#kc-login")
    await page.wait_for_url(f"{web}/")
    return visit


def money(text: str) -> int:
    return int(re.sub(r"\D", "", text))


async def test_a_coordinator_records_sees_imports_locks_and_exports(
    browser: Browser, web: str, keycloak_issuer: str, tmp_path: Path
) -> None:
    visit = await signed_in(browser, web, COORDINATOR)
    page = visit.page
    assert "Tổng quan tỉnh mã 60" in await page.inner_text("main")
    await visit.shot("01-home-coordinator")

    await page.goto(f"{web}/provinces/60")
    before = money(await page.inner_text("#total-value"))
    drawn = await page.evaluate("() => Boolean(Chart.getChart('by-quarter'))")
    assert drawn, "the quarter chart was not drawn"
    assert before > 0
    await visit.shot("02-dashboard")
    assert await visit.accessible() == []

    # a bad value is refused beside its field, by the form; a day no assignment covers,
    # by the service
    await page.goto(f"{web}/record")
    assert await visit.accessible() == []
    await page.select_option("#commune", label=HAM_CAN)
    await page.select_option("#sponsor_unit_id", label=HOI_NONG_DAN_BT)
    await page.fill("#occurred_on", "2024-11-20")
    await page.fill("#description", "Tặng 40 bộ sách giáo khoa")
    await page.fill("#value_vnd", "mười triệu")
    await page.click("main button[type=submit]")
    assert "21.750.000" in await page.inner_text("#value_vnd-error")
    await page.fill("#value_vnd", "12.345.000")
    await page.fill("#occurred_on", "2019-05-01")
    await page.click("main button[type=submit]")
    # no assignment of Hàm Cần had the unit as a member that day: said beside the commune
    assert "01/05/2019" in await page.inner_text("#commune-error")
    await visit.shot("03-record-refused")

    await page.fill("#occurred_on", "2024-11-20")
    await page.click("main button[type=submit]")
    await page.wait_for_url(re.compile(r"/activities/.*recorded=1"))
    assert await page.inner_text("#activity-value") == "12.345.000 đ"
    await page.fill("#c-value", "12.400.000")  # corrected: the old account stays in history
    await page.fill("#c-reason", "Thêm phí vận chuyển")
    await page.click("#correction-form button[type=submit]")
    assert await page.inner_text("#activity-value") == "12.400.000 đ"
    assert "Thêm phí vận chuyển" in await page.inner_text("main")
    await visit.shot("04-activity")

    await page.goto(f"{web}/provinces/60")  # counted at once: the write's token is passed on
    assert money(await page.inner_text("#total-value")) == before + 12_400_000
    quarter = page.locator("tr", has_text="Quý 4/2024")
    shown = money(await quarter.locator("td").nth(1).inner_text())
    await quarter.locator("a").click()  # the figure's activities, adding up to it
    listed = await page.eval_on_selector_all(
        "tbody tr td.num", "cells => cells.map(c => c.textContent)"
    )
    assert sum(money(cell) for cell in listed) == shown
    assert "Tặng 40 bộ sách giáo khoa" in await page.inner_text("main")
    async with page.expect_download() as waiting:  # the list as a file: the same total
        await page.click("main a:has-text('CSV')")
    listed_file = tmp_path / "hoat-dong.csv"
    await (await waiting.value).save_as(listed_file)
    [_header, *lines] = list(csv.reader(io.StringIO(listed_file.read_text("utf-8-sig"))))
    assert sum(int(line[5]) for line in lines) == shown
    await page.goto(f"{web}/provinces/60")
    await page.click(f"text={HOI_NONG_DAN_BT}")
    assert "Xã Hàm Cần" in await page.inner_text("main")  # the unit's page: where it helped
    await visit.shot("04a-unit")
    shares = await page.eval_on_selector_all(
        "tbody td.num:nth-child(3)", "c => c.map(e => e.textContent)"
    )
    async with page.expect_download() as waiting:
        await page.click("text=Excel (.xlsx)")
    saved = tmp_path / "don-vi.xlsx"
    await (await waiting.value).save_as(saved)
    rows = list(load_workbook(saved, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert rows[0][4] == "Giá trị (VND)"
    assert sum(int(str(row[4])) for row in rows[1:]) == sum(money(share) for share in shares) > 0
    await page.goto(f"{web}/provinces/60")
    await page.goto(f"{web}/communes/pre-2025/23116?on=2024-11-20")
    commune = await page.inner_text("main")
    assert "Tặng 40 bộ sách giáo khoa" in commune
    assert HOI_NONG_DAN_BT in commune  # who helps it that day
    assert "Hàm Thạnh" in commune  # what it became on 1 July 2025
    await visit.shot("04b-commune")
    assert await visit.accessible() == []

    # an import with a bad row: the refused row is listed by row and column
    sheet = tmp_path / "hai-dong.csv"
    sheet.write_text(
        "Ngày,Mã xã,Đơn vị thực hiện,Hạng mục,Nội dung,Giá trị (VND)\n"
        "21/11/2024,23116,Hội Nông dân tỉnh Bình Thuận,Quà tặng bằng hiện vật,Quà Tết,1.000.000\n"
        "31/02/2024,23116,Hội Nông dân tỉnh Bình Thuận,Quà tặng bằng hiện vật,Ngày sai,2.000.000\n",
        encoding="utf-8",
    )
    await page.goto(f"{web}/import")
    assert await visit.accessible() == []
    await page.set_input_files("#file", str(sheet))
    await page.click("main button[type=submit]")
    await page.wait_for_selector("#refused-rows", timeout=30_000)
    refused = await page.inner_text("#refused-rows")
    assert re.search(r"\b3\b.*Ngày", refused), refused
    assert "ghi 1" in await page.inner_text("#import-status")
    await visit.shot("05-import")

    # a locked quarter refuses recording in it, with the reason
    await page.goto(f"{web}/provinces/60/locks")
    await page.fill("#lock-year", "2024")
    await page.select_option("#lock-quarter", "4")
    await page.fill("#lock-reason", "Chốt số liệu quý 4/2024")
    await page.click("form.stack button[type=submit]")
    assert "Chốt số liệu quý 4/2024" in await page.inner_text("main")
    await visit.shot("06-locks")
    await page.goto(f"{web}/record")
    await page.select_option("#commune", label=HAM_CAN)
    await page.select_option("#sponsor_unit_id", label=HOI_NONG_DAN_BT)
    await page.fill("#occurred_on", "2024-12-02")
    await page.fill("#description", "Quà trong quý đã khóa")
    await page.fill("#value_vnd", "500.000")
    await page.click("main button[type=submit]")
    assert "Chốt số liệu quý 4/2024" in await page.inner_text("main")
    await visit.shot("07-record-locked")
    await page.goto(f"{web}/provinces/60/locks")
    await page.fill("input[placeholder='Lý do mở khóa']", "Bổ sung hồ sơ")
    await page.click("form.inline button[type=submit]")

    # the summary's spreadsheet carries the total the page shows
    await page.goto(f"{web}/provinces/60")
    shown = money(await page.inner_text("#total-value"))
    async with page.expect_download() as waiting:
        await page.click("text=Excel (.xlsx) >> nth=0")
    download = await waiting.value
    saved = tmp_path / "tong-hop.xlsx"
    await download.save_as(saved)
    book = load_workbook(saved, read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    [total] = [row for row in rows if row[0] == "Tổng cộng"]
    assert total[2] == shown

    # on a phone: nothing wider than the screen but the tables, which scroll in place
    await page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/provinces/60", "/record", "/communes/pre-2025/23116"):
        await page.goto(f"{web}{path}")
        width = await page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide on a 390 px screen"
    await visit.shot("12-dashboard-phone")

    keycloak = urlsplit(keycloak_issuer).netloc
    assert visit.hosts <= {urlsplit(web).netloc, keycloak}, visit.hosts


async def test_a_clerk_sees_its_unit_only_and_a_refusal_in_plain_words(
    browser: Browser, web: str
) -> None:
    visit = await signed_in(browser, web, CLERK)
    page = visit.page
    home = await page.inner_text("main")
    assert "Phân công của đơn vị" in home
    assert SO_CONG_THUONG in home
    await visit.shot("08-home-clerk")

    await page.goto(f"{web}/record")
    units = await page.eval_on_selector_all("#sponsor_unit_id option", "o => o.map(e => e.text)")
    assert units == [SO_CONG_THUONG]

    answer = await page.goto(f"{web}/provinces/11")  # Điện Biên: not its province
    assert answer is not None
    assert answer.status == 403
    assert "Không có quyền" in await page.inner_text("h1")
    await visit.shot("09-clerk-refused")

    await page.click("text=Đăng xuất")
    await page.wait_for_url(re.compile(r"/(login|realms)"), timeout=10_000)
    async with httpx.AsyncClient() as anyone:
        signed_out = await anyone.get(f"{web}/provinces/60")
    assert signed_out.status_code == 303  # no session: to the sign-in
    assert signed_out.headers["Location"].startswith("/login")


async def test_a_coordinator_sets_up_a_programme_from_the_browser(
    browser: Browser, web: str, dataset: AdminDataset
) -> None:
    [commune] = single_successor_communes(dataset, "60", 1)
    visit = await signed_in(browser, web, COORDINATOR)
    page = visit.page
    await page.goto(f"{web}/provinces/60/setup")
    assert await visit.accessible() == []

    await page.click("text=Đăng ký đơn vị")
    await page.fill("#u-name", "Công an tỉnh Bình Thuận (thử)")
    await page.select_option("#u-kind", "armed_forces")
    await page.click("#unit-form button[type=submit]")
    assert "Công an tỉnh Bình Thuận (thử)" in await page.inner_text("main")
    await page.click("text=Đăng ký đơn vị")  # the same name again: refused, and said why
    await page.fill("#u-name", "công an tỉnh  Bình Thuận (thử)")
    await page.click("#unit-form button[type=submit]")
    assert "đã có đơn vị" in await page.inner_text("#setup-error")

    await page.click("text=Thêm chương trình")
    await page.fill("#p-name", "Chương trình thử qua trang web 2024-2026")
    await page.fill("#p-start", "2024")
    await page.fill("#p-end", "2026")
    await page.fill("#p-number", "99/QĐ-UBND-THU")
    await page.fill("#p-issued", "2024-01-15")
    await page.fill("#p-issuer", "UBND tỉnh Bình Thuận")
    await page.click("#programme-form button[type=submit]")
    assert "99/QĐ-UBND-THU" in await page.inner_text("main")

    await page.click("text=Thêm phân công")
    await page.select_option("#a-programme", label="Chương trình thử qua trang web 2024-2026")
    await page.select_option("#a-edition", "pre-2025")
    await page.fill("#a-code", commune)
    await page.check("label.check:has-text('Công an tỉnh Bình Thuận (thử)') input")
    await page.fill("#a-joined", "2024-03-01")
    await page.fill("#a-lead-year", "2024")
    await page.select_option("#a-lead", label="Công an tỉnh Bình Thuận (thử)")
    await page.click("#assignment-form button[type=submit]")
    row = page.locator("tr", has_text="Chương trình thử qua trang web 2024-2026").last
    assert "2024: Công an tỉnh Bình Thuận (thử)" in await row.inner_text()

    await row.locator("summary", has_text="Đơn vị, chủ trì").click()  # a second unit, 2025's lead
    await row.locator("form[action$='/members'] select").select_option(label=SO_CONG_THUONG)
    await row.locator("input[name=joined_on]").fill("2024-06-01")
    await row.locator("button", has_text="Thêm đơn vị").click()
    row = page.locator("tr", has_text="Chương trình thử qua trang web 2024-2026").last
    await row.locator("summary", has_text="Đơn vị, chủ trì").click()
    await row.locator("input[name=year]").fill("2025")
    await row.locator("select[name=sponsor_unit_id]").first.select_option(label=SO_CONG_THUONG)
    await row.locator("button", has_text="Giao chủ trì").click()
    row = page.locator("tr", has_text="Chương trình thử qua trang web 2024-2026").last
    assert f"2025: {SO_CONG_THUONG}" in await row.inner_text()
    await row.locator("summary", has_text="Đơn vị, chủ trì").click()  # 2024's lead leaves
    await row.locator("form[action$='/leave'] select").select_option(
        label="Công an tỉnh Bình Thuận (thử)"
    )
    await row.locator("input[name=left_on]").fill("2024-12-31")
    await row.locator("button", has_text="Đơn vị rời").click()
    row = page.locator("tr", has_text="Chương trình thử qua trang web 2024-2026").last
    assert "Công an tỉnh Bình Thuận (thử) (rời 31/12/2024)" in await row.inner_text()

    programme = page.locator("tr", has_text="99/QĐ-UBND-THU")
    await programme.locator("summary", has_text="Thêm văn bản").click()
    await programme.locator("input[name=number]").fill("100/QĐ-UBND-THU")
    await programme.locator("input[name=issued_on]").fill("2025-02-01")
    await programme.locator("input[name=issuer]").fill("UBND tỉnh Bình Thuận")
    await programme.locator("button", has_text="Thêm văn bản").click()
    assert "100/QĐ-UBND-THU ngày 01/02/2025" in await page.inner_text("main")
    await visit.shot("10-setup")
    row = page.locator("tr", has_text="Chương trình thử qua trang web 2024-2026").last

    await row.locator("button", has_text="Chuyển sang xã mới").click()
    row = page.locator("tr", has_text="Chương trình thử qua trang web 2024-2026").last
    assert "từ 01/7/2025" in await row.inner_text()

    await row.locator("a", has_text="Kế hoạch năm").click()
    await page.fill("input[name=year]", "2025")
    await page.click("form.filters button[type=submit]")
    await page.fill("#k-description", "Xây 1 phòng học")
    await page.select_option("#k-category", "infrastructure_classroom")
    await page.select_option("#k-quarter", "3")
    await page.fill("#k-value", "150.000.000")
    await page.click("#commitment-form button[type=submit]")
    commitments = await page.inner_text("#commitments")
    assert "Xây 1 phòng học" in commitments
    assert "150.000.000 đ" in commitments
    assert "Chưa thực hiện" in commitments
    await visit.shot("11-plan")
    assert await visit.accessible() == []

    await page.goto(f"{web}/provinces/60/setup")  # the assignment ends, its history stays
    row = page.locator("tr", has_text="Chương trình thử qua trang web 2024-2026").last
    await row.locator("summary", has_text="Đơn vị, chủ trì").click()
    await row.locator("input[name=ended_on]").fill("2026-06-30")
    await row.locator("input[name=reason]").fill("Xã đã thoát khỏi diện đặc biệt khó khăn")
    await row.locator("button", has_text="Kết thúc phân công").click()
    row = page.locator("tr", has_text="Chương trình thử qua trang web 2024-2026").last
    assert "kết thúc 30/06/2026" in await row.inner_text()
