"""The published activities load as demo data, through the API and through an import file,
and a second load records nothing new."""

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.activities.demo import HAM_CAN, load_demo
from services.registry.demo import Tally
from shared.tables import events


async def test_the_published_activities_load_once(
    activities: httpx.AsyncClient, activities_engine: AsyncEngine, demo: Tally
) -> None:
    first = await load_demo(activities)
    async with activities_engine.connect() as conn:
        stored = await conn.scalar(select(func.count()).select_from(events))
    again = await load_demo(activities)
    async with activities_engine.connect() as conn:
        after = await conn.scalar(select(func.count()).select_from(events))

    assert first["imported"]["recorded"] == 5
    assert (again["recorded"], again["imported"]["recorded"]) == (0, 0)
    assert again["imported"]["already_recorded"] == 5
    assert after == stored

    dong_giang = (
        await activities.get("/activities", params={"commune_code": "23074", "to": "2024-12-31"})
    ).json()
    bicycles = [a for a in dong_giang if a["category"] == "scholarship_school_equipment"]
    assert [(a["value_vnd"], a["quantity"]) for a in bicycles] == [
        (21_750_000, {"amount": "15", "unit": "chiếc"})
    ]
    plan = (await activities.get(f"/assignments/{HAM_CAN}/plans/2024")).json()
    assert [(c["id"], c["fulfilled"]) for c in plan["commitments"]] == [("ho-kinh-te", True)]
