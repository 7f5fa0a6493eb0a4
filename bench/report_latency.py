"""From an activity accepted by the activities API to it being counted in the commune
report, under steady load.

    python -m bench.report_latency [--rate 200] [--batch 10] [--seconds 30]

The registry, the activities and the reporting services run in child processes on schemas
and topics of their own; the registry gets the demo cases. Load is open-loop: a request
leaves every `batch / rate` seconds whether or not the previous one has answered. With
`--batch 1` each activity is a `POST /activities`; with more, `batch` activities go in one
`POST /imports` (a CSV sheet), because one activities process on this 2-core machine
answers about 80 single POSTs a second.

Every activity goes to xã Hàm Cần, and a poller asks the reporting service for that
commune's report every 50 ms: activity k is visible once the report counts k activities
(≈, by order; the poll interval adds up to 50 ms). Baselines in the same run: single
activities at 2 a second, on idle services; and the whole measure twice, the outbox relay
polling only (`OUTBOX_LISTEN=false`, every 0.2 s) and woken by each commit's NOTIFY.
"""

import argparse
import asyncio
import csv
import io
import time
from dataclasses import dataclass, field
from datetime import timedelta

import httpx

from bench.activities_throughput import FIRST_DAY, activity, prepare, wait_heard
from bench.common import percentiles, signed_client, three_services
from services.activities.demo import import_and_wait
from services.activities.service_layer.imports import COLUMNS
from shared.demo_cases import HOI_NONG_DAN_BT
from shared.devstack import Endpoints, provided_endpoints

REPORT = "/reports/communes/pre-2025/23116"
POLL_SECONDS = 0.05


@dataclass
class Visibility:
    """When the commune report first counted 1, 2, … activities."""

    counted_at: list[float] = field(default_factory=list)
    report_ms: list[float] = field(default_factory=list)

    async def watch(self, client: httpx.AsyncClient, stop: asyncio.Event) -> None:
        while not stop.is_set():
            started = time.perf_counter()
            report = (await client.get(REPORT)).json()
            now = time.perf_counter()
            self.report_ms.append((now - started) * 1000)
            counted = report["totals"]["activities"]
            self.counted_at += [now] * (counted - len(self.counted_at))
            await asyncio.sleep(POLL_SECONDS)


def sheet(first: int, rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([column.header for column in COLUMNS])
    for n in range(first, first + rows):
        row = {
            "commune_code": "23116",
            "edition": "trước 2025",
            "unit": HOI_NONG_DAN_BT,
            "occurred_on": (FIRST_DAY + timedelta(days=n % 280)).strftime("%d/%m/%Y"),
            "category": "Quà tặng bằng hiện vật",
            "description": f"Quà hộ nghèo, lần {n}",
            "value_vnd": 300_000 + n,
        }
        writer.writerow([row.get(column.key, "") for column in COLUMNS])
    return out.getvalue().encode()


async def load(
    activities: httpx.AsyncClient, rate: float, batch: int, seconds: float, first: int
) -> list[float]:
    """Send `rate` activities a second for `seconds`; returns each one's acceptance time."""
    accepted: list[float] = []
    requests = int(rate * seconds / batch)

    async def send(index: int) -> None:
        start = first + index * batch
        if batch == 1:
            response = await activities.post("/activities", json=activity(start))
        else:
            report = await import_and_wait(activities, "60", "tai.csv", sheet(start, batch))
            if report["recorded"] != batch:
                raise RuntimeError(f"import refused rows: {report['errors'][:3]}")
            accepted.extend([time.perf_counter()] * batch)
            return
        response.raise_for_status()
        accepted.extend([time.perf_counter()] * batch)

    began = time.perf_counter()
    sending = []
    for index in range(requests):
        await asyncio.sleep(max(0.0, began + index * batch / rate - time.perf_counter()))
        sending.append(asyncio.create_task(send(index)))
    await asyncio.gather(*sending)
    return sorted(accepted)


async def phase(
    activities: httpx.AsyncClient,
    reporting: httpx.AsyncClient,
    name: str,
    rate: float,
    batch: int,
    seconds: float,
) -> None:
    before = (await reporting.get(REPORT)).json()["totals"]["activities"]
    visibility = Visibility(counted_at=[0.0] * before)
    stop = asyncio.Event()
    watching = asyncio.create_task(visibility.watch(reporting, stop))
    began = time.perf_counter()
    accepted = await load(activities, rate, batch, seconds, first=before + 1_000_000)
    sent_for = time.perf_counter() - began
    deadline = time.perf_counter() + 120
    while len(visibility.counted_at) < before + len(accepted) and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
    stop.set()
    await watching
    seen = visibility.counted_at[before:]
    delays = [(shown - taken) * 1000 for taken, shown in zip(accepted, seen, strict=False)]
    print(f"{name}: {len(accepted):,} activities in {sent_for:.1f} s "
          f"({len(accepted) / sent_for:,.0f}/s, {batch} per request)")  # fmt: skip
    print(f"  accepted → in the report (ms) {percentiles(delays)}  ({len(seen):,} seen)")
    print(f"  report GET while loaded (ms)  {percentiles(visibility.report_ms)}")


async def run(endpoints: Endpoints, rate: float, batch: int, seconds: float) -> None:
    for relay in ("polling only", "woken by NOTIFY"):  # the relay's baseline in the same run
        print(f"== outbox relay {relay}")
        listen = "true" if "NOTIFY" in relay else "false"
        async with three_services(endpoints, outbox_listen=listen) as (urls, schemas, _topics):
            await prepare(endpoints, schemas["registry"], urls["registry"])
            await wait_heard(endpoints, schemas["activities"])
            async with (
                signed_client(urls["activities"], timeout=120) as activities,
                signed_client(urls["reporting"], timeout=120) as reporting,
            ):
                await phase(activities, reporting, "baseline, idle", 2, 1, 10)
                await phase(activities, reporting, "steady load", rate, batch, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200, help="activities per second")
    parser.add_argument("--batch", type=int, default=10, help="activities per request")
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    with provided_endpoints() as endpoints:
        asyncio.run(run(endpoints, args.rate, args.batch, args.seconds))


if __name__ == "__main__":
    main()
