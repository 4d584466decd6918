"""A consumer-group member run as its own process, so that a test can SIGKILL it while its
handler runs (before the offset is committed).

    python -m tests.integration.platform.consumer_process TOPIC GROUP JOURNAL {hang|succeed}

It writes `received <import_id>` to JOURNAL when the handler starts and `handled
<import_id>` when it returns; in `hang` mode the handler never returns.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from shared.cloudevents import CloudEvent
from shared.events import StartImport
from shared.kafka import COMMAND_ACK_POLICY, create_broker
from shared.settings import KafkaSettings
from tests.support.stack import KAFKA_BOOTSTRAP


def journal_line(journal: Path, line: str) -> None:
    with journal.open("a") as out:
        out.write(line + "\n")
        out.flush()
        os.fsync(out.fileno())


async def main(topic: str, group: str, journal: Path, mode: str) -> None:
    broker = create_broker(KafkaSettings(bootstrap_servers=KAFKA_BOOTSTRAP), "platform-test")

    @broker.subscriber(
        topic,
        group_id=group,
        auto_offset_reset="earliest",
        ack_policy=COMMAND_ACK_POLICY,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )
    async def on_start_import(event: CloudEvent[StartImport]) -> None:
        journal_line(journal, f"received {event.data.import_id}")
        if mode == "hang":
            await asyncio.Event().wait()
        journal_line(journal, f"handled {event.data.import_id}")

    await broker.start()
    journal_line(journal, "started")
    try:
        await asyncio.Event().wait()
    finally:
        await broker.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4]))
