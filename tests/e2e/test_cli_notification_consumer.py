"""The example notification consumer (examples/notification_consumer) as a third party
runs it: a process on the real broker, told of an export and an import made through the
public APIs; printing, and posting to a webhook."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from tests.conftest import Services
from tests.support.accounts import TestAccount, add_contacts, create_account, sample_contacts
from tests.support.stack import KAFKA_BOOTSTRAP, ROOT

pytestmark = pytest.mark.timeout(180)
NOTIFY = ROOT / "examples" / "notification_consumer" / "notify.py"


class ConsumerProcess:
    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(NOTIFY), "--bootstrap", KAFKA_BOOTSTRAP, "--group-id", f"test-{uuid.uuid4()}",
             *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd="/",  # nothing of the project on its path
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.errors: queue.Queue[str] = queue.Queue()
        for stream, sink in ((self.process.stdout, self.lines), (self.process.stderr, self.errors)):
            threading.Thread(target=_pump, args=(stream, sink), daemon=True).start()

    def wait_listening(self, timeout_s: float = 60) -> None:
        _next_matching(self.errors, "listening on", timeout_s)

    def next_line(self, containing: str, timeout_s: float = 60) -> str:
        return _next_matching(self.lines, containing, timeout_s)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _pump(stream: IO[str] | None, sink: queue.Queue[str]) -> None:
    assert stream is not None
    for line in stream:
        sink.put(line.rstrip("\n"))


def _next_matching(source: queue.Queue[str], containing: str, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            line = source.get(timeout=0.5)
        except queue.Empty:
            continue
        if containing in line:
            return line
    raise TimeoutError(f"no line with {containing!r} in {timeout_s} s")


@pytest.fixture
def consumer() -> Iterator[ConsumerProcess]:
    started = ConsumerProcess()
    try:
        started.wait_listening()
        yield started
    finally:
        started.stop()


@pytest.fixture
async def account(services: Services) -> TestAccount:
    made = await create_account(services.contacts.url)
    await add_contacts(services.contacts.url, made, sample_contacts(made, 4))
    return made


async def _export(services: Services, account: TestAccount) -> str:
    async with httpx.AsyncClient(headers=account.headers) as http:
        response = await http.post(f"{services.export.url}/v1/exports", json={"selection": {"all": True}})
        assert response.status_code == 202, response.text
        return str(response.json()["export_id"])


async def test_prints_export_ready_then_import_validated_and_finished(
    services: Services, account: TestAccount, consumer: ConsumerProcess, tmp_path: Path
):
    export_id = await _export(services, account)
    line = consumer.next_line(export_id)
    assert line.startswith("sua exportação está pronta: http")
    link = line.split(": ", 1)[1]
    async with httpx.AsyncClient() as plain:
        sheet = await plain.get(link)  # the link works for anyone who has it, no token
    assert sheet.status_code == 200

    async with httpx.AsyncClient(base_url=services.importer.url, headers=account.headers, timeout=30) as http:
        prepared = await http.post("/v1/imports", files={"file": ("contatos.csv", sheet.content)})
        assert prepared.status_code == 201, prepared.text
        import_id = prepared.json()["import_id"]
        fields = [c["suggested_field"] for c in prepared.json()["columns"]
                  if c["suggested_field"] not in (None, "id", "created_at", "updated_at")]
        confirmed = await http.post(f"/v1/imports/{import_id}/confirm", json={"fields": fields})
        assert confirmed.status_code == 202, confirmed.text
        validated = consumer.next_line(import_id)
        assert validated.startswith(f"importação {import_id} validada: 0 erros, ")
        assert (await http.post(f"/v1/imports/{import_id}/start")).status_code == 202
    finished = consumer.next_line(f"importação {import_id} concluída")
    assert "4 sem alteração" in finished, "an untouched sheet changes nothing"


class _Webhook(BaseHTTPRequestHandler):
    received: queue.Queue[dict[str, Any]] = queue.Queue()

    def do_POST(self) -> None:  # the name http.server calls
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.put({"content_type": self.headers["Content-Type"], "body": json.loads(body)})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, queue.Queue[dict[str, Any]]]]:
    server = HTTPServer(("127.0.0.1", 0), _Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", _Webhook.received
    finally:
        server.shutdown()


async def test_posts_to_a_webhook_in_english(services: Services, account: TestAccount, webhook):
    url, received = webhook
    notifier = ConsumerProcess("--webhook", url, "--lang", "en")
    try:
        notifier.wait_listening()
        export_id = await _export(services, account)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            post = received.get(timeout=60)
            if post["body"]["subject"] == export_id:
                break
        assert post["content_type"] == "application/json"
        assert post["body"]["type"] == "contacts.export.ready"
        assert post["body"]["text"].startswith("your export is ready: http")
        assert post["body"]["data"]["export_id"] == export_id
        assert post["body"]["data"]["account_id"] == account.account_id
    finally:
        notifier.stop()
