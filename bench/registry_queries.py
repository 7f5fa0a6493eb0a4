"""The registry's figures: loading the administrative units, recording assignments, and
the latency of its questions over real HTTP, each against a baseline in the same run.

    python -m bench.registry_queries [--assignments 1000] [--requests 2000]

It runs on the stack `shared.devstack` provides (started if needed), in a schema and topic
of its own, with the registry served by uvicorn in a child process. Baseline: `/healthz`
on the same server, which touches no database.
"""

import argparse
import asyncio
import random
import time
import uuid
from collections import defaultdict

import httpx
from sqlalchemy import text

from bench.common import percentiles, service_process, signed_client
from services.registry.adapters.admin_dataset import AdminDataset, load_dataset
from services.registry.demo import load_demo
from services.registry.service_layer.admin_units import load_admin_units
from services.registry.service_layer.projection import rebuild
from shared.db import create_engine
from shared.devstack import Endpoints, provided_endpoints
from shared.migrations import upgrade


async def latencies(client: httpx.AsyncClient, paths: list[str]) -> list[float]:
    measured = []
    for path in paths:
        started = time.perf_counter()
        response = await client.get(path)
        measured.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return measured


def summary(name: str, values: list[float]) -> str:
    return f"{name:<34} (ms) {percentiles(values)}"


async def seed(
    client: httpx.AsyncClient, dataset: AdminDataset, count: int
) -> tuple[list[str], list[str]]:
    """`count` assignments on random pre-2025 communes, three units each, one programme per
    province; returns the communes and the units."""
    communes = random.Random(7).sample(
        [u for u in dataset.units if u.edition == "pre-2025" and u.level == "commune"], count
    )
    by_province = defaultdict(list)
    for commune in communes:
        by_province[commune.province_code].append(commune)
    units: list[str] = []
    for province, targets in by_province.items():
        programme = await client.post(
            "/programmes",
            json={"province": province, "name": "Bench", "start_year": 2021, "end_year": 2025},
        )
        members = []
        for index in range(3):
            unit = await client.post(
                "/sponsor-units",
                json={"province": province, "name": f"Đơn vị {index}", "kind": "department"},
            )
            members.append(unit.json()["id"])
        units.extend(members)
        for target in targets:
            response = await client.post(
                "/assignments",
                json={
                    "programme_id": programme.json()["id"],
                    "target": {"kind": "commune", "edition": "pre-2025", "code": target.code},
                    "members": [{"sponsor_unit_id": m, "joined_on": "2021-03-01"} for m in members],
                    "leads": {str(year): members[year % 3] for year in range(2021, 2026)},
                },
            )
            response.raise_for_status()
    return [c.code for c in communes], units


async def run(endpoints: Endpoints, assignments: int, requests: int) -> None:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    await asyncio.to_thread(upgrade, "registry", endpoints.database_url, schema)
    engine = create_engine(endpoints.database_url, schema)
    try:
        started = time.perf_counter()
        dataset = load_dataset()
        read = time.perf_counter() - started
        async with engine.begin() as conn:
            await load_admin_units(conn, dataset)
        print(
            f"administrative units: read {len(dataset.units):,} units and "
            f"{len(dataset.successions):,} lineage links in {read:.2f} s, "
            f"loaded into PostgreSQL in {time.perf_counter() - started - read:.2f} s"
        )
        topic = f"bench.registry.{schema}"
        with service_process(
            "registry", endpoints, database_schema=schema, registry_topic=topic
        ) as url:
            async with signed_client(url, timeout=30) as client:
                await load_demo(client)
                started = time.perf_counter()
                communes, units = await seed(client, dataset, assignments)
                elapsed = time.perf_counter() - started
                print(
                    f"seeded {assignments:,} assignments (+ programmes, units) over HTTP in "
                    f"{elapsed:.1f} s: {assignments / elapsed:,.0f} assignments/s"
                )
                await measure(client, communes, units, requests)
        started = time.perf_counter()
        async with engine.begin() as conn:
            replayed = await rebuild(conn)
        elapsed = time.perf_counter() - started
        print(f"rebuild of the read models: {replayed:,} events in {elapsed:.2f} s")
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await engine.dispose()


async def measure(
    client: httpx.AsyncClient, communes: list[str], units: list[str], requests: int
) -> None:
    pick = random.Random(2025)
    days = [f"{pick.randint(2021, 2025)}-{pick.randint(1, 12):02d}-15" for _ in range(requests)]
    helpers = [f"/communes/pre-2025/{pick.choice(communes)}/helpers?on={day}" for day in days]
    await latencies(client, ["/healthz"] * 50)  # warm the connection
    baseline = await latencies(client, ["/healthz"] * requests)
    helped = await latencies(client, helpers)
    lineage = await latencies(
        client, [f"/lineage/communes/{pick.choice(communes)}" for _ in range(requests)]
    )
    targets = await latencies(
        client, [f"/sponsor-units/{pick.choice(units)}/targets" for _ in range(requests // 4)]
    )
    print(f"{requests:,} sequential requests per question, one client, random communes")
    print(summary("baseline /healthz", baseline))
    print(summary("who helps commune C on day D", helped))
    print(summary("what did old commune X become", lineage))
    print(summary("which targets does unit U help", targets))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--assignments", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    with provided_endpoints() as endpoints:
        asyncio.run(run(endpoints, args.assignments, args.requests))


if __name__ == "__main__":
    main()
