"""`crm-bulk import FILE`: steps 5-9 of the article in one command: prepare → confirm
the columns, tag and validations → read the errors and warnings → start → the result."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cli import options
from cli.api import describe_error_body
from cli.column_mapping import choose_columns
from cli.context import app_context, reports_failures
from cli.exit_codes import ExitCode, JobUnsuccessful, UsageProblem, exit_code_for_import
from cli.filters import split_values
from cli.import_steps import fail_if_failed, show_validation, start_and_follow, wait_for_import
from cli.tables import mapping_table

VALIDATION = "Validações / validations"


@reports_failures
def import_file(
    file: Annotated[Path, typer.Argument(help="A planilha editada (CSV, XLSX ou XLS).")],
    tag: Annotated[str | None, typer.Option(help="Tag aplicada aos contatos criados ou atualizados.")] = None,
    fields: Annotated[list[str] | None, typer.Option("--fields", help="Importar só estes campos (chaves).")] = None,
    drop: Annotated[list[str] | None, typer.Option("--drop", help="Não importar esta coluna (cabeçalho ou letra).")]
    = None,
    remap: Annotated[list[str] | None, typer.Option("--map", help="COLUNA=campo: importar a coluna neste campo.")]
    = None,
    unknown_id: Annotated[str, typer.Option(help="ID vazio ou desconhecido: create (aviso) ou error.",
                                            rich_help_panel=VALIDATION)] = "create",
    ignore_empty: Annotated[bool, typer.Option("--ignore-empty", help="Célula vazia não apaga o valor.",
                                               rich_help_panel=VALIDATION)] = False,
    skip_errors: Annotated[bool, typer.Option("--skip-errors", help="Iniciar aplica as linhas sem erro.",
                                              rich_help_panel=VALIDATION)] = False,
    skip_conflicts: Annotated[bool, typer.Option("--skip-conflicts", help="Pula contatos alterados após a "
                                                 "exportação.", rich_help_panel=VALIDATION)] = False,
    validate_email: Annotated[bool, typer.Option(rich_help_panel=VALIDATION)] = True,
    validate_phone: Annotated[bool, typer.Option(rich_help_panel=VALIDATION)] = True,
    warn_recommended: Annotated[bool, typer.Option(help="Avisa campos recomendados vazios.",
                                                   rich_help_panel=VALIDATION)] = True,
    start: Annotated[bool, typer.Option("--start", help="Inicia sem perguntar, se não houver erros.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Responde sim a todas as perguntas.")] = False,
    show_limit: Annotated[int, typer.Option(help="Máximo de erros e de avisos mostrados.")] = 20,
    timeout: Annotated[float, typer.Option(help="Segundos de espera por etapa.")] = 900.0,
    as_json: options.Json = False,
) -> None:
    """Importa uma planilha editada: preparar, confirmar, validar e (se pedir) iniciar."""
    context = app_context()
    if unknown_id not in ("create", "error"):
        raise UsageProblem("bad_key_value", option="--unknown-id", value=unknown_id)
    if not file.is_file():
        raise UsageProblem("no_file", path=file)
    console = context.err if as_json else context.out
    api = context.api("importer")

    with context.err.status(context.t("preparing", file_name=file.name)):
        status, prepared = api.upload("/v1/imports", file, accept=(422,))
    if status == 422:
        raise JobUnsuccessful("import_rejected", message=_rejection(prepared))
    import_id = str(prepared["import_id"])
    context.notice("prepared", import_id=import_id, rows=prepared["sheet"].get("row_count"),
                   columns=len(prepared["columns"]))

    chosen = choose_columns(prepared["columns"], split_values(fields), drop or [], remap or [])
    console.print(mapping_table(prepared["columns"], chosen, context.t))
    if context.interactive and not yes and not typer.confirm(context.t("confirm_mapping"), default=True):
        context.notice("mapping_declined")
        raise typer.Exit(int(ExitCode.DONE))

    body: dict[str, Any] = {
        "fields": {str(index): field for index, field in chosen.items()},
        "tag": tag,
        "options": {
            "unknown_id": unknown_id, "ignore_empty_cells": ignore_empty, "skip_error_rows": skip_errors,
            "skip_conflicts": skip_conflicts, "validate_email": validate_email, "validate_phone": validate_phone,
            "validate_recommended": warn_recommended,
        },
    }
    api.post(f"/v1/imports/{import_id}/confirm", body)
    with context.err.status(context.t("validating")):
        view = wait_for_import(api, import_id, lambda v: v["state"] not in ("prepared", "validating"), timeout)
    fail_if_failed(view)
    show_validation(context, view, show_limit, console)
    errors = (view.get("counts") or {}).get("errors", 0)

    if not view.get("ready_to_start"):
        _finish(context, view, as_json)
        raise JobUnsuccessful("not_ready_to_start")
    if not (start or yes or (context.interactive and typer.confirm(context.t("confirm_start"), default=False))):
        context.notice("not_started", import_id=import_id)
        _finish(context, view, as_json)
        raise typer.Exit(int(ExitCode.VALIDATION_ERRORS if errors else ExitCode.DONE))
    final = start_and_follow(context, import_id, timeout, console)
    _finish(context, final, as_json)
    raise typer.Exit(int(exit_code_for_import(final["state"], errors)))


def _finish(context: Any, view: dict[str, Any], as_json: bool) -> None:
    if as_json:
        context.print_json(view)


def _rejection(body: Any) -> str:
    """A refused file names the row and column where the sheet went wrong."""
    if not isinstance(body, dict):
        return str(body)
    where = ", ".join(str(body[k]) for k in ("row", "column") if body.get(k))
    text = describe_error_body(body)
    return f"{text} ({where})" if where else text
