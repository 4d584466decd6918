"""`crm-bulk export` (steps 1-3: select, export, wait for the file) and the Exports page:
`crm-bulk exports list`, `crm-bulk exports download ID`."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

from cli import options
from cli.context import AppContext, app_context, reports_failures
from cli.download import download, output_path
from cli.exit_codes import JobUnsuccessful, UsageProblem
from cli.filters import parse_ids, selection, split_values
from cli.job_events import OutcomeWatcher
from cli.tables import exports_table

READY, FAILED = "contacts.export.ready", "contacts.export.failed"
FINAL_STATES = ("ready", "failed")

exports_app = typer.Typer(help="Página de exportações / the Exports page.", no_args_is_help=True)


@reports_failures
def export(
    ids: Annotated[list[str] | None, typer.Option("--ids", help="Estes contatos (IDs separados por vírgula).")] = None,
    select_all: Annotated[bool, typer.Option("--all", help="Todos os contatos da base.")] = False,
    exclude_ids: Annotated[list[str] | None, typer.Option("--exclude-ids", help="Todos menos estes.")] = None,
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
    file_format: Annotated[str, typer.Option("--format", help="csv ou xlsx.")] = "csv",
    fields: Annotated[list[str] | None, typer.Option("--fields", help="Chaves dos campos, na ordem das colunas.")]
    = None,
    locale: Annotated[str | None, typer.Option(help="Idioma dos cabeçalhos: pt-BR ou en (padrão: --lang).")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Espera o arquivo ficar pronto.")] = False,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Baixa o arquivo aqui (implica --wait).")]
    = None,
    timeout: Annotated[float, typer.Option(help="Segundos de espera.")] = 600.0,
    as_json: options.Json = False,
) -> None:
    """Exporta os contatos escolhidos para CSV ou XLSX."""
    context = app_context()
    if file_format not in ("csv", "xlsx"):
        raise UsageProblem("bad_key_value", option="--format", value=file_format)
    chosen = options.filter_options(
        q, owner, stage, tag, legal_entity, created_from, created_to, updated_from, updated_to, custom
    )
    body: dict[str, Any] = {
        "selection": selection(chosen, parse_ids(ids, "--ids"), select_all, parse_ids(exclude_ids, "--exclude-ids")),
        "format": file_format,
        "locale": "en" if (locale or context.settings.lang).lower().startswith("en") else "pt-BR",
        # Chosen here, so the outcome can be awaited before the request is even sent.
        "export_id": str(uuid.uuid4()),
    }
    if fields:
        body["fields"] = split_values(fields)
    export_api = context.api("export")
    if not (wait or output):
        accepted = export_api.post("/v1/exports", body)
        _print_accepted(context, accepted, body, as_json)
        return
    outcome = asyncio.run(_request_and_wait(context, body, timeout))
    if outcome["state"] == "failed":
        if as_json:
            context.print_json(outcome)
        raise JobUnsuccessful("export_failed", code=outcome.get("code"), message=outcome.get("message"))
    context.err.print(context.t("export_ready", file_name=outcome["file_name"], rows=outcome["row_count"]))
    if output is not None:
        destination = output_path(output, outcome["file_name"])
        _save(context, outcome["download_url"], destination, outcome["file_name"])
        outcome["saved_to"] = str(destination)
    else:
        context.err.print(context.t("download_link", expires=outcome.get("expires_at", ""),
                                    url=outcome["download_url"]))
    if as_json:
        context.print_json(outcome)


def _print_accepted(context: AppContext, accepted: dict[str, Any], body: dict[str, Any], as_json: bool) -> None:
    if as_json:
        context.print_json(accepted)
        return
    context.err.print(context.t("export_requested", export_id=accepted["export_id"], format=body["format"]))
    context.err.print(context.t("export_follow", export_id=accepted["export_id"]))


async def _request_and_wait(context: AppContext, body: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    """Requests the export and returns its outcome: the event's data (ready or failed),
    or the polled export in the same shape."""
    export_api = context.api("export")
    export_id = body["export_id"]
    async with OutcomeWatcher(context.settings.kafka_bootstrap, (READY, FAILED)) as watcher:
        await asyncio.to_thread(export_api.post, "/v1/exports", body)
        context.err.print(context.t("export_requested", export_id=export_id, format=body["format"]))
        status_key = "waiting_export_kafka" if watcher.listening else "waiting_export_poll"
        with context.err.status(context.t(status_key)):
            try:
                outcome = await watcher.wait(
                    export_id,
                    poll=lambda: export_api.get(f"/v1/exports/{export_id}"),
                    finished=lambda state: state["state"] in FINAL_STATES,
                    timeout_s=timeout_s,
                )
            except TimeoutError:
                raise JobUnsuccessful(
                    "wait_timeout", seconds=int(timeout_s), command="crm-bulk exports list"
                ) from None
    data = dict(outcome.data)
    if outcome.topic_or_state in (READY, FAILED):
        data["state"] = "ready" if outcome.topic_or_state == READY else "failed"
        return data
    # Polled: the export view names things a little differently from the event.
    data.setdefault("expires_at", data.get("download_expires_at"))
    data.setdefault("code", data.get("error_code"))
    data.setdefault("message", data.get("error_message"))
    return data


def _save(context: AppContext, url: str, destination: Path, file_name: str) -> None:
    download(url, destination, context.t("downloading", file_name=file_name), context.err)
    context.err.print(context.t("saved", path=destination))


@exports_app.command("list")
@reports_failures
def list_exports(
    limit: Annotated[int, typer.Option(min=1, max=200)] = 20,
    cursor: Annotated[str | None, typer.Option(help="Página seguinte (mais antigas).")] = None,
    as_json: options.Json = False,
) -> None:
    """As exportações da conta, das mais novas às mais antigas."""
    app_context().print_job_page("export", "/v1/exports", limit, cursor, as_json, exports_table)


@exports_app.command("download")
@reports_failures
def download_export(
    export_id: Annotated[str, typer.Argument(help="ID da exportação.")],
    output: Annotated[str, typer.Option("--output", "-o", help="Arquivo ou pasta.")] = ".",
) -> None:
    """Baixa o arquivo de uma exportação pronta."""
    context = app_context()
    export_api = context.api("export")
    view = export_api.get(f"/v1/exports/{export_id}")
    if view["state"] != "ready":
        raise UsageProblem("export_not_ready", export_id=export_id, state=view["state"])
    url = export_api.redirect_location(f"/v1/exports/{export_id}/download")
    _save(context, url, output_path(output, view["file_name"]), view["file_name"])
