"""Apache Kafka in KRaft mode, one combined broker and controller, from Maven Central jars.

Clients connect to one SASL_PLAINTEXT listener with SCRAM-SHA-512 and are authorized by
ACLs (`StandardAuthorizer`, nothing allowed without an ACL, `admin` the super user). The
users are written into the metadata when the storage is formatted, with passwords made
once and kept in `credentials.json` (mode 0600) beside the broker's data.

The controller listener (127.0.0.1 only) uses SASL/PLAIN as `admin`, with the password in
`server.properties` (mode 0600): KRaft cannot use SCRAM there (the SCRAM users live in
the metadata the controller serves), and a PLAINTEXT controller listener would make the
broker's requests to its controller ANONYMOUS, which the authorizer refuses unless
ANONYMOUS were a super user.
"""

import asyncio
import base64
import hashlib
import json
import logging
import os
import secrets
import shutil
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from pydantic import SecretStr

from shared.devstack import processes
from shared.devstack.kafka_acls import ADMIN, USERS
from shared.devstack.processes import StackError
from shared.kafka_security import KafkaAccess, KafkaRefused, KafkaUnreachable

MAIN_CLASS = "kafka.Kafka"
BROKER = "the local Kafka broker"


@dataclass
class KafkaProcess:
    pid: int
    port: int
    controller_port: int

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"


