"""Command-line options that several commands share: the contact filter (the same in
`contacts list` and `export`) and `--json`."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.filters import FilterOptions, parse_custom, parse_ids, parse_moment, split_values

FILTER = "Filtro / filter"

Query = Annotated[str | None, typer.Option("--q", "--search", help="Texto no nome, e-mail, telefone ou empresa.",
                                           rich_help_panel=FILTER)]
Owners = Annotated[list[str] | None, typer.Option("--owner", help="ID do responsável (repita ou separe por vírgula).",
                                                  rich_help_panel=FILTER)]
Stages = Annotated[list[str] | None, typer.Option("--stage", help="Chave da sessão (ciclo de vida), ex. lead.",
                                                  rich_help_panel=FILTER)]
Tags = Annotated[list[str] | None, typer.Option("--tag", help="Tem alguma destas tags.", rich_help_panel=FILTER)]
LegalEntity = Annotated[bool | None, typer.Option("--legal-entity/--person", help="Jurídico: empresa ou pessoa.",
                                                  show_default=False, rich_help_panel=FILTER)]
CreatedFrom = Annotated[str | None, typer.Option(help="dd/mm/aaaa ou aaaa-mm-dd.", rich_help_panel=FILTER)]
CreatedTo = Annotated[str | None, typer.Option(help="Inclui o dia inteiro.", rich_help_panel=FILTER)]
UpdatedFrom = Annotated[str | None, typer.Option(rich_help_panel=FILTER)]
UpdatedTo = Annotated[str | None, typer.Option(rich_help_panel=FILTER)]
Custom = Annotated[list[str] | None, typer.Option("--custom", help="Campo personalizado: chave=valor.",
                                                  rich_help_panel=FILTER)]
Json = Annotated[bool, typer.Option("--json", help="Saída em JSON (para scripts).")]


def filter_options(
    q: str | None,
    owners: list[str] | None,
    stages: list[str] | None,
    tags: list[str] | None,
    legal_entity: bool | None,
    created_from: str | None,
    created_to: str | None,
    updated_from: str | None,
    updated_to: str | None,
    custom: list[str] | None,
) -> FilterOptions:
    return FilterOptions(
        q=q,
        owner_ids=parse_ids(owners, "--owner"),
        lifecycle_stages=split_values(stages),
        tags=split_values(tags),
        legal_entity=legal_entity,
        created_from=parse_moment(created_from, "--created-from"),
        created_to=parse_moment(created_to, "--created-to", end_of_day=True),
        updated_from=parse_moment(updated_from, "--updated-from"),
        updated_to=parse_moment(updated_to, "--updated-to", end_of_day=True),
        custom=parse_custom(custom),
    )
