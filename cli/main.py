"""The `crm-bulk` command: global options (where the services are, the token, the
language) and the commands of the journey."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from cli.commands import contacts, exports, import_file, imports
from cli.context import AppContext, app_context, reports_failures, set_app_context
from cli.settings import default_config_path, read_config_file, resolve_settings, write_config_file

app = typer.Typer(
    name="crm-bulk",
    help="Atualização de contatos em massa por planilha: exportar, editar, importar.\n\n"
    "Bulk update of CRM contacts by spreadsheet round-trip.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(contacts.app, name="contacts")
app.command("export")(exports.export)
app.add_typer(exports.exports_app, name="exports")
app.command("import")(import_file.import_file)
app.add_typer(imports.app, name="imports")

SETUP = "Configuração / setup"


@app.callback()
def configure_session(
    token: Annotated[str | None, typer.Option(help="Token da API (CRM_BULK_TOKEN).", rich_help_panel=SETUP)] = None,
    contacts_url: Annotated[str | None, typer.Option(help="CRM_BULK_CONTACTS_URL", rich_help_panel=SETUP)] = None,
    export_url: Annotated[str | None, typer.Option(help="CRM_BULK_EXPORT_URL", rich_help_panel=SETUP)] = None,
    importer_url: Annotated[str | None, typer.Option(help="CRM_BULK_IMPORTER_URL", rich_help_panel=SETUP)] = None,
    kafka: Annotated[str | None, typer.Option(help="Kafka bootstrap, ou `off` (CRM_BULK_KAFKA_BOOTSTRAP).",
                                              rich_help_panel=SETUP)] = None,
    lang: Annotated[str | None, typer.Option(help="pt-BR ou en (CRM_BULK_LANG).", rich_help_panel=SETUP)] = None,
    config: Annotated[Path | None, typer.Option(help="Arquivo de configuração (CRM_BULK_CONFIG).",
                                                rich_help_panel=SETUP)] = None,
) -> None:
    """Atualização de contatos em massa por planilha."""
    flags = {"token": token, "contacts_url": contacts_url, "export_url": export_url,
             "importer_url": importer_url, "kafka_bootstrap": kafka, "lang": lang}
    path = config or default_config_path()
    try:
        settings = resolve_settings(flags, os.environ, read_config_file(path))
    except ValueError as error:
        typer.echo(f"--lang / CRM_BULK_LANG: {error}? (pt-BR | en)", err=True)
        raise typer.Exit(2) from None
    set_app_context(AppContext(settings, config_path=path))


@app.command("configure")
@reports_failures
def configure(
    show: Annotated[bool, typer.Option("--show", help="Só mostra a configuração em uso.")] = False,
) -> None:
    """Grava a configuração em uso no arquivo de configuração (modo 600)."""
    context = app_context()
    path = context.config_path or default_config_path()
    settings = context.settings
    if show:
        shown = replace(settings, token=_masked(settings.token))
        context.print_json({"config_file": str(path), **shown.__dict__})
        return
    write_config_file(path, settings)
    context.notice("configured", path=path)


def _masked(token: str | None) -> str | None:
    return f"{token[:4]}…{token[-2:]}" if token and len(token) > 8 else ("…" if token else None)
