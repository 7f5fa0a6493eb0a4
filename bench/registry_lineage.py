"""Latency of "what did old commune X become" over HTTP, against the running registry.

    make run && python -m bench.registry_lineage [--requests 2000]

Baseline in the same run: `/healthz` on the same server, which touches no database.
"""

import argparse
import asyncio
import random
import statistics
import time

import httpx

from services.registry.adapters.admin_dataset import load_dataset


async def latencies(client: httpx.AsyncClient, paths: list[str]) -> list[float]:
    measured = []
    for path in paths:
        started = time.perf_counter()
        response = await client.get(path)
        measured.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return measured


def summary(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[int(len(ordered) * 0.95)]
    return f"{name:<22} p50 {statistics.median(ordered):6.2f} ms   p95 {p95:6.2f} ms"


async def run(base_url: str, requests: int) -> None:
    old_codes = sorted({s.old_code for s in load_dataset().successions})
    sample = random.Random(2025).choices(old_codes, k=requests)
    async with httpx.AsyncClient(base_url=base_url) as client:
        await latencies(client, ["/healthz"] * 50)  # warm the connection
        baseline = await latencies(client, ["/healthz"] * requests)
        lineage = await latencies(client, [f"/lineage/communes/{code}" for code in sample])
    print(f"{requests} sequential requests, one client, random old communes")
    print(summary("baseline /healthz", baseline))
    print(summary("/lineage/communes/{c}", lineage))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", default="http://127.0.0.1:8001")
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(run(args.base_url, args.requests))


if __name__ == "__main__":
    main()
