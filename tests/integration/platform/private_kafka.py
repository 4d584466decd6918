"""A throwaway single-node Kafka (the jars deploy/local/infra.sh cached) whose advertised
listener is a TcpProxy: every client connection, not only the bootstrap one, goes
through the proxy, so cutting it really takes Kafka away from a client."""

from __future__ import annotations

import base64
import os
import subprocess
import time
import uuid
from pathlib import Path

from tests.integration.platform.tcp_proxy import TcpProxy, _free_port
from tests.support.stack import ROOT, port_open

KAFKA_VERSION = "4.1.1"


def kafka_libs() -> Path:
    cache = Path(os.environ.get("CRM_BULK_CACHE", Path.home() / ".cache" / "crm-bulk"))
    libs = cache / f"kafka-{KAFKA_VERSION}" / "libs"
    if not (libs / ".complete").exists():
        raise RuntimeError(f"no Kafka jars in {libs}: run deploy/local/infra.sh install")
    return libs


class PrivateKafka:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.listen_port = _free_port()
        self.controller_port = _free_port()
        self.proxy = TcpProxy("127.0.0.1", self.listen_port)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return self.proxy.address

    def start(self, timeout_s: float = 90.0) -> PrivateKafka:
        self.proxy.start()
        props = self.workdir / "server.properties"
        data = self.workdir / "data"
        props.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.listen_port},CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://{self.proxy.address}",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    "inter.broker.listener.name=PLAINTEXT",
                    f"log.dirs={data}",
                    "auto.create.topics.enable=false",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=1",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                ]
            )
            + "\n"
        )
        java = [
            "java",
            "-Xms128m",
            "-Xmx384m",
            f"-Dkafka.logs.dir={self.workdir}",
            f"-Dlog4j2.configurationFile={ROOT / 'deploy' / 'local' / 'kafka' / 'log4j2.properties'}",
            "-cp",
            f"{kafka_libs()}/*",
        ]
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        log = (self.workdir / "kafka.out").open("wb")
        subprocess.run(
            # `--cluster-id=…` in one argument: a random id may start with "-", which the
            # tool would otherwise take for an option.
            [*java, "kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}", "-c", str(props)],
            check=True,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=120,
        )
        self.process = subprocess.Popen([*java, "kafka.Kafka", str(props)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while not port_open(self.listen_port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the private Kafka did not start; see {self.workdir / 'kafka.out'}")
            time.sleep(0.3)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.proxy.close()
