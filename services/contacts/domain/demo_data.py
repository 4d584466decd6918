"""Realistic pt-BR demo contacts: names with accents, +55 phones in E.164, CPF/CNPJ-like
values, multi-line notes, text that starts with `=` or `+` (a spreadsheet would read it
as a formula), tags and ~10 custom fields of mixed types.

Pure and seeded: the same seed gives the same contacts. Values are canonical (as the
contacts service stores them), so seeded rows need no validation on the way in.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from services.contacts.domain.custom_field_rules import CustomFieldDefinition
from shared.fields import FieldType

FIRST_NAMES = (
    "Ana",
    "João",
    "Maria",
    "José",
    "Antônio",
    "Francisca",
    "Conceição",
    "Luíza",
    "Sebastião",
    "Márcia",
    "Fábio",
    "Cláudia",
    "Raí",
    "Iara",
    "Tainá",
    "Thiago",
    "Letícia",
    "Júlia",
    "Gonçalo",
    "Inês",
    "Ângela",
    "Caio",
    "Otávio",
    "Lúcia",
    "Débora",
    "Rogério",
    "Patrícia",
    "Vinícius",
    "Mônica",
    "Cauã",
    "Beatriz",
    "Heloísa",
    "Luís",
    "Simão",
    "Irene",
    "Édson",
)
LAST_NAMES = (
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Conceição",
    "Araújo",
    "Pereira",
    "Gonçalves",
    "Lima",
    "Ribeiro",
    "Carvalho",
    "Gomes",
    "Martins",
    "Rocha",
    "Magalhães",
    "Brandão",
    "Assunção",
    "Falcão",
    "Simões",
    "Guimarães",
    "Damião",
    "Sá",
    "Leão",
    "Monção",
    "Nóbrega",
)
COMPANY_WORDS = (
    "Padaria",
    "Comércio",
    "Indústria",
    "Transportes",
    "Construtora",
    "Farmácia",
    "Açougue",
    "Distribuidora",
    "Café",
    "Papelaria",
    "Mercearia",
    "Tecnologia",
    "Educação",
    "Saúde",
)
COMPANY_PLACES = ("São João", "Pão de Açúcar", "Ipê", "Aurora", "Três Irmãos", "Paraná", "Goiás")
JOB_TITLES = (
    "Diretora Comercial",
    "Gerente de Compras",
    "Sócio",
    "Analista Financeiro",
    "CEO",
    "Coordenadora de Marketing",
    "Técnico de TI",
    "Proprietário",
)
EMAIL_DOMAINS = ("exemplo.com.br", "empresa.com.br", "gmail.com", "uol.com.br", "bol.com.br")
DDDS = ("11", "21", "31", "41", "51", "61", "71", "81", "85", "92", "27", "48", "62", "19")
TAGS = ("vip", "evento-2024", "newsletter", "indicação", "feira", "black-friday", "parceiro")
NOTES = (
    "Cliente desde 2019.\nPrefere contato por WhatsApp.",
    "=SOMA(A1:A3) foi digitado aqui por engano",
    "+55 é o código do Brasil",
    "Ligar após as 14h.\nFalar com a Conceição.\nNão ligar às sextas.",
    "-desconto de 10% negociado",
    "@ver com o financeiro",
    "Reunião marcada; levar proposta “revisada”.",
)
SEGMENTS = ("Varejo", "Indústria", "Serviços", "Agronegócio", "Saúde", "Educação")
INTERESTS = ("CRM", "ERP", "E-commerce", "Consultoria", "Treinamento")

DEMO_CUSTOM_FIELDS: tuple[CustomFieldDefinition, ...] = (
    CustomFieldDefinition("cpf_cnpj", "CPF/CNPJ", FieldType.TEXT),
    CustomFieldDefinition("observacoes", "Observações", FieldType.LONG_TEXT),
    CustomFieldDefinition("segmento", "Segmento", FieldType.SINGLE_SELECT, SEGMENTS),
    CustomFieldDefinition("interesses", "Interesses", FieldType.MULTI_SELECT, INTERESTS),
    CustomFieldDefinition("faturamento", "Faturamento anual", FieldType.DECIMAL),
    CustomFieldDefinition("funcionarios", "Nº de funcionários", FieldType.NUMBER),
    CustomFieldDefinition("data_fundacao", "Data de fundação", FieldType.DATE),
    CustomFieldDefinition("ultimo_contato", "Último contato", FieldType.DATETIME),
    CustomFieldDefinition("aceita_email", "Aceita e-mail", FieldType.BOOLEAN),
    CustomFieldDefinition("site", "Site", FieldType.URL),
    CustomFieldDefinition("email_financeiro", "E-mail do financeiro", FieldType.EMAIL),
    CustomFieldDefinition("whatsapp", "WhatsApp", FieldType.PHONE),
)
DEMO_OWNERS = (
    ("Conceição Magalhães", "conceicao@demo.com.br"),
    ("João Araújo", "joao@demo.com.br"),
    ("Luíza Simões", "luiza@demo.com.br"),
    ("Otávio Brandão", "otavio@demo.com.br"),
)
_BRT = timezone(timedelta(hours=-3))
# Pre-formatted pools: formatting dates per row would dominate the cost of a 1M seed.
_FOUNDATION_DATES = tuple((date(1950, 1, 1) + timedelta(days=d)).isoformat() for d in range(0, 27000, 3))
_CONTACT_MOMENTS = tuple(
    (datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=s)).astimezone(_BRT).isoformat()
    for s in range(0, 60 * 60 * 24 * 700, 3607)
)


@dataclass(frozen=True, slots=True)
class DemoContact:
    """One contact's columns in the order of `COLUMNS`."""

    values: tuple[Any, ...]


