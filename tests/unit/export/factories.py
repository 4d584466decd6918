"""Accounts and contacts for the export tests, with every field type present."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.contacts_api import (
    AccountContext,
    ContactRecord,
    CustomFieldDefinition,
    LifecycleStage,
    Owner,
)
from shared.fields import FieldType

CUSTOM_FIELDS = (
    ("cpf", "CPF", FieldType.TEXT),
    ("obs", "Observações", FieldType.LONG_TEXT),
    ("funcionarios", "Funcionários", FieldType.NUMBER),
    ("faturamento", "Faturamento", FieldType.DECIMAL),
    ("fundacao", "Fundação", FieldType.DATE),
    ("ultima_visita", "Última visita", FieldType.DATETIME),
    ("newsletter", "Newsletter", FieldType.BOOLEAN),
    ("segmento", "Segmento", FieldType.SINGLE_SELECT),
    ("interesses", "Interesses", FieldType.MULTI_SELECT),
    ("site", "Site", FieldType.URL),
    ("whatsapp", "WhatsApp", FieldType.PHONE),
)


def make_context(**overrides: Any) -> AccountContext:
    values: dict[str, Any] = {
        "account_id": 42,
        "name": "Padaria Pão Quente",
        "owners": [
            Owner(id=1, name="Ana Souza", email="ana@example.com.br"),
            Owner(id=2, name="Bruno Lima", email="bruno@example.com.br"),
            Owner(id=3, name="bruno lima", email="bruno.lima@example.com.br"),
        ],
        "lifecycle_stages": [
            LifecycleStage(key="lead", name="Lead", position=1),
            LifecycleStage(key="cliente", name="Cliente", position=2),
        ],
        "custom_fields": [
            CustomFieldDefinition(key=key, label=label, type=field_type) for key, label, field_type in CUSTOM_FIELDS
        ],
    }
    values.update(overrides)
    return AccountContext(**values)


def make_contact(**overrides: Any) -> ContactRecord:
    values: dict[str, Any] = {
        "id": 1001,
        "account_id": 42,
        "name": "Maria da Conceição",
        "emails": ["maria@example.com.br", "m.conceicao@example.com"],
        "phones": ["+55 11 99999-0000"],
        "company": 'Açaí; & Cia "Ltda"',
        "job_title": "Diretora",
        "lifecycle_stage": "cliente",
        "owner_id": 1,
        "legal_entity": True,
        "tags": ["vip", "evento-2026"],
        "custom_fields": {
            "cpf": "01234567890",
            "obs": "linha 1\nlinha 2",
            "funcionarios": -12,
            "faturamento": "1234.50",
            "fundacao": "1999-12-31",
            "ultima_visita": "2026-11-30T15:30:45.123456-03:00",
            "newsletter": False,
            "segmento": "Varejo",
            "interesses": ["A", "B"],
            "site": "https://example.com.br",
            "whatsapp": "011987654321",
        },
        # 02:30:45 UTC is 23:30:45 of the day before in São Paulo.
        "created_at": datetime(2026, 1, 2, 2, 30, 45, 999999, tzinfo=UTC),
        "updated_at": datetime(2026, 11, 30, 18, 30, 45, tzinfo=UTC),
        "version": 3,
    }
    values.update(overrides)
    return ContactRecord(**values)
