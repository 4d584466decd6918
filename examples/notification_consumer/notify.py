"""A downstream notification consumer of crm-bulk, written as a third party would write it:
only the public event contract, a stock CloudEvents SDK and a Kafka client.

    python notify.py --bootstrap 127.0.0.1:19092                      # prints
    python notify.py --bootstrap … --webhook https://hooks.example/x  # POSTs JSON
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from cloudevents.core.bindings.kafka import KafkaMessage, from_kafka
from cloudevents.core.formats.json import JSONFormat

EXPORT_READY = "contacts.export.ready"
IMPORT_VALIDATED = "contacts.import.validated"
IMPORT_FINISHED = "contacts.import.finished"
TOPICS = (EXPORT_READY, IMPORT_VALIDATED, IMPORT_FINISHED)

TEXTS: dict[str, dict[str, str]] = {
    "pt-BR": {
        EXPORT_READY: "sua exportação está pronta: {download_url}",
        IMPORT_VALIDATED: "importação {import_id} validada: {errors} erros, {warnings} avisos",
        IMPORT_FINISHED: "importação {import_id} concluída: {created} criados, {updated} atualizados, "
        "{unchanged} sem alteração, {failed} com falha",
    },
    "en": {
        EXPORT_READY: "your export is ready: {download_url}",
        IMPORT_VALIDATED: "import {import_id} validated: {errors} errors, {warnings} warnings",
        IMPORT_FINISHED: "import {import_id} finished: {created} created, {updated} updated, "
        "{unchanged} unchanged, {failed} failed",
    },
}

log = logging.getLogger("notify")


def notification_text(event_type: str, data: dict[str, Any], lang: str) -> str | None:
    template = TEXTS.get(lang, TEXTS["pt-BR"]).get(event_type)
    if template is None:
        return None
    try:
        return template.format(**data)
    except KeyError as missing:  # a producer newer or older than this consumer
        log.warning("event %s without %s: skipped", event_type, missing)
        return None


def post_json(url: str, body: dict[str, Any], attempts: int = 3) -> None:
    request = urllib.request.Request(  # noqa: S310 - the operator chose this URL
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                response.read()
                return
        except OSError:
            if attempt == attempts:
                raise
            time.sleep(2**attempt)


class ReadyWhenAssigned(ConsumerRebalanceListener):  # type: ignore[misc]
    """Says "listening" once the group has given this consumer its partitions and their
    starting offsets are known: from then on, no new event can be missed."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked: Any) -> None:
        pass

    async def on_partitions_assigned(self, assigned: Any) -> None:
        for partition in assigned:
            await self.consumer.position(partition)
        print(f"listening on {len(assigned)} partitions", file=sys.stderr, flush=True)


async def consume(bootstrap: str, group_id: str, lang: str, deliver: Callable[[dict[str, Any]], None]) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group_id,
        # A new group starts with what happens from now on; a known group resumes.
        auto_offset_reset="latest",
        enable_auto_commit=False,
    )
    await consumer.start()
    consumer.subscribe(list(TOPICS), listener=ReadyWhenAssigned(consumer))
    try:
        async for record in consumer:
            message = KafkaMessage(
                headers={name: value for name, value in record.headers or ()}, key=record.key, value=record.value
            )
            try:
                event = from_kafka(message, JSONFormat())
            except Exception as error:  # one bad message must not stop the others
                log.warning("not a CloudEvent at %s/%s@%s: %s", record.topic, record.partition, record.offset, error)
            else:
                data = event.get_data()
                text = notification_text(event.get_type(), data if isinstance(data, dict) else {}, lang)
                if text is not None:
                    await asyncio.to_thread(
                        deliver, {"text": text, "type": event.get_type(), "id": event.get_id(),
                                  "subject": event.get_subject(), "data": data}
                    )
            # The offset moves on only once the notification was delivered (or given up on,
            # see deliver): a crash in between repeats it rather than loses it.
            await consumer.commit()
    finally:
        await consumer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Notifies when crm-bulk exports are ready and imports end.")
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:19092"))
    parser.add_argument("--group-id", default="crm-bulk-notifier")
    parser.add_argument("--lang", choices=("pt-BR", "en"), default="pt-BR")
    parser.add_argument("--webhook", help="POST each notification as JSON here instead of printing it.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.WARNING)

    def deliver(notification: dict[str, Any]) -> None:
        if args.webhook:
            try:
                post_json(args.webhook, notification)
            except OSError as error:
                # Given up after the retries: one dead webhook must not stall every other event.
                log.warning("webhook failed, notification dropped: %s", error)
        else:
            print(notification["text"], flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(consume(args.bootstrap, args.group_id, args.lang, deliver))


if __name__ == "__main__":
    main()
