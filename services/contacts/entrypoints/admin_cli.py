"""`contacts-admin`: the operators' commands (accounts, users, tokens, demo data).

Reads the service's own settings (env `CONTACTS_…`), applies pending migrations first,
and talks to the database directly: it runs where the service runs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import asyncpg
import typer

from services.contacts.adapters import accounts_store, seeding
from services.contacts.bootstrap import MIGRATIONS
from services.contacts.config import ContactsSettings
from shared.postgres import create_pool, migrate

app = typer.Typer(help="Operators' commands of the contacts service.", no_args_is_help=True)
DEMO_ACCOUNT_NAME = "Demo"
T = TypeVar("T")


def _run(work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    async def main() -> T:
        settings = ContactsSettings()
        await migrate(settings.postgres, MIGRATIONS)
        pool = await create_pool(settings.postgres.model_copy(update={"min_pool_size": 1, "max_pool_size": 1}))
        try:
            async with pool.acquire() as conn:
                return await work(conn)
        finally:
            await pool.close()

    try:
        return asyncio.run(main())
    except (accounts_store.UnknownAccountError, accounts_store.DuplicateError, LookupError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


@app.command("create-account")
def create_account(
    name: str,
    locale: Annotated[str, typer.Option(help="pt-BR or en")] = "pt-BR",
    timezone: str = "America/Sao_Paulo",
) -> None:
    """Creates an account with the default lifecycle stages; prints its id."""
    account_id = _run(lambda conn: accounts_store.create_account(conn, name, locale, timezone))
    typer.echo(account_id)


@app.command("add-user")
def add_user(account_id: int, name: str, email: str) -> None:
    """Adds a user (a possible owner, "Responsável") to the account; prints its id."""
    owner = _run(lambda conn: accounts_store.add_user(conn, account_id, name, email))
    typer.echo(owner.id)


@app.command("issue-token")
def issue_token(
    account_id: int,
    label: Annotated[str | None, typer.Option(help="What the token is for.")] = None,
    user_id: Annotated[int | None, typer.Option(help="The user it acts for.")] = None,
) -> None:
    """Issues an API token. It is printed once and stored only as a hash."""
    token_id, token = _run(lambda conn: accounts_store.issue_token(conn, account_id, label, user_id))
    typer.echo(f"token id {token_id} (keep this token, it is not shown again):", err=True)
    typer.echo(token)


@app.command("revoke-token")
def revoke_token(token_id: int) -> None:
    """Revokes a token: it stops working at once here, within 30 s on the other services."""
    revoked = _run(lambda conn: accounts_store.revoke_token(conn, token_id))
    if not revoked:
        typer.echo(f"error: no active token {token_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked token {token_id}")


def _progress(total: int) -> Callable[[int], None]:
    started = time.monotonic()

    def report(done: int) -> None:
        if done == total or done % 100_000 == 0:
            rate = done / max(time.monotonic() - started, 1e-9)
            typer.echo(f"  {done:>9,} / {total:,} contacts ({rate:,.0f}/s)", err=True)

    return report


@app.command("seed")
def seed(
    account_id: int,
    contacts: Annotated[int, typer.Option(help="How many contacts to add.")] = 1000,
    random_seed: Annotated[int, typer.Option(help="Same seed, same contacts.")] = 7,
) -> None:
    """Adds generated pt-BR contacts (and the demo's owners and custom fields) to an account."""

    async def work(conn: asyncpg.Connection) -> int:
        await seeding.ensure_demo_setup(conn, account_id)
        return await seeding.seed_contacts(
            conn, account_id, contacts, random_seed, _progress(contacts), connect=_index_builder_connection
        )

    added = _run(work)
    typer.echo(f"added {added} contacts to account {account_id}")


async def _index_builder_connection() -> asyncpg.Connection:
    # A large seed into an empty table builds its indexes from two connections of its
    # own after the load (services/contacts/adapters/seeding.py).
    return await asyncpg.connect(ContactsSettings().postgres.dsn())


@app.command("demo")
def demo(
    contacts: Annotated[int, typer.Option(help="Contacts the demo account should hold.")] = 1000,
) -> None:
    """Creates (or reuses) the account named "Demo" with owners, stages, custom fields and
    at least `--contacts` contacts (a second run adds none), and prints a fresh token with
    example commands."""

    async def work(conn: asyncpg.Connection) -> tuple[int, int, str]:
        account_id = await accounts_store.find_account_by_name(conn, DEMO_ACCOUNT_NAME)
        if account_id is None:
            account_id = await accounts_store.create_account(conn, DEMO_ACCOUNT_NAME)
        await seeding.ensure_demo_setup(conn, account_id)
        held: int = await conn.fetchval("SELECT count(*) FROM contacts WHERE account_id = $1", account_id)
        missing = max(0, contacts - held)
        if missing:
            await seeding.seed_contacts(
                conn, account_id, missing, progress=_progress(missing), connect=_index_builder_connection
            )
        _, token = await accounts_store.issue_token(conn, account_id, label="demo")
        return account_id, held + missing, token

    account_id, held, token = _run(work)
    port = ContactsSettings().http_port
    typer.echo(
        f"""Demo account {account_id} is ready with {held} contacts.
Token (shown once): {token}

  export CRM_BULK_TOKEN={token}
  crm-bulk contacts list --legal-entity --limit 5
  crm-bulk export --all --format xlsx --wait --output ./contatos.xlsx
  crm-bulk import ./contatos.xlsx --tag revisao-planilha --yes --start
  curl -H "Authorization: Bearer $CRM_BULK_TOKEN" "http://127.0.0.1:{port}/v1/contacts?q=conceicao&limit=5"
"""
    )


if __name__ == "__main__":
    app()
