"""Background jobs (`shared.jobs`) and how an import's state reads when its service died."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from services.activities.service_layer.imports import INTERRUPTED, STALLED, describe_import
from shared.jobs import Jobs


async def test_stopping_lets_a_quick_job_finish_and_cancels_a_slow_one() -> None:
    jobs, finished = Jobs(), []

    async def work(seconds: float) -> None:
        try:
            await asyncio.sleep(seconds)
            finished.append(seconds)
        except asyncio.CancelledError:
            finished.append(-seconds)
            raise

    jobs.start(work(0.01), "quick")
    jobs.start(work(30), "slow")
    assert jobs.running == 2
    await jobs.stop(grace=0.2)

    assert sorted(finished) == [-30, 0.01]
    assert jobs.running == 0


def _import(status: str, quiet_for: timedelta) -> dict[str, Any]:
    return {"status": status, "updated_at": datetime.now(UTC) - quiet_for, "rows": 4_000,
            "recorded": 3_990, "already_recorded": 0, "refused_rows": 10, "errors": [],
            "failure": None}  # fmt: skip


def test_a_running_import_that_fell_silent_reads_as_interrupted() -> None:
    silent = describe_import(_import("running", STALLED + timedelta(seconds=1)))
    busy = describe_import(_import("running", timedelta(seconds=3)))

    assert (silent["status"], silent["failure"]) == ("failed", INTERRUPTED)
    assert (busy["status"], busy["failure"]) == ("running", None)
    assert busy["summary"].endswith("(đang nhập…)")
