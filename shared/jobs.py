"""Work a request starts and answers for before it is done (an import): the tasks a
service runs in the background, told to stop when the service stops.

A job runs in a context of its own (not the request's: what the request's middleware
collects, such as the consistency token, is not written to after the answer left). On
shutdown a job gets `grace` seconds to finish, then it is cancelled; a job records its own
state (`running`, `done`, `failed`), so a cancelled one says it was interrupted.
"""

import asyncio
import contextvars
from collections.abc import Coroutine
from typing import Any

import structlog

log = structlog.get_logger(__name__)


class Jobs:
    def __init__(self) -> None:
        self._running: set[asyncio.Task[Any]] = set()

    def start(self, work: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(work, name=name, context=contextvars.Context())
        self._running.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("job failed", job=task.get_name(), exc_info=task.exception())

    @property
    def running(self) -> int:
        return len(self._running)

    async def stop(self, grace: float = 10.0) -> None:
        if not self._running:
            return
        _done, pending = await asyncio.wait(set(self._running), timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
