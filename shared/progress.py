"""Progress of long operations (loading the administrative units, an import, a rebuild),
told to whoever watches: a terminal line, or a log line in a service."""

import time
from collections.abc import Callable

Progress = Callable[[int, int], None]
"""Told `(done, total)` as a long operation goes; `total` is 0 while it is not known."""


def no_progress(done: int, total: int) -> None:
    """Nobody is watching."""


class Meter:
    """A `Progress` that writes a line with the share done and the rate, at most every
    `every` seconds, and always when the work is done."""

    def __init__(self, what: str, write: Callable[[str], None] = print, every: float = 1.0) -> None:
        self.what = what
        self._write = write
        self._every = every
        self._started = self._last = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - self._last < self._every and done != total:
            return
        self._last = now
        self._write(self.line(done, total, now - self._started))

    def line(self, done: int, total: int, elapsed: float) -> str:
        return describe(self.what, done, total, elapsed)


def describe(what: str, done: int, total: int, elapsed: float) -> str:
    """`what: done/total (share), rate/s, elapsed s`, the line every progress is told in."""
    share = f"/{total:,} ({done / total:6.1%})" if total else ""
    rate = done / elapsed if elapsed > 0 else 0.0
    return f"{what}: {done:,}{share}, {rate:,.0f}/s, {elapsed:.1f} s"
