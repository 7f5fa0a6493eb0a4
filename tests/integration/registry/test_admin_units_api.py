"""Administrative units and lineage, loaded into PostgreSQL and read over HTTP."""

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.registry.adapters.admin_dataset import AdminDataset
from services.registry.adapters.tables import admin_units, commune_successions
from services.registry.service_layer.admin_units import load_admin_units


async def test_what_old_commune_ham_can_became(registry: httpx.AsyncClient) -> None:
    lineage = (await registry.get("/lineage/communes/23116")).json()
    assert lineage["old"]["name"] == "Xã Hàm Cần"
    assert lineage["old"]["province_code"] == "60"  # Bình Thuận, before the reform
    assert lineage["split"] is False
    [successor] = lineage["successors"]
    assert successor["name"] == "Xã Hàm Thạnh"
    assert successor["code"] == "23122"
    assert successor["province_code"] == "68"  # Lâm Đồng
    assert successor["share"] == "whole"


async def test_a_split_commune_lists_every_successor_main_one_first(
    registry: httpx.AsyncClient, dataset: AdminDataset
) -> None:
    split_code = next(s.old_code for s in dataset.successions if s.share == "part")
    expected = {s.new_code for s in dataset.successions if s.old_code == split_code}

    lineage = (await registry.get(f"/lineage/communes/{split_code}")).json()

    assert lineage["split"] is True
    assert {s["code"] for s in lineage["successors"]} == expected
    assert lineage["successors"][0]["is_default"] is True
    assert [s["is_default"] for s in lineage["successors"]].count(True) == 1


async def test_a_code_reads_differently_in_each_edition(registry: httpx.AsyncClient) -> None:
    before = (await registry.get("/admin-units/pre-2025/commune/20704")).json()
    after = (await registry.get("/admin-units/2025/commune/20704")).json()
    assert before["name"] == after["name"] == "Xã La Dêê"
    assert (before["province_code"], after["province_code"]) == ("49", "48")  # → Đà Nẵng


async def test_search_finds_names_with_or_without_diacritics(registry: httpx.AsyncClient) -> None:
    plain = (await registry.get("/admin-units", params={"q": "ham can"})).json()
    marked = (await registry.get("/admin-units", params={"q": "Hàm Cần"})).json()
    assert plain == marked
    assert ("pre-2025", "23116") in {(u["edition"], u["code"]) for u in plain}


async def test_unknown_codes_and_editions_are_clear_errors(registry: httpx.AsyncClient) -> None:
    missing = await registry.get("/lineage/communes/99999")
    wrong_edition = await registry.get("/admin-units/2019/commune/23116")
    assert missing.status_code == 404
    assert "99999" in missing.json()["detail"]
    assert wrong_edition.status_code == 422
    assert wrong_edition.json()["detail"][0]["loc"] == ["path", "edition"]


async def test_loading_the_same_dataset_version_again_writes_nothing(
    registry_engine: AsyncEngine, dataset: AdminDataset
) -> None:
    async with registry_engine.begin() as conn:
        assert await load_admin_units(conn, dataset) is False
        units = await conn.scalar(select(func.count()).select_from(admin_units))
        links = await conn.scalar(select(func.count()).select_from(commune_successions))
    assert units == len(dataset.units)
    assert links == len(dataset.successions)


async def test_which_old_communes_became_ham_thanh_and_a_districts_communes(
    registry: httpx.AsyncClient,
) -> None:
    ham_thanh = await registry.get("/admin-units/2025/commune/23122/predecessors")
    dong_giang = (await registry.get("/admin-units/pre-2025/commune/23074")).json()
    district = dong_giang["parent_code"]
    communes = await registry.get(f"/admin-units/pre-2025/district/{district}/children")
    nowhere = await registry.get("/admin-units/2025/commune/99999/predecessors")

    assert ham_thanh.status_code == 200
    before = {(p["edition"], p["code"]): p["share"] for p in ham_thanh.json()["predecessors"]}
    assert before[("pre-2025", "23116")] == "whole"  # xã Hàm Cần
    assert {edition for edition, _code in before} == {"pre-2025"}
    assert ham_thanh.json()["commune"]["edition"] == "2025"
    assert "23074" in {c["code"] for c in communes.json()}
    assert {c["level"] for c in communes.json()} == {"commune"}
    assert nowhere.status_code == 404
