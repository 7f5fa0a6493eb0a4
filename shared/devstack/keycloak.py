"""Keycloak, the identity provider, from its Maven Central distribution, run with `kc.sh`.

Maven copies `org.keycloak:keycloak-quarkus-dist` (a tar.gz, cached in ~/.m2) and it is
unpacked once per version. `kc.sh build` runs once (Quarkus' augmentation, a minute), then
every start is `kc.sh start --optimized`: production mode without rebuilding, with the
dev-file database (H2) under the distribution's `data/`. `start-dev` would check and
rebuild its configuration at each start and relax what production mode checks.

The issuer URL is in every token and the services trust exactly one, so the port is fixed
(8180 unless `KETNGHIA_KEYCLOAK_PORT` says otherwise) and a taken port is an error, not a
reason to move. The realm file is imported at the first start (`--import-realm`); Keycloak
skips a realm that exists, so when the file's digest changes the running server gets the
new realm through its admin API (the realm is deleted and imported again: what was changed
in the admin console is lost, the file wins). The admin user is local only.
"""

import hashlib
import os
import shutil
import subprocess
import tarfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from shared.devstack import processes
from shared.devstack.processes import StackError

SERVER = "the local Keycloak"
REALM = "ketnghia"
DEFAULT_PORT = 8180
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "ketnghia-admin"  # local stack only: the server listens on loopback
CLI_CLIENT = "ketnghia-cli"
OPERATIONS_CLIENT = "ketnghia-operations"
LOCAL_OPERATIONS_SECRET = "ketnghia-operations-local-secret"
HEAP = "-Xms64m -Xmx512m"  # Keycloak's own default outside containers, pinned
BUILD_OPTIONS = ("--db=dev-file", "--health-enabled=false", "--metrics-enabled=false")
POM_NS = "{http://maven.apache.org/POM/4.0.0}"


def issuer_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/realms/{REALM}"


def admin_console(issuer: str) -> str:
    return f"{issuer.split('/realms/')[0]}/admin ({ADMIN_USERNAME} / {ADMIN_PASSWORD})"


@dataclass
class KeycloakProcess:
    pid: int
    port: int

    @property
    def issuer(self) -> str:
        return issuer_url(self.port)


class LocalKeycloak:
    def __init__(self, home: Path, pom: Path, realm_file: Path) -> None:
        self.home = home  # the unpacked distribution, its database and its log live here
        self.pom = pom
        self.realm_file = realm_file
        self.log = home / "keycloak.log"
        self._imported = home / "imported-realm.sha256"  # digest of the realm Keycloak has

    @property
    def version(self) -> str:
        found = ET.parse(self.pom).getroot().find(f"{POM_NS}properties/{POM_NS}keycloak.version")
        if found is None or not found.text:
            raise StackError(f"{self.pom} names no keycloak.version")
        return found.text.strip()

    @property
    def dist(self) -> Path:
        return self.home / f"keycloak-{self.version}"

    @property
    def marker(self) -> str:
        """In the command line of kc.sh and of its java child: tells our processes apart."""
        return str(self.dist)

    # -- install ----------------------------------------------------------------------
    def install(self) -> None:
        """Unpack the distribution (Maven fetches it once), then build it once."""
        processes.require("java", SERVER, processes.JAVA)
        if not (self.dist / "lib" / "quarkus-run.jar").exists():
            self._unpack(self._download())
        built = self.dist / f"built-{_digest(' '.join(BUILD_OPTIONS))}"
        if not built.exists():
            self._run_kc("build", *BUILD_OPTIONS)
            built.touch()

    def _download(self) -> Path:
        processes.require("mvn", SERVER, processes.MAVEN)
        folder = self.home / "download"
        result = subprocess.run(
            ["mvn", "-q", "-B", "-f", str(self.pom), "dependency:copy",
             f"-DoutputDirectory={folder}"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        archive = folder / f"keycloak-quarkus-dist-{self.version}.tar.gz"
        if result.returncode != 0 or not archive.exists():
            raise StackError(
                f"Maven could not fetch Keycloak from {self.pom}:\n"
                f"{result.stdout[-2000:]}{result.stderr[-2000:]}"
            )
        return archive

    def _unpack(self, archive: Path) -> None:
        with tarfile.open(archive) as tar:
            tar.extractall(self.home, filter="tar")  # keeps kc.sh executable
        shutil.rmtree(archive.parent)

    def _run_kc(self, *args: str) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            result = subprocess.run(
                [str(self.dist / "bin" / "kc.sh"), *args],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self._environment(), check=False,
            )  # fmt: skip
        if result.returncode != 0:
            raise StackError(
                f"`kc.sh {' '.join(args)}` failed; its log ({self.log}) ends:\n"
                f"{processes.tail(self.log)}"
            )

    # -- run --------------------------------------------------------------------------
    def start(self, port: int) -> KeycloakProcess:
        if not processes.port_is_free(port):
            raise StackError(
                f"port {port} for Keycloak is taken by another process; every token names "
                f"{issuer_url(port)} as its issuer, so the port does not move: stop that "
                "process, or set KETNGHIA_KEYCLOAK_PORT for the whole stack"
            )
        self.install()
        processes.stop_orphans(self.marker)
        fresh = not (self.dist / "data" / "h2").exists()
        imports = self.dist / "data" / "import"
        imports.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.realm_file, imports / self.realm_file.name)
        with self.log.open("ab") as out:
            process = subprocess.Popen(
                [str(self.dist / "bin" / "kc.sh"), "start", "--optimized", "--import-realm",
                 "--http-enabled=true", "--http-host=127.0.0.1", f"--http-port={port}",
                 f"--hostname=http://127.0.0.1:{port}"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self._environment(),
                start_new_session=True,  # outlives this command; stopped by PID
            )  # fmt: skip
        server = KeycloakProcess(process.pid, port)
        try:
            self._wait_started(server, process)
        except BaseException:
            self.stop(process.pid)
            raise
        if fresh:
            self._imported.write_text(self.realm_digest())
        return server

    def _wait_started(self, server: KeycloakProcess, process: subprocess.Popen[bytes]) -> None:
        def answered() -> bool:
            if process.poll() is not None:
                raise StackError("the Keycloak process exited")
            return discovery_answers(server.issuer)

        try:
            ready = processes.wait_until(answered, timeout=300, interval=1)
        except StackError:
            ready = False
        if not ready:
            raise StackError(
                f"Keycloak did not answer at {server.issuer}; its log ({self.log}) ends:\n"
                f"{processes.tail(self.log)}"
            )

    def is_running(self, pid: int | None) -> bool:
        return processes.is_running(pid, self.marker)

    def stop(self, pid: int) -> None:
        """kc.sh passes SIGTERM on to its java child and waits for it."""
        processes.stop(pid, self.marker)

    def _environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "KC_BOOTSTRAP_ADMIN_USERNAME": ADMIN_USERNAME,
            "KC_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "JAVA_OPTS_KC_HEAP": HEAP,
        }

    # -- the realm --------------------------------------------------------------------
    def realm_digest(self) -> str:
        return _digest(self.realm_file.read_text())

    def sync_realm(self, port: int) -> bool:
        """Give the running server the realm file if it changed since its import; True
        when it did."""
        digest = self.realm_digest()
        if self._imported.exists() and self._imported.read_text() == digest:
            return False
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=60) as admin:
            token = _token(admin, f"{base}/realms/master", {
                "grant_type": "password", "client_id": "admin-cli",
                "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD,
            })["access_token"]  # fmt: skip
            admin.headers["Authorization"] = f"Bearer {token}"
            deleted = admin.delete(f"/admin/realms/{REALM}")
            if deleted.status_code not in (204, 404):
                raise StackError(
                    f"Keycloak kept the old realm: {deleted.status_code} {deleted.text}"
                )
            created = admin.post("/admin/realms", content=self.realm_file.read_bytes(),
                                 headers={"Content-Type": "application/json"})  # fmt: skip
            if created.status_code != 201:
                raise StackError(
                    f"Keycloak refused {self.realm_file}: {created.status_code} {created.text}"
                )
        self._imported.write_text(digest)
        return True

    def reset(self) -> None:
        shutil.rmtree(self.dist / "data" / "h2", ignore_errors=True)
        self._imported.unlink(missing_ok=True)


