"""Test accounts, made as an operator makes them (the contacts service's own account
store, against the test database), then filled through the public contacts API."""

from __future__ import annotations

import os
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

from services.contacts.adapters import accounts_store
from services.contacts.domain.custom_field_rules import CustomFieldDefinition
from shared.fields import FieldType
from shared.postgres import init_connection
from tests.support.stack import PG_PORT


def contacts_test_dsn() -> str:
    """The contacts database of this test session's services (set by the `services` fixture)."""
    database = os.environ.get("CRM_BULK_TEST_CONTACTS_DB", "crm_contacts_test")
    return f"postgresql://crm_bulk:crm-bulk-dev@127.0.0.1:{PG_PORT}/{database}"


RICH_CUSTOM_FIELDS: tuple[CustomFieldDefinition, ...] = (
    CustomFieldDefinition("cpf_cnpj", "CPF/CNPJ", FieldType.TEXT, (), False),
    CustomFieldDefinition("observacoes", "Observações", FieldType.LONG_TEXT, (), False),
    CustomFieldDefinition("funcionarios", "Funcionários", FieldType.NUMBER, (), False),
    CustomFieldDefinition("faturamento", "Faturamento", FieldType.DECIMAL, (), False),
    CustomFieldDefinition("aniversario", "Aniversário", FieldType.DATE, (), False),
    CustomFieldDefinition("ultimo_contato", "Último contato", FieldType.DATETIME, (), False),
    CustomFieldDefinition("vip", "VIP", FieldType.BOOLEAN, (), False),
    CustomFieldDefinition("segmento", "Segmento", FieldType.SINGLE_SELECT, ("Varejo", "Indústria", "Serviços"), False),
    CustomFieldDefinition("interesses", "Interesses", FieldType.MULTI_SELECT, ("CRM", "ERP", "BI"), False),
    CustomFieldDefinition("site", "Site", FieldType.URL, (), False),
)


@dataclass
class TestAccount:
    __test__ = False  # not a test class, whatever its name

    account_id: int
    token: str
    owners: list[dict[str, Any]] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def create_account(
    contacts_url: str, owners: int = 2, custom_fields: tuple[CustomFieldDefinition, ...] = RICH_CUSTOM_FIELDS
) -> TestAccount:
    conn = await asyncpg.connect(contacts_test_dsn())
    await init_connection(conn)
    try:
        await _ids_far_from_other_sessions(conn)
        account_id = await accounts_store.create_account(conn, f"Conta de teste {uuid.uuid4().hex[:8]}")
        made = [
            await accounts_store.add_user(conn, account_id, name, f"{slug}.{account_id}@exemplo.com.br")
            for name, slug in [("Ana Conceição", "ana"), ("João Pereira", "joao"), ("Márcia Lima", "marcia")][:owners]
        ]
        for definition in custom_fields:
            await accounts_store.create_custom_field(conn, account_id, definition)
        _, token = await accounts_store.issue_token(conn, account_id, label="tests")
    finally:
        await conn.close()
    return TestAccount(account_id, token, [o.model_dump() for o in made])


async def _ids_far_from_other_sessions(conn: asyncpg.Connection) -> None:
    """Moves this session's account ids far from 1, 2, 3…: another stack on the same Kafka
    (`make run`'s, whose demo account is 1, or another test session) consumes the same
    command topics, and would otherwise answer a command for account 1 with its own
    account's contacts, or write under this session's object keys."""
    if await conn.fetchval("SELECT coalesce(max(id), 0) FROM accounts") < 1_000_000:
        start = random.randrange(1_000_000, 2_000_000_000)
        await conn.execute(f"ALTER TABLE accounts ALTER COLUMN id RESTART WITH {start}")


async def add_contacts(contacts_url: str, account: TestAccount, contacts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    created = []
    async with httpx.AsyncClient(base_url=contacts_url, headers=account.headers, timeout=30) as http:
        for contact in contacts:
            response = await http.post("/v1/contacts", json=contact)
            assert response.status_code == 201, response.text
            created.append(response.json())
    return created


def sample_contacts(account: TestAccount, count: int) -> list[dict[str, Any]]:
    """Contacts whose values hold what spreadsheets like to break: accents, line breaks,
    leading zeros, long digit strings, text starting with =, +, - or @."""
    owner_ids = [o["id"] for o in account.owners]
    tricky = ["=SUM(A1:A9)", "+55 11 99999-0000", "-desconto", "@menção", "007", "12345678901234567890"]
    contacts = []
    for i in range(count):
        contacts.append(
            {
                "name": f"Conceição Araújo {i:03d}",
                "emails": [f"contato{i}.{account.account_id}@exemplo.com.br"],
                "phones": [f"+55119{87650000 + i:08d}"],
                "company": tricky[i % len(tricky)] if i % 3 == 0 else f"Empresa Ñandú {i}; Ltda",
                "job_title": "Diretora\nComercial" if i % 4 == 0 else "Gerente",
                "lifecycle_stage": "lead" if i % 2 else None,
                "owner_id": owner_ids[i % len(owner_ids)] if owner_ids else None,
                "legal_entity": bool(i % 2),
                "tags": ["evento-2026", "vip"] if i % 5 == 0 else [],
                "custom_fields": {
                    "cpf_cnpj": f"{i:03d}.456.789-0{i % 10}",
                    "observacoes": 'Linha 1\nLinha 2; com "aspas"',
                    "funcionarios": 10 + i,
                    "faturamento": f"{1234 + i}.56",
                    "aniversario": f"1990-0{1 + i % 9}-1{i % 10}",
                    "ultimo_contato": "2026-11-20T14:30:00-03:00",
                    "vip": i % 2 == 0,
                    "segmento": ["Varejo", "Indústria", "Serviços"][i % 3],
                    "interesses": ["CRM", "BI"] if i % 2 else ["ERP"],
                    "site": f"https://exemplo{i}.com.br/página",
                },
            }
        )
    return contacts
