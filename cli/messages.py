"""Every text the CLI shows, in pt-BR (the users' language, the default) and English."""

from __future__ import annotations

from typing import Any

from rich.markup import escape

# key → (pt-BR, en)
CATALOGUE: dict[str, tuple[str, str]] = {
    # failures
    "token_missing": ("nenhum token configurado: use --token, CRM_BULK_TOKEN ou `crm-bulk configure`",
                      "no token configured: use --token, CRM_BULK_TOKEN or `crm-bulk configure`"),
    "service_unreachable": ("o serviço {service} não respondeu em {url} ({reason})",
                            "the {service} service did not answer at {url} ({reason})"),
    "api_refused": ("o serviço {service} recusou o pedido (HTTP {status}): {detail}",
                    "the {service} service refused the request (HTTP {status}): {detail}"),
    "not_an_id": ("{option}: \"{value}\" não é um ID de contato", "{option}: \"{value}\" is not a contact ID"),
    "bad_key_value": ("{option}: use CAMPO=VALOR, não \"{value}\"", "{option}: use FIELD=VALUE, not \"{value}\""),
    "bad_date": ("{option}: \"{value}\" não é uma data (dd/mm/aaaa ou aaaa-mm-dd)",
                 "{option}: \"{value}\" is not a date (dd/mm/yyyy or yyyy-mm-dd)"),
    "bad_lang": ("idioma \"{value}\" desconhecido: use pt-BR ou en", "unknown language \"{value}\": use pt-BR or en"),
    "selection_missing": ("escolha os contatos: --ids, --all ou um filtro (--q, --tag, …)",
                          "choose the contacts: --ids, --all or a filter (--q, --tag, …)"),
    "selection_ambiguous": ("escolha só um entre --ids, --all e filtro (recebido: {given})",
                            "choose only one of --ids, --all and a filter (given: {given})"),
    "exclude_with_ids": ("--exclude-ids vale com --all ou com um filtro, não com --ids",
                         "--exclude-ids goes with --all or a filter, not with --ids"),
    "unknown_column": ("{option}: a planilha não tem a coluna \"{column}\"",
                       "{option}: the sheet has no column \"{column}\""),
    "unknown_field_option": ("--fields: nenhuma coluna corresponde ao campo \"{field}\"",
                             "--fields: no column matches the field \"{field}\""),
    "nothing_to_import": ("nenhuma coluna seria importada", "no column would be imported"),
    "no_file": ("arquivo não encontrado: {path}", "file not found: {path}"),
    "export_failed": ("a exportação falhou: {message} ({code})", "the export failed: {message} ({code})"),
    "export_not_ready": ("a exportação {export_id} está {state}: ainda não há arquivo",
                         "export {export_id} is {state}: there is no file yet"),
    "wait_timeout": ("cansei de esperar ({seconds} s); acompanhe com `{command}`",
                     "gave up waiting ({seconds} s); follow it with `{command}`"),
    "import_rejected": ("a planilha foi recusada: {message}", "the sheet was refused: {message}"),
    "import_failed": ("a importação falhou: {message} ({code})", "the import failed: {message} ({code})"),
    "download_failed": ("o download falhou (HTTP {status})", "the download failed (HTTP {status})"),
    # progress and notices
    "configured": ("configuração gravada em {path}", "configuration written to {path}"),
    "export_requested": ("exportação {export_id} solicitada ({format})", "export {export_id} requested ({format})"),
    "waiting_export_kafka": ("gerando o arquivo… (aguardando o evento de pronto)",
                             "building the file… (waiting for the ready event)"),
    "waiting_export_poll": ("gerando o arquivo… (consultando o estado)", "building the file… (polling its state)"),
    "export_ready": ("[green]✓[/green] exportação pronta: {file_name}, {rows} contatos",
                     "[green]✓[/green] export ready: {file_name}, {rows} contacts"),
    "export_follow": ("acompanhe com `crm-bulk exports list`; baixe com `crm-bulk exports download {export_id}`",
                      "follow it with `crm-bulk exports list`; download it with "
                      "`crm-bulk exports download {export_id}`"),
    "download_link": ("link (válido até {expires}): {url}", "link (valid until {expires}): {url}"),
    "downloading": ("baixando {file_name}", "downloading {file_name}"),
    "saved": ("[green]✓[/green] salvo em {path}", "[green]✓[/green] saved to {path}"),
    "preparing": ("enviando {file_name}… (preparar importação)", "uploading {file_name}… (prepare import)"),
    "prepared": ("importação {import_id}: {rows} linhas, {columns} colunas",
                 "import {import_id}: {rows} rows, {columns} columns"),
    "confirm_mapping": ("Importar estas colunas?", "Import these columns?"),
    "mapping_declined": ("nada foi importado; ajuste com --drop COL e --map COL=campo",
                         "nothing was imported; adjust with --drop COL and --map COL=field"),
    "validating": ("validando a planilha…", "validating the sheet…"),
    "more_feedback": ("… e mais {count}: veja `crm-bulk imports feedback {import_id}` ou o relatório "
                      "`crm-bulk imports report {import_id}`",
                      "… and {count} more: see `crm-bulk imports feedback {import_id}` or the report "
                      "`crm-bulk imports report {import_id}`"),
    "no_feedback": ("[green]✓[/green] nenhum erro ou aviso", "[green]✓[/green] no errors or warnings"),
    "not_ready_to_start": ("a planilha tem erros: corrija-a e importe de novo, ou use --skip-errors",
                           "the sheet has errors: fix it and import again, or use --skip-errors"),
    "confirm_start": ("Iniciar importação?", "Start import?"),
    "not_started": ("importação {import_id} validada, não iniciada; inicie com `crm-bulk imports start {import_id}`",
                    "import {import_id} validated, not started; start it with "
                    "`crm-bulk imports start {import_id}`"),
    "applying": ("aplicando as alterações", "applying the changes"),
    "start_not_accepted": ("a importação {import_id} está {state}: nada foi iniciado",
                           "import {import_id} is {state}: nothing was started"),
    "import_done": ("[green]✓[/green] importação {import_id} concluída",
                    "[green]✓[/green] import {import_id} finished"),
    "import_done_with_errors": ("[yellow]![/yellow] importação {import_id} concluída com erros",
                                "[yellow]![/yellow] import {import_id} finished with errors"),
    "more_pages": ("há mais: --after-id {after_id}", "there is more: --after-id {after_id}"),
    "more_pages_cursor": ("há mais: --cursor '{cursor}'", "there is more: --cursor '{cursor}'"),
    # words and titles
    "yes": ("SIM", "YES"),
    "no": ("NÃO", "NO"),
    "error": ("erro", "error"),
    "warning": ("aviso", "warning"),
    "ignored": ("ignorada", "ignored"),
    "contacts_title": ("Contatos ({count})", "Contacts ({count})"),
    "exports_title": ("Exportações", "Exports"),
    "imports_title": ("Importações", "Imports"),
    "mapping_title": ("Colunas da planilha", "Columns of the sheet"),
    "feedback_title": ("Erros e avisos", "Errors and warnings"),
    "counts_title": ("Validação", "Validation"),
    "result_title": ("Resultado", "Result"),
    "col_id": ("ID", "ID"), "col_name": ("Nome", "Name"), "col_email": ("E-mail", "Email"),
    "col_phone": ("Telefone", "Phone"), "col_company": ("Empresa", "Company"),
    "col_stage": ("Sessão", "Stage"), "col_owner": ("Responsável", "Owner"), "col_legal": ("Jurídico", "Legal"),
    "col_tags": ("Tags", "Tags"), "col_export_id": ("Exportação", "Export"),
    "col_import_id": ("Importação", "Import"), "col_requested_at": ("Pedida em", "Requested"),
    "col_created_at": ("Criada em", "Created"), "col_state": ("Estado", "State"),
    "col_format": ("Formato", "Format"), "col_rows": ("Linhas", "Rows"), "col_file": ("Arquivo", "File"),
    "col_errors": ("Erros", "Errors"), "col_warnings": ("Avisos", "Warnings"), "col_tag": ("Tag", "Tag"),
    "col_column": ("Coluna", "Column"), "col_header": ("Cabeçalho", "Header"),
    "col_suggested": ("Sugerido", "Suggested"), "col_imported_as": ("Importar como", "Import as"),
    "col_severity": ("Tipo", "Kind"), "col_row": ("Linha", "Row"), "col_value": ("Valor", "Value"),
    "col_message": ("Mensagem", "Message"),
    "count_rows": ("linhas", "rows"), "count_errors": ("erros", "errors"), "count_warnings": ("avisos", "warnings"),
    "count_to_create": ("a criar", "to create"), "count_to_update": ("a atualizar", "to update"),
    "count_unchanged": ("sem alteração", "unchanged"),
    "result_created": ("criados", "created"), "result_updated": ("atualizados", "updated"),
    "result_unchanged": ("sem alteração", "unchanged"), "result_skipped": ("pulados", "skipped"),
    "result_failed": ("com falha", "failed"),
    "state_requested": ("solicitada", "requested"), "state_running": ("em andamento", "running"),
    "state_ready": ("pronta", "ready"), "state_failed": ("falhou", "failed"),
    "state_uploaded": ("enviada", "uploaded"), "state_prepared": ("preparada", "prepared"),
    "state_validating": ("validando", "validating"), "state_validated": ("validada", "validated"),
    "state_completed": ("concluída", "completed"),
    "state_completed_with_errors": ("concluída com erros", "completed with errors"),
}


class Messages:
    def __init__(self, lang: str) -> None:
        self.lang = "en" if lang == "en" else "pt-BR"
        self._column = 1 if self.lang == "en" else 0

    def has(self, key: str) -> bool:
        return key in CATALOGUE

    def __call__(self, key: str, **params: Any) -> str:
        """The message in this language, with its parameters escaped: a value such as
        `[1]` must reach the terminal as typed, not as rich markup."""
        template = CATALOGUE[key][self._column]
        return template.format(**{name: escape(str(value)) for name, value in params.items()})