def discovery_answers(issuer: str) -> bool:
    try:
        response = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=5)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and response.json().get("issuer") == issuer


# -- tokens ---------------------------------------------------------------------------
class SignInRefused(Exception):
    """Keycloak said no (wrong password, unknown client, expired session); the message is
    Keycloak's reason."""


def password_token(
    issuer: str, username: str, password: str, client_id: str = CLI_CLIENT
) -> dict[str, Any]:
    """The token response of a password grant: `access_token`, `refresh_token`,
    `expires_in`, `refresh_expires_in`."""
    return _request_token(issuer, {"grant_type": "password", "client_id": client_id,
                                   "username": username, "password": password})  # fmt: skip


def client_credentials_token(issuer: str, client_id: str, secret: str) -> dict[str, Any]:
    return _request_token(issuer, {"grant_type": "client_credentials", "client_id": client_id,
                                   "client_secret": secret})  # fmt: skip


def refreshed_token(issuer: str, refresh_token: str, client_id: str = CLI_CLIENT) -> dict[str, Any]:
    return _request_token(issuer, {"grant_type": "refresh_token", "client_id": client_id,
                                   "refresh_token": refresh_token})  # fmt: skip


def end_session(issuer: str, refresh_token: str, client_id: str = CLI_CLIENT) -> None:
    """Sign out at Keycloak: the refresh token and its session stop working."""
    response = httpx.post(
        f"{issuer}/protocol/openid-connect/logout",
        data={"client_id": client_id, "refresh_token": refresh_token},
        timeout=10,
    )
    if response.status_code not in (200, 204):
        raise SignInRefused(_reason(response))


def _request_token(issuer: str, form: dict[str, str]) -> dict[str, Any]:
    with httpx.Client(timeout=30) as client:
        return _token(client, issuer, form)


def _token(client: httpx.Client, issuer: str, form: dict[str, str]) -> dict[str, Any]:
    try:
        response = client.post(f"{issuer}/protocol/openid-connect/token", data=form)
    except httpx.TransportError as error:
        raise SignInRefused(
            f"Keycloak không trả lời / does not answer at {issuer} ({error})"
        ) from error
    if response.status_code != 200:
        raise SignInRefused(_reason(response))
    answer: dict[str, Any] = response.json()
    return answer


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
        return f"{body.get('error')}: {body.get('error_description', '')}".strip(": ")
    except ValueError:
        return f"{response.status_code} {response.text[:200]}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
