"""Realistic pt-BR demo contacts: names with accents, +55 phones in E.164, CPF/CNPJ-like
values, multi-line notes, text that starts with `=` or `+` (a spreadsheet would read it
as a formula), tags and ~10 custom fields of mixed types; created over three years, oldest
first, and about half of them edited since.

Pure and seeded: the same seed (and the same `until`) gives the same contacts. Values
are canonical (as the contacts service stores them), so seeded rows need no validation
on the way in.
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
    "created_at",
    "updated_at",
)
# The demo's contacts were created over three years up to `until`, oldest first (ids grow
# with creation time, as in an account that has been in use), and a little over half of
# them were edited since. A whole seed sharing one `created_at` made date filters and
# their plans unlike a real account's (docs/benchmarks.md).
DEMO_HISTORY = timedelta(days=3 * 365)
DEMO_UNTIL = datetime(2026, 1, 1, tzinfo=UTC)
_EDITED_SHARE = 0.55
_SLUGS = {
    name: name.translate(str.maketrans("áâãàéêíóôõúçÁÂÃÀÉÊÍÓÔÕÚÇ ", "aaaaeeiooouc" + "AAAAEEIOOOUC" + ".")).lower()
    for name in FIRST_NAMES + LAST_NAMES
}
_TAG_COUNTS = (0, 0, 1, 1, 2, 3)


def cpf_like(rng: random.Random) -> str:
    d = f"{int(rng.random() * 10**11):011d}"
    return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}"


def cnpj_like(rng: random.Random) -> str:
    d = f"{int(rng.random() * 10**14):014d}"
    return f"{d[:2]}.{d[2:5]}.{d[5:8]}/{d[8:12]}-{d[12:]}"


class DemoContactGenerator:
    """`total` is how many contacts the caller means to draw: their `created_at` spread
    evenly (with jitter, always increasing) over `DEMO_HISTORY` up to `until`.
    `first_serial` lets several generators draw consecutive parts of one seed (each with
    a seed of its own): the n-th contact's serial (in its emails) and `created_at` are
    those of the n-th contact of the whole."""

    def __init__(
        self,
        account_id: int,
        owner_ids: Sequence[int],
        stage_keys: Sequence[str],
        seed: int | str = 7,
        *,
        until: datetime = DEMO_UNTIL,
        total: int = 1000,
        first_serial: int = 0,
    ):
        self.account_id = account_id
        self.owner_ids: list[int | None] = [*owner_ids] or [None]
        self.stage_keys: list[str | None] = [*stage_keys] or [None]
        self.rng = random.Random(seed)
        self.serial = first_serial
        self.until = until
        self.start = until - DEMO_HISTORY
        self.history_s = DEMO_HISTORY.total_seconds()
        self.step_s = self.history_s / max(total, 1)

    def rows(self, count: int) -> list[tuple[Any, ...]]:
        return [self.row() for _ in range(count)]

    def row(self) -> tuple[Any, ...]:
        # Picks are written `seq[int(rand() * len)]`: rng.choice costs ~1 µs in pure Python
        # and a 1M seed makes ~15M picks, while the server waits for the rows.
        rand = self.rng.random
        self.serial += 1
        serial = self.serial
        first = FIRST_NAMES[int(rand() * len(FIRST_NAMES))]
        last = LAST_NAMES[int(rand() * len(LAST_NAMES))]
        legal = rand() < 0.3
        middle = LAST_NAMES[int(rand() * len(LAST_NAMES))] + " " if rand() >= 0.7 else ""
        name = f"{first} {middle}{last}"
        company = None
        if rand() < 0.8:
            company = (
                f"{COMPANY_WORDS[int(rand() * len(COMPANY_WORDS))]} {COMPANY_PLACES[int(rand() * len(COMPANY_PLACES))]}"
            )
        if rand() < 0.02:
            company = "=" + (company or "HIPERLINK")  # a value that a spreadsheet would run
        emails = [f"{_SLUGS[first]}.{_SLUGS[last]}{serial}@{EMAIL_DOMAINS[int(rand() * len(EMAIL_DOMAINS))]}"]
        if rand() < 0.15:
            emails.append(f"contato{serial}@{EMAIL_DOMAINS[int(rand() * len(EMAIL_DOMAINS))]}")
        phones = [self._phone()] if rand() < 0.9 else []
        job_title = JOB_TITLES[int(rand() * len(JOB_TITLES))] if rand() < 0.6 else None
        stage = self.stage_keys[int(rand() * len(self.stage_keys))]
        owner = self.owner_ids[int(rand() * len(self.owner_ids))]
        tags = self._tags()
        custom = self._custom(legal)
        # Created in id order over DEMO_HISTORY (with jitter inside each step); about half
        # edited at some moment since.
        offset = min((serial - 1 + rand()) * self.step_s, self.history_s)
        created_at = self.start + timedelta(seconds=offset)
        updated_at = created_at
        if rand() < _EDITED_SHARE:
            updated_at = created_at + timedelta(seconds=(self.history_s - offset) * rand())
        return (
            self.account_id,
            name,
            emails,
            phones,
            company,
            job_title,
            stage,
            owner,
            legal,
            tags,
            custom,
            created_at,
            updated_at,
        )

    def _phone(self) -> str:
        rand = self.rng.random
        return f"+55{DDDS[int(rand() * len(DDDS))]}9{int(rand() * 10**8):08d}"

    def _tags(self) -> list[str]:
        rand = self.rng.random
        count = _TAG_COUNTS[int(rand() * len(_TAG_COUNTS))]
        tags: list[str] = []
        while len(tags) < count:
            tag = TAGS[int(rand() * len(TAGS))]
            if tag not in tags:
                tags.append(tag)
        return tags

    def _custom(self, legal: bool) -> dict[str, Any]:
        rand = self.rng.random
        values: dict[str, Any] = {
            "cpf_cnpj": cnpj_like(self.rng) if legal else cpf_like(self.rng),
            "segmento": SEGMENTS[int(rand() * len(SEGMENTS))],
            "faturamento": f"{int(rand() * 10**9) / 100:.2f}",
            "funcionarios": 1 + int(rand() * 4999),
            "data_fundacao": _FOUNDATION_DATES[int(rand() * len(_FOUNDATION_DATES))],
            "ultimo_contato": _CONTACT_MOMENTS[int(rand() * len(_CONTACT_MOMENTS))],
            "aceita_email": rand() < 0.5,
        }
        if rand() < 0.4:
            values["observacoes"] = NOTES[int(rand() * len(NOTES))]
        if rand() < 0.5:
            first = INTERESTS[int(rand() * len(INTERESTS))]
            values["interesses"] = [first]
            if rand() < 0.5:  # a second, different option
                second = INTERESTS[(INTERESTS.index(first) + 1 + int(rand() * (len(INTERESTS) - 1))) % len(INTERESTS)]
                values["interesses"].append(second)
        if legal and rand() < 0.7:
            values["site"] = f"https://www.empresa{self.serial}.com.br"
            values["email_financeiro"] = f"financeiro{self.serial}@empresa.com.br"
        if rand() < 0.3:
            values["whatsapp"] = self._phone()
        return values
