"""The registry's demo cases, heard by the activities service from the registry's events."""

import asyncio

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.activities.adapters.tables import known_assignments
from services.registry.entrypoints.demo import Tally, load_demo

DEMO_ASSIGNMENTS = 17  # 16 on communes, and Tam Kỳ with huyện Nam Giang


@pytest.fixture(scope="module")
async def demo(
    registry: httpx.AsyncClient, activities: httpx.AsyncClient, activities_engine: AsyncEngine
) -> Tally:
    """Loaded through the registry's API, once the activities service has heard of all."""
    tally = await load_demo(registry)
    heard = 0
    for _attempt in range(300):
        async with activities_engine.connect() as conn:
            heard = await conn.scalar(select(func.count()).select_from(known_assignments)) or 0
        if heard == DEMO_ASSIGNMENTS:
            return tally
        await asyncio.sleep(0.1)
    raise AssertionError(f"the activities service heard of {heard} demo assignments")
