"""Detached processes the stack starts, remembered by PID, and the ports they listen on."""

import os
import shutil
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

import psutil
from tenacity import Retrying, retry_if_result, stop_after_delay, wait_fixed


class StackError(RuntimeError):
    """The local stack cannot start; the message says what to do."""


JAVA = "Java 17 or newer (e.g. apt-get install openjdk-17-jre-headless)"
MAVEN = "Apache Maven (e.g. apt-get install maven)"
EMPTY_CMDLINE_READS = 40  # 2 s


def require(tool: str, needed_by: str, what: str) -> None:
    if shutil.which(tool) is None:
        raise StackError(f"`{tool}` is not on PATH: {needed_by} needs {what}.")


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.5) -> bool:
    """Call `check` until it returns True (then True) or `timeout` passes (then False).
    An exception from `check` ends the wait at once and propagates."""
    waiting = Retrying(
        retry=retry_if_result(lambda ready: not ready),
        wait=wait_fixed(interval),
        stop=stop_after_delay(timeout),
        retry_error_callback=lambda _state: False,
    )
    return bool(waiting(check))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    """Whether a server could listen on `port` now; like Kafka and PostgreSQL, the probe
    binds with SO_REUSEADDR, so a port with connections in TIME_WAIT counts as free."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def is_running(pid: int | None, marker: str) -> bool:
    """True when `pid` is alive and its command line contains `marker`.

    The marker (a path of ours) keeps a recycled PID from being taken for our process.
    """
    if not pid:
        return False
    try:
        process = psutil.Process(pid)
        # Read again only while the process is young: a kernel thread under a recycled PID
        # reads empty for good, and must not cost each call the whole wait.
        young = time.time() - process.create_time() < 10
        for _ in range(EMPTY_CMDLINE_READS if young else 1):
            if process.status() == psutil.STATUS_ZOMBIE:
                return False
            cmdline = process.cmdline()
            if cmdline:
                return marker in " ".join(cmdline)
            # A JVM's command line reads empty for a moment while it starts (seen in 2 of
            # 30 starts of `java`): read again rather than take it for another process.
            time.sleep(0.05)
        return False
    except psutil.Error:
        return False


def stop_orphans(marker: str) -> None:
    """Stop processes of ours whose PID was never recorded (a start that was cut off):
    they would hold the data directory's lock."""
    for process in psutil.process_iter(["pid", "cmdline"]):
        if marker in " ".join(process.info["cmdline"] or []):
            stop(process.info["pid"], marker)


def stop(pid: int, marker: str, timeout: float = 30.0) -> None:
    """SIGTERM, wait for a clean exit, SIGKILL if it does not come."""
    if not is_running(pid, marker):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_running(pid, marker):
            return
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)


def tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return f"(no log at {path})"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
