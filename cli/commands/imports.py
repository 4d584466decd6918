"""The Imports page: `crm-bulk imports list | show | feedback | report | start`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import unquote

import typer

from cli import options
from cli.context import app_context, reports_failures
from cli.download import output_path
from cli.exit_codes import exit_code_for_import
from cli.import_steps import show_validation, start_and_follow
from cli.tables import feedback_table, imports_table, mapping_table, result_table

app = typer.Typer(help="Página de importações / the Imports page.", no_args_is_help=True)

ImportId = Annotated[str, typer.Argument(help="ID da importação.")]


@app.command("list")
@reports_failures
def list_imports(
    limit: Annotated[int, typer.Option(min=1, max=200)] = 20,
    cursor: Annotated[str | None, typer.Option(help="Página seguinte (mais antigas).")] = None,
    as_json: options.Json = False,
) -> None:
    """As importações da conta, das mais novas às mais antigas."""
    app_context().print_job_page("importer", "/v1/imports", limit, cursor, as_json, imports_table)


@app.command("show")
@reports_failures
def show_import(import_id: ImportId, show_limit: Annotated[int, typer.Option()] = 20,
                as_json: options.Json = False) -> None:
    """Uma importação: estado, colunas, erros e avisos, contagens e resultado."""
    context = app_context()
    view = context.api("importer").get(f"/v1/imports/{import_id}")
    if as_json:
        context.print_json(view)
        return
    context.out.print(imports_table([view], context.t))
    chosen = {c["index"]: c["confirmed_field"] for c in view["columns"] if c.get("confirmed_field")}
    if chosen:
        context.out.print(mapping_table(view["columns"], chosen, context.t))
    if view.get("counts"):
        show_validation(context, view, show_limit, context.out)
    if view.get("result"):
        context.out.print(result_table(view["result"], context.t))
    if view.get("error"):
        context.notice("import_failed", code=view["error"]["code"], message=view["error"]["message"])


@app.command("feedback")
@reports_failures
def list_feedback(
    import_id: ImportId,
    severity: Annotated[str | None, typer.Option(help="error ou warning.")] = None,
    row: Annotated[int | None, typer.Option(help="Só esta linha da planilha.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    cursor: Annotated[str | None, typer.Option()] = None,
    as_json: options.Json = False,
) -> None:
    """Os erros e avisos da validação (erros primeiro), com linha e coluna da planilha."""
    context = app_context()
    params: dict[str, Any] = {"limit": limit}
    for name, value in (("severity", severity), ("row", row), ("cursor", cursor)):
        if value is not None:
            params[name] = value
    page = context.api("importer").get(f"/v1/imports/{import_id}/feedback", params=params)
    if as_json:
        context.print_json(page)
        return
    if page["items"]:
        context.out.print(feedback_table(page["items"], context.t))
    else:
        context.notice("no_feedback")
    if page.get("next_cursor"):
        context.notice("more_pages_cursor", cursor=page["next_cursor"])


@app.command("report")
@reports_failures
def download_report(
    import_id: ImportId,
    output: Annotated[str, typer.Option("--output", "-o", help="Arquivo ou pasta.")] = ".",
) -> None:
    """Baixa o relatório (XLSX): as linhas da planilha com suas mensagens."""
    context = app_context()
    content, disposition = context.api("importer").fetch_bytes(f"/v1/imports/{import_id}/report")
    destination = output_path(output, _file_name(disposition) or f"importacao-{import_id}.xlsx")
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(content)
    context.notice("saved", path=destination)


def _file_name(disposition: str | None) -> str | None:
    found = re.search(r"filename\*=utf-8''([^;]+)|filename=\"?([^\";]+)", disposition or "", re.IGNORECASE)
    if not found:
        return None
    name = unquote(found.group(1) or found.group(2))
    return Path(name).name or None


@app.command("start")
@reports_failures
def start_import(
    import_id: ImportId,
    timeout: Annotated[float, typer.Option(help="Segundos de espera.")] = 900.0,
    as_json: options.Json = False,
) -> None:
    """Inicia uma importação validada e acompanha até o fim ("Iniciar importação")."""
    context = app_context()
    console = context.err if as_json else context.out
    final = start_and_follow(context, import_id, timeout, console)
    if as_json:
        context.print_json(final)
    errors = (final.get("counts") or {}).get("errors", 0)
    raise typer.Exit(int(exit_code_for_import(final["state"], errors)))
