"""Requests per second of the activities service, measured by a load generator that is not
Python (wrk), under three ways of serving it, in one run.

    python -m bench.http_recording [--seconds 10] [--connections 32]

wrk (Debian's package; `make bench` installs it) sends from one thread on loopback, so the
client takes little of the server's two cores. For each way of serving, one after the
other on the same data: `GET /healthz` (the HTTP ceiling: routing, middleware, no
database) and `POST /activities`, each request a new activity with its own id, signed in
as the operations account. Every answer must be a success; wrk counts the others.

The ways of serving: uvicorn's pure-Python stack (h11 on asyncio's loop, as the services
ran before), its compiled one (httptools on uvloop), and that with two worker processes.
"""

import argparse
import asyncio
import re
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench.activities_throughput import HAM_CAN, prepare, wait_heard
from bench.common import drop_schemas, issuer, service_process
from shared.demo_cases import HOI_NONG_DAN_BT
from shared.demo_cases import demo_unit_id as unit_id
from shared.devstack import Endpoints, provided_endpoints
from shared.devstack.signing import OPERATIONS
from shared.migrations import upgrade

SERVING = {
    "h11 + asyncio, 1 worker": {"http": "h11", "loop": "asyncio", "workers": 1},
    "httptools + uvloop, 1 worker": {"http": "httptools", "loop": "uvloop", "workers": 1},
    "httptools + uvloop, 2 workers": {"http": "httptools", "loop": "uvloop", "workers": 2},
}

# Each request a new activity: an id made of the thread's counter and random digits, the
# day spread over the year (the body is the one `bench.activities_throughput` posts).
RECORDING = """
local counter = 0
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
local function hex(digits)
  local out = ""
  for _ = 1, digits do out = out .. string.format("%x", math.random(0, 15)) end
  return out
end
request = function()
  counter = counter + 1
  local id = hex(8) .. "-" .. hex(4) .. "-4" .. hex(3) .. "-a" .. hex(3) .. "-" ..
    string.format("%012x", counter)
  local day = string.format("2024-%02d-%02d", 10 + counter % 3, 1 + counter % 28)
  local body = '{"id": "' .. id .. '", "assignment_id": "ASSIGNMENT", ' ..
    '"commune": {"edition": "pre-2025", "code": "23116"}, "occurred_on": "' .. day .. '", ' ..
    '"category": "gifts_in_kind", "description": "Tặng quà hộ nghèo, đợt ' .. counter ..
    '", "value_vnd": ' .. (500000 + counter) .. ', "sponsor_unit_id": "UNIT", ' ..
    '"quantity": {"amount": 1, "unit": "suất"}, ' ..
    '"beneficiaries": [{"count": 1, "kind": "households", "group": "poor"}]}'
  return wrk.format("POST", "/activities", {
    ["Authorization"] = "Bearer TOKEN",
    ["Content-Type"] = "application/json",
  }, body)
end
"""


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    latency: str  # p50 / p99, as wrk prints them
    failed: int  # answers that were no success, and socket errors
    problems: str  # wrk's lines about them


def wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is missing: `make bench` installs it (Debian's package wrk)")
    return found


def load(url: str, seconds: int, connections: int, script: Path | None = None) -> Load:
    """wrk against `url` for `seconds`, `connections` open, one thread."""
    command = [wrk(), "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout=10s", "--latency", url]
    if script is not None:
        command[1:1] = ["-s", str(script)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rate is None:
        raise RuntimeError(f"wrk printed no rate:\n{out}")
    quantiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.MULTILINE))
    failed = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    failed += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    problems = "; ".join(re.findall(r"^\s*(Socket errors.*|Non-2xx.*)$", out, re.MULTILINE))
    latency = f"p50 {quantiles.get('50', '?')}, p99 {quantiles.get('99', '?')}"
    return Load(float(rate[1]), latency, failed, problems)


async def run(endpoints: Endpoints, seconds: int, connections: int, only: str) -> None:
    tag = uuid.uuid4().hex[:8]
    schemas = {"registry": f"bench_reg_h{tag}", "activities": f"bench_act_h{tag}"}
    topics = {"registry_topic": f"bench.registry.h{tag}", "activities_topic": f"bench.act.h{tag}"}
    for service, schema in schemas.items():
        await asyncio.to_thread(upgrade, service, endpoints.database_url, schema)
    token = issuer().token(OPERATIONS, lifetime=3600)
    script = Path(tempfile.mkdtemp()) / "recording.lua"
    filled = {"ASSIGNMENT": HAM_CAN, "UNIT": unit_id("60", HOI_NONG_DAN_BT), "TOKEN": token}
    script.write_text(re.sub("|".join(filled), lambda name: filled[name[0]], RECORDING))
    rows = []
    try:
        with service_process(
            "registry", endpoints, database_schema=schemas["registry"], **topics
        ) as registry_url:
            await prepare(endpoints, schemas["registry"], registry_url)
            for name, serving in SERVING.items():
                if only not in name:
                    continue
                with service_process(
                    "activities", endpoints, database_schema=schemas["activities"],
                    uvicorn=serving, **topics,
                ) as url:  # fmt: skip
                    await wait_heard(endpoints, schemas["activities"])
                    health = await asyncio.to_thread(load, f"{url}/healthz", seconds, connections)
                    posts = await asyncio.to_thread(load, url, seconds, connections, script)
                    rows.append((name, health, posts))
    finally:
        await drop_schemas(endpoints.database_url, *schemas.values())
    print(f"wrk, 1 thread, {connections} connections, {seconds} s each; the activities service")
    print(f"{'serving':<32}{'GET /healthz /s':>16}{'POST /activities /s':>21}{'ratio':>7}  latency")
    for name, health, posts in rows:
        ratio = posts.requests_per_second / health.requests_per_second
        print(
            f"{name:<32}{health.requests_per_second:>16,.0f}{posts.requests_per_second:>21,.0f}"
            f"{ratio:>7.2f}  GET {health.latency}; POST {posts.latency}"
        )
        if health.failed or posts.failed:
            print(f"  NOT ALL SUCCEEDED: GET {health.problems or 0}; POST {posts.problems or 0}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only", default="", help="the ways of serving whose name has this")
    args = parser.parse_args()
    with provided_endpoints() as endpoints:
        asyncio.run(run(endpoints, args.seconds, args.connections, args.only))


if __name__ == "__main__":
    main()
