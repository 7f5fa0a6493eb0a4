"""How the local stack tells its own processes from others by PID.

A JVM's command line reads empty for a moment while it starts; CI once took a starting
broker for one that had exited, stopped waiting for it, and failed the run.
"""

import time
from collections.abc import Iterator

import psutil
import pytest

from shared.devstack import processes


class Starting:
    """A process whose command line reads empty `empty_reads` times, then `cmdline`."""

    def __init__(
        self, cmdline: list[str], empty_reads: int, status: str = "running", age: float = 0.1
    ) -> None:
        self.reads: Iterator[list[str]] = iter([[]] * empty_reads + [cmdline] * 100)
        self._status = status
        self.started = time.time() - age
        self.read = 0

    def status(self) -> str:
        return self._status

    def create_time(self) -> float:
        return self.started

    def cmdline(self) -> list[str]:
        self.read += 1
        return next(self.reads)


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shared.devstack.processes.time.sleep", lambda _seconds: None)


def test_a_process_whose_command_line_reads_empty_at_first_is_read_again(
    monkeypatch: pytest.MonkeyPatch, fast: None
) -> None:
    java = Starting(["java", "-cp", "x", "kafka.Kafka", "/stack/kafka/server.properties"], 3)
    monkeypatch.setattr("shared.devstack.processes.psutil.Process", lambda _pid: java)
    assert processes.is_running(4242, "/stack/kafka/server.properties")


def test_another_program_under_a_recycled_pid_is_not_ours(
    monkeypatch: pytest.MonkeyPatch, fast: None
) -> None:
    other = Starting(["/usr/bin/python3", "-m", "http.server"], 2)
    monkeypatch.setattr("shared.devstack.processes.psutil.Process", lambda _pid: other)
    assert not processes.is_running(4242, "/stack/kafka/server.properties")


def test_a_command_line_that_stays_empty_is_not_taken_for_ours(
    monkeypatch: pytest.MonkeyPatch, fast: None
) -> None:
    kernel_thread = Starting([], processes.EMPTY_CMDLINE_READS + 5)
    monkeypatch.setattr("shared.devstack.processes.psutil.Process", lambda _pid: kernel_thread)
    assert not processes.is_running(4242, "/stack/kafka/server.properties")


def test_an_exited_process_waiting_to_be_reaped_is_not_running(
    monkeypatch: pytest.MonkeyPatch, fast: None
) -> None:
    zombie = Starting(["java", "/stack/kafka/server.properties"], 0, psutil.STATUS_ZOMBIE)
    monkeypatch.setattr("shared.devstack.processes.psutil.Process", lambda _pid: zombie)
    assert not processes.is_running(4242, "/stack/kafka/server.properties")


def test_an_old_process_whose_command_line_reads_empty_is_read_once(
    monkeypatch: pytest.MonkeyPatch, fast: None
) -> None:
    """A kernel thread under a recycled PID: not ours, and no waiting for it."""
    kernel_thread = Starting([], 1000, age=3600)
    monkeypatch.setattr("shared.devstack.processes.psutil.Process", lambda _pid: kernel_thread)
    assert not processes.is_running(4242, "/stack/kafka/server.properties")
    assert kernel_thread.read == 1
