"""`crm-bulk contacts list`: step 1 of the journey, the filtered contacts as a table."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import options
from cli.context import app_context, reports_failures
from cli.filters import list_query
from cli.tables import contacts_table

app = typer.Typer(help="Contatos da conta / the account's contacts.", no_args_is_help=True)


@app.command("list")
@reports_failures
def list_contacts(
    q: options.Query = None,
    owner: options.Owners = None,
    stage: options.Stages = None,
    tag: options.Tags = None,
    legal_entity: options.LegalEntity = None,
    created_from: options.CreatedFrom = None,
    created_to: options.CreatedTo = None,
    updated_from: options.UpdatedFrom = None,
    updated_to: options.UpdatedTo = None,
    custom: options.Custom = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="Contatos por página.")] = 50,
    after_id: Annotated[int | None, typer.Option(help="Página seguinte: IDs maiores que este.")] = None,
    as_json: options.Json = False,
) -> None:
    """Lista os contatos que atendem ao filtro (o mesmo filtro do `export`)."""
    context = app_context()
    chosen = options.filter_options(
        q, owner, stage, tag, legal_entity, created_from, created_to, updated_from, updated_to, custom
    )
    query = [*list_query(chosen), ("limit", str(limit))]
    if after_id is not None:
        query.append(("after_id", str(after_id)))
    contacts_api = context.api("contacts")
    page = contacts_api.get("/v1/contacts", params=query)
    if as_json:
        context.print_json(page)
        return
    owners = {u["id"]: u["name"] for u in contacts_api.get("/v1/users")}
    stages = {s["key"]: s["name"] for s in contacts_api.get("/v1/lifecycle-stages")}
    context.out.print(contacts_table(page["items"], owners, stages, context.t))
    if page.get("next_after_id") is not None:
        context.notice("more_pages", after_id=page["next_after_id"])