class LocalKafka:
    def __init__(self, home: Path, pom: Path) -> None:
        self.home = home  # config, log dirs and the broker's own log live here
        self.pom = pom
        self.data_dir = home / "data"
        self.config = home / "server.properties"
        self.log = home / "server.log"
        self.credentials_file = home / "credentials.json"

    def classpath(self) -> str:
        """The broker's runtime classpath, resolved by Maven once per pom version."""
        processes.require("java", BROKER, processes.JAVA)
        digest = hashlib.sha256(self.pom.read_bytes()).hexdigest()[:16]
        cached = self.home / f"classpath-{digest}.txt"
        if not cached.exists():
            processes.require("mvn", BROKER, processes.MAVEN)
            self.home.mkdir(parents=True, exist_ok=True)
            result = subprocess.run(
                [
                    "mvn",
                    "-q",
                    "-B",
                    "-f",
                    str(self.pom),
                    "dependency:build-classpath",
                    f"-Dmdep.outputFile={cached}",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0 or not cached.exists():
                raise StackError(
                    f"Maven could not resolve the Kafka broker from {self.pom}:\n"
                    f"{result.stdout[-2000:]}{result.stderr[-2000:]}"
                )
        return cached.read_text().strip()

    def credentials(self) -> dict[str, SecretStr]:
        """Each SCRAM user's password: random, made on first use, then read back."""
        if not self.credentials_file.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            made = {user: secrets.token_urlsafe(24) for user in USERS}
            _write_private(self.credentials_file, json.dumps(made, indent=2) + "\n")
        kept = json.loads(self.credentials_file.read_text())
        return {user: SecretStr(password) for user, password in kept.items()}

    def access(self, port: int, user: str = ADMIN) -> KafkaAccess:
        return KafkaAccess(
            bootstrap_servers=f"127.0.0.1:{port}",
            security_protocol="SASL_PLAINTEXT",
            sasl_mechanism="SCRAM-SHA-512",
            sasl_username=user,
            sasl_password=self.credentials()[user],
        )

    def start(self, port: int, controller_port: int) -> KafkaProcess:
        classpath = self.classpath()
        self.home.mkdir(parents=True, exist_ok=True)
        formatted = (self.data_dir / "meta.properties").exists()
        if formatted and not self.credentials_file.exists():
            raise StackError(
                f"the Kafka storage in {self.data_dir} was formatted before the broker asked "
                "for SASL/SCRAM users, so it has none. Start a fresh stack with "
                "`python -m shared.devstack up --reset` (it wipes this stack's Kafka and "
                "PostgreSQL data; `make run` loads the demo again)."
            )
        self._write_config(port, controller_port)
        processes.stop_orphans(str(self.config))
        if not formatted:
            self._format(classpath)
        log4j = self.pom.parent / "log4j2.properties"
        with self.log.open("ab") as out:
            process = subprocess.Popen(
                [
                    "java",
                    "-Xms256m",
                    "-Xmx768m",
                    "-XX:+UseG1GC",
                    f"-Dlog4j2.configurationFile={log4j}",
                    f"-Dkafka.logs.dir={self.home}",
                    "-cp",
                    classpath,
                    MAIN_CLASS,
                    str(self.config),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # outlives this command; stopped by PID
            )
        broker = KafkaProcess(process.pid, port, controller_port)
        try:
            ready = self.wait_ready(
                self.access(port), timeout=90, alive=lambda: process.poll() is None
            )
        except KafkaRefused as refused:
            processes.stop(process.pid, str(self.config))
            raise StackError(
                f"{refused}. The stack's users are in {self.credentials_file}"
            ) from refused
        except BaseException:
            processes.stop(process.pid, str(self.config))
            raise
        if not ready:
            processes.stop(process.pid, str(self.config))
            raise StackError(
                f"Kafka did not become ready on {broker.bootstrap}; its log "
                f"({self.home / 'server.log'}) ends:\n{processes.tail(self.home / 'server.log')}"
            )
        return broker

    def is_running(self, pid: int | None) -> bool:
        return processes.is_running(pid, str(self.config))

    def stop(self, pid: int) -> None:
        processes.stop(pid, str(self.config))

    def wait_ready(
        self, kafka: KafkaAccess, timeout: float, alive: Callable[[], bool] | None = None
    ) -> bool:
        """Poll with a real metadata request until it answers, the process exits (`alive`
        turns False), or `timeout` passes; `KafkaRefused` at once if the broker refuses
        the login."""

        def answered() -> bool:
            if alive is not None and not alive():
                raise StackError("the broker process exited")
            return metadata_answers(kafka)

        try:
            return processes.wait_until(answered, timeout)
        except StackError:
            return False

    def reset(self) -> None:
        """Wipe the data; the users' passwords are kept and formatted in again."""
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def _write_config(self, port: int, controller_port: int) -> None:
        admin = self.credentials()[ADMIN].get_secret_value()
        scram = "org.apache.kafka.common.security.scram.ScramLoginModule"
        plain = "org.apache.kafka.common.security.plain.PlainLoginModule"
        _write_private(
            self.config,
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{controller_port}",
                    f"listeners=CLIENT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
                    f"advertised.listeners=CLIENT://127.0.0.1:{port}",
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=CLIENT",
                    "listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
                    "listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512",
                    "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
                    f"listener.name.client.scram-sha-512.sasl.jaas.config={scram} required "
                    f'username="{ADMIN}" password="{admin}";',
                    "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
                    "sasl.mechanism.controller.protocol=PLAIN",
                    f"listener.name.controller.plain.sasl.jaas.config={plain} required "
                    f'username="{ADMIN}" password="{admin}" user_{ADMIN}="{admin}";',
                    "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                    f"super.users=User:{ADMIN}",
                    "allow.everyone.if.no.acl.found=false",
                    f"log.dirs={self.data_dir}",
                    "num.partitions=3",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=10",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "auto.create.topics.enable=true",
                    # Event topics are the history other systems replay: keep them.
                    "log.retention.ms=-1",
                    "",
                ]
            ),
        )

    def _format(self, classpath: str) -> None:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        result = subprocess.run(
            [
                "java",
                "-cp",
                classpath,
                "kafka.tools.StorageTool",
                "format",
                # `=`: a random id may start with "-", which argparse would read as an option
                f"--cluster-id={cluster_id}",
                "-c",
                str(self.config),
                *(
                    f"--add-scram={_scram_credential(user, password)}"
                    for user, password in self.credentials().items()
                ),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"formatting Kafka storage failed:\n{result.stdout}{result.stderr}")


def metadata_answers(kafka: KafkaAccess, timeout: float = 5.0) -> bool:
    """A real metadata request: True when the broker lists its topics to `kafka`'s user;
    `KafkaRefused` when it refuses the login."""

    async def ask() -> bool:
        # Refused connections while the broker starts are expected, not worth a line each.
        logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
        try:
            await kafka.check(timeout)
        except KafkaUnreachable:
            return False
        admin = AIOKafkaAdminClient(
            **kafka.aiokafka_options(), request_timeout_ms=int(timeout * 1000)
        )
        try:
            await asyncio.wait_for(admin.start(), timeout)
            await asyncio.wait_for(admin.list_topics(), timeout)
            return True
        except Exception:
            return False
        finally:
            await admin.close()

    return asyncio.run(ask())


def _scram_credential(user: str, password: SecretStr, iterations: int = 8192) -> str:
    """A SCRAM-SHA-512 user for `kafka-storage format --add-scram`, given salted (RFC 5802
    SaltedPassword: PBKDF2-HMAC-SHA-512) so the password is not on a command line."""
    salt = os.urandom(24)
    salted = hashlib.pbkdf2_hmac("sha512", password.get_secret_value().encode(), salt, iterations)
    encode = base64.b64encode
    return (
        f"SCRAM-SHA-512=[name={user},iterations={iterations},"
        f'salt="{encode(salt).decode()}",saltedpassword="{encode(salted).decode()}"]'
    )


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner may read (it holds passwords)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    path.chmod(0o600)  # a file made before, with wider rights