COLUMNS = (
    "account_id",
    "name",
    "emails",
    "phones",
    "company",
    "job_title",
    "lifecycle_stage",
    "owner_id",
    "legal_entity",
    "tags",
    "custom_fields",
)


def cpf_like(rng: random.Random) -> str:
    d = f"{rng.randrange(10**11):011d}"
    return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}"


def cnpj_like(rng: random.Random) -> str:
    d = f"{rng.randrange(10**14):014d}"
    return f"{d[:2]}.{d[2:5]}.{d[5:8]}/{d[8:12]}-{d[12:]}"


def phone(rng: random.Random) -> str:
    return f"+55{rng.choice(DDDS)}9{rng.randrange(10**8):08d}"


def _slug(text: str) -> str:
    table = str.maketrans("áâãàéêíóôõúçÁÂÃÀÉÊÍÓÔÕÚÇ ", "aaaaeeiooouc" + "AAAAEEIOOOUC" + ".")
    return text.translate(table).lower()


class DemoContactGenerator:
    def __init__(self, account_id: int, owner_ids: Sequence[int], stage_keys: Sequence[str], seed: int = 7):
        self.account_id = account_id
        self.owner_ids = list(owner_ids) or [None]
        self.stage_keys = list(stage_keys) or [None]
        self.rng = random.Random(seed)
        self.serial = 0

    def rows(self, count: int) -> list[tuple[Any, ...]]:
        return [self.row() for _ in range(count)]

    def row(self) -> tuple[Any, ...]:
        rng = self.rng
        self.serial += 1
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        legal = rng.random() < 0.3
        name = f"{first} {last}" if rng.random() < 0.7 else f"{first} {rng.choice(LAST_NAMES)} {last}"
        company = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_PLACES)}" if rng.random() < 0.8 else None
        if rng.random() < 0.02:
            company = "=" + (company or "HIPERLINK")  # a value that a spreadsheet would run
        emails = [f"{_slug(first)}.{_slug(last)}{self.serial}@{rng.choice(EMAIL_DOMAINS)}"]
        if rng.random() < 0.15:
            emails.append(f"contato{self.serial}@{rng.choice(EMAIL_DOMAINS)}")
        phones = [phone(rng)] if rng.random() < 0.9 else []
        tags = rng.sample(TAGS, k=rng.choice((0, 0, 1, 1, 2, 3)))
        return (
            self.account_id,
            name,
            emails,
            phones,
            company,
            rng.choice(JOB_TITLES) if rng.random() < 0.6 else None,
            rng.choice(self.stage_keys),
            rng.choice(self.owner_ids),
            legal,
            tags,
            self._custom(rng, legal),
        )

    def _custom(self, rng: random.Random, legal: bool) -> dict[str, Any]:
        values: dict[str, Any] = {
            "cpf_cnpj": cnpj_like(rng) if legal else cpf_like(rng),
            "segmento": rng.choice(SEGMENTS),
            "faturamento": f"{rng.randrange(10**9) / 100:.2f}",
            "funcionarios": rng.randrange(1, 5000),
            "data_fundacao": rng.choice(_FOUNDATION_DATES),
            "ultimo_contato": rng.choice(_CONTACT_MOMENTS),
            "aceita_email": rng.random() < 0.5,
        }
        if rng.random() < 0.4:
            values["observacoes"] = rng.choice(NOTES)
        if rng.random() < 0.5:
            values["interesses"] = rng.sample(INTERESTS, k=rng.randrange(1, 3))
        if legal and rng.random() < 0.7:
            values["site"] = f"https://www.empresa{self.serial}.com.br"
            values["email_financeiro"] = f"financeiro{self.serial}@empresa.com.br"
        if rng.random() < 0.3:
            values["whatsapp"] = phone(rng)
        return values
