"""Apache Kafka in KRaft mode, one combined broker and controller, from Maven Central jars."""

import asyncio
import base64
import hashlib
import logging
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from shared.devstack import processes
from shared.devstack.processes import StackError

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

    def start(self, port: int, controller_port: int) -> KafkaProcess:
        classpath = self.classpath()
        self.home.mkdir(parents=True, exist_ok=True)
        self._write_config(port, controller_port)
        processes.stop_orphans(str(self.config))
        if not (self.data_dir / "meta.properties").exists():
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
            ready = self.wait_ready(broker.bootstrap, timeout=90, pid=process.pid)
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

    def wait_ready(self, bootstrap: str, timeout: float, pid: int | None = None) -> bool:
        """Poll with a real metadata request until it answers, the process exits, or
        `timeout` passes."""

        def answered() -> bool:
            if pid is not None and not self.is_running(pid):
                raise StackError("the broker process exited")
            return metadata_answers(bootstrap)

        try:
            return processes.wait_until(answered, timeout)
        except StackError:
            return False

    def reset(self) -> None:
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def _write_config(self, port: int, controller_port: int) -> None:
        self.config.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
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
            )
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
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"formatting Kafka storage failed:\n{result.stdout}{result.stderr}")


def metadata_answers(bootstrap: str, timeout: float = 5.0) -> bool:
    """A real metadata request: True when a broker at `bootstrap` lists its topics."""

    async def ask() -> bool:
        # Refused connections while the broker starts are expected, not worth a line each.
        logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
        admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000)
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
