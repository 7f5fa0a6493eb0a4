"""`python -m services.registry.demo [URL]`: the published cases of `../shared/product.md`
(`shared.demo_cases`, which names every assumption) recorded through the registry's public
API, as `ketnghia demo` does.

Ids are derived from the facts, so a second run finds everything in place and records
nothing new. Every commune assignment then continues on the commune's 2025 successor, as
the reform requires: Hàm Cần on Hàm Thạnh (Lâm Đồng), Mai Hịch on Bao La (Phú Thọ),
Chiềng Sơ on Mường Luân, La Dêê on La Dêê of Đà Nẵng.
"""

import asyncio
import sys
from dataclasses import dataclass
from typing import Any

import httpx

from shared.demo_cases import CASES, Case, demo_assignment_id, demo_id, demo_unit_id
from shared.editions import PRE_2025


@dataclass
class Tally:
    created: int = 0
    present: int = 0
    continued: int = 0


async def _create(client: httpx.AsyncClient, path: str, body: dict[str, Any], tally: Tally) -> None:
    response = await client.post(path, json=body)
    if response.status_code == 409:
        tally.present += 1
    elif response.status_code == 201:
        tally.created += 1
    else:
        raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")


async def load_case(client: httpx.AsyncClient, case: Case, tally: Tally) -> list[str]:
    """Record one case; returns its assignment ids."""
    programme_id = demo_id("programme", case.province, case.programme)
    unit_ids = {name: demo_unit_id(case.province, name) for name in case.units}
    for name, kind in case.units.items():
        body: dict[str, Any] = {
            "id": unit_ids[name],
            "province": case.province,
            "name": name,
            "kind": kind,
        }
        await _create(client, "/sponsor-units", body, tally)
    programme = {
        "id": programme_id,
        "province": case.province,
        "name": case.programme,
        "start_year": case.period[0],
        "end_year": case.period[1],
        "scope": case.scope,
        "legal_bases": case.legal_bases,
    }
    await _create(client, "/programmes", programme, tally)
    bases = {basis["number"]: basis for basis in case.legal_bases}
    assignment_ids = []
    for kind, code, members, joined_on, leads, basis in case.assignments:
        assignment_id = demo_assignment_id(case.province, kind, code)
        body = {
            "id": assignment_id,
            "programme_id": programme_id,
            "target": {"kind": kind, "edition": PRE_2025, "code": code},
            "legal_basis": bases[basis] if basis else None,
            "members": [{"sponsor_unit_id": unit_ids[m], "joined_on": joined_on} for m in members],
            "leads": {str(year): unit_ids[unit] for year, unit in leads.items()},
        }
        await _create(client, "/assignments", body, tally)
        assignment_ids.append(assignment_id)
    for classification in case.classifications:
        facts = {k: v for k, v in classification.items() if k != "code"}
        path = f"/communes/{PRE_2025}/{classification['code']}/classifications"
        known = (await client.get(path)).json()
        if any(row["kind"] == facts["kind"] and row["source"] == facts["source"] for row in known):
            tally.present += 1
        else:
            await _create(client, path, {"province": case.province, **facts}, tally)
    return assignment_ids


async def continue_after_reform(
    client: httpx.AsyncClient, assignment_id: str, tally: Tally
) -> None:
    """The commune was merged on 1 July 2025: carry the assignment over to its successor."""
    assignment = (await client.get(f"/assignments/{assignment_id}")).json()
    current = assignment["targets"][-1]
    if current["kind"] == "district" or current["edition"] != PRE_2025:
        return
    response = await client.post(
        f"/assignments/{assignment_id}/succession",
        json={},
        headers={"If-Match": f'"{assignment["version"]}"'},
    )
    response.raise_for_status()
    tally.continued += 1


async def load_demo(client: httpx.AsyncClient) -> Tally:
    tally = Tally()
    for case in CASES:
        for assignment_id in await load_case(client, case, tally):
            await continue_after_reform(client, assignment_id, tally)
    return tally


async def main(url: str, token: str | None = None) -> None:
    """Load through the service at `url`, signed in with `token` (a bearer token)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=headers) as client:
        tally = await load_demo(client)
        print(
            f"dữ liệu mẫu: {tally.created} bản ghi mới, {tally.present} đã có, "
            f"{tally.continued} phân công chuyển sang xã mới / "
            f"demo data: {tally.created} created, {tally.present} already there, "
            f"{tally.continued} assignments continued on 2025 communes"
        )
        for old_code, name in (
            ("23116", "Hàm Cần"),
            ("05257", "Mai Hịch"),
            ("03211", "Chiềng Sơ"),
            ("20704", "La Dêê"),
        ):
            lineage = (await client.get(f"/lineage/communes/{old_code}")).json()
            becomes = ", ".join(
                f"{s['name']} ({s['code']}, tỉnh {s['province_code']})"
                for s in lineage["successors"]
            )
            print(f"  xã {name} ({old_code}) → {becomes}")
        print(f"  {url}/communes/2025/23122/helpers?on=2025-08-01  (ai giúp xã Hàm Thạnh)")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8001"))
