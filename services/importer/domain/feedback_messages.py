"""The catalogue of feedback codes: severity and message per locale.

Templates use `str.format` names from the item's params; lists are shown comma-joined.
A template given as a dict has variants chosen by the `variant` param. Keep
docs/feedback-codes.md in step (a unit test checks that every code is documented).
"""

from __future__ import annotations

ERROR = "error"
WARNING = "warning"

_FIX_ID = "Formate a coluna ID como Texto, copie os IDs da planilha exportada original e salve de novo."
_FIX_ID_EN = "Format the ID column as Text, copy the IDs from the original exported sheet, and save again."

# code → (severity, {"pt-BR": template, "en": template})
_CATALOGUE: dict[str, tuple[str, dict[str, str | dict[str, str]]]] = {
    # --- cells -----------------------------------------------------------------------
    "formula_without_value": (
        ERROR,
        {
            "pt-BR": "a célula tem uma fórmula sem valor calculado ({formula}). Abra o arquivo "
            "no Excel ou no LibreOffice, salve-o novamente e importe outra vez.",
            "en": "the cell holds a formula with no computed value ({formula}). Open the file in "
            "Excel or LibreOffice, save it again and re-import it.",
        },
    ),
    "nul_character": (
        ERROR,
        {
            "pt-BR": "a célula contém um caractere invisível NUL (U+0000), que não pode ser gravado. "
            "Apague o conteúdo da célula e digite-o novamente.",
            "en": "the cell holds an invisible NUL character (U+0000), which cannot be stored. "
            "Clear the cell and type its content again.",
        },
    ),
    "invalid_id": (
        ERROR,
        {
            "pt-BR": 'o ID "{value}" não é válido: deve ser um número inteiro positivo, como na '
            "exportação. Para criar um contato novo, deixe o ID vazio.",
            "en": 'the ID "{value}" is not valid: it must be a positive whole number, as '
            "exported. To create a new contact, leave the ID empty.",
        },
    ),
    "id_mangled": (
        ERROR,
        {
            "pt-BR": 'o ID "{value}" foi alterado pelo programa de planilhas (notação científica '
            "ou casas decimais) e não pode ser lido com segurança. " + _FIX_ID,
            "en": 'the ID "{value}" was altered by the spreadsheet program (scientific notation '
            "or decimal places) and cannot be read safely. " + _FIX_ID_EN,
        },
    ),
    "value_mangled": (
        ERROR,
        {
            "pt-BR": 'o programa de planilhas converteu o texto "{stored}" em número ("{value}"): '
            "zeros à esquerda ou dígitos se perderam. Importe a coluna como Texto (ou use o arquivo XLSX) "
            "e salve de novo; nada foi alterado neste campo.",
            "en": 'the spreadsheet program turned the text "{stored}" into a number ("{value}"): '
            "leading zeros or digits were lost. Import the column as Text (or use the XLSX file) "
            "and save again; nothing was changed in this field.",
        },
    ),
    "invalid_number": (
        ERROR,
        {
            "pt-BR": '"{value}" não é um número. Use só algarismos, por exemplo 1234.',
            "en": '"{value}" is not a number. Use digits only, for example 1234.',
        },
    ),
    "not_an_integer": (
        ERROR,
        {
            "pt-BR": '"{value}" não é um número inteiro, e o campo aceita só inteiros.',
            "en": '"{value}" is not a whole number, and the field takes whole numbers only.',
        },
    ),
    "ambiguous_number": (
        ERROR,
        {
            "pt-BR": '"{value}" é ambíguo: pode ser {reading_a} ou {reading_b}. Escreva sem '
            "separador de milhar (por exemplo 1234,5).",
            "en": '"{value}" is ambiguous: it may be {reading_a} or {reading_b}. Write it with no '
            "thousands separator (for example 1234.5).",
        },
    ),
    "invalid_decimal": (
        ERROR,
        {
            "pt-BR": '"{value}" não é um número decimal. Use, por exemplo, 1234,56 ou 1.234,56.',
            "en": '"{value}" is not a decimal number. Use, for example, 1234.56 or 1,234.56.',
        },
    ),
    "decimal_too_long": (
        ERROR,
        {
            "pt-BR": "o número tem dígitos demais: um campo decimal guarda até {integer_digits} dígitos antes "
            "da vírgula e {fraction_digits} depois.",
            "en": "the number has too many digits: a decimal field holds at most {integer_digits} digits "
            "before the decimal mark and {fraction_digits} after it.",
        },
    ),
    "invalid_date": (
        ERROR,
        {
            "pt-BR": '"{value}" não é uma data válida. Use dd/mm/aaaa, por exemplo 31/12/2024.',
            "en": '"{value}" is not a valid date. Use dd/mm/yyyy or yyyy-mm-dd, for example 2024-12-31.',
        },
    ),
    "date_two_digit_year": (
        ERROR,
        {
            "pt-BR": 'a data "{value}" tem o ano com dois algarismos e o século é incerto. '
            "Escreva o ano com quatro algarismos (dd/mm/aaaa).",
            "en": 'the date "{value}" has a two-digit year, so the century is uncertain. Write the '
            "year with four digits (dd/mm/yyyy).",
        },
    ),
    "date_has_time": (
        ERROR,
        {
            "pt-BR": '"{value}" tem hora, mas o campo guarda só a data. Apague a hora.',
            "en": '"{value}" has a time of day, but the field holds a date only. Remove the time.',
        },
    ),
    "invalid_datetime": (
        ERROR,
        {
            "pt-BR": '"{value}" não é uma data e hora válida. Use dd/mm/aaaa hh:mm:ss, por '
            "exemplo 31/12/2024 18:30:00.",
            "en": '"{value}" is not a valid date and time. Use yyyy-mm-dd hh:mm:ss, for example 2024-12-31 18:30:00.',
        },
    ),
    "invalid_boolean": (
        ERROR,
        {
            "pt-BR": '"{value}" não é SIM nem NÃO. Use SIM ou NÃO.',
            "en": '"{value}" is not Yes or No. Use Yes or No.',
        },
    ),
    "invalid_email": (
        ERROR,
        {
            "pt-BR": 'o e-mail "{value}" não é válido. Corrija-o ou apague-o.',
            "en": 'the email "{value}" is not valid ({reason}). Correct or remove it.',
        },
    ),
    "invalid_phone": (
        ERROR,
        {
            "pt-BR": 'o telefone "{value}" não é válido. Use DDD e número, por exemplo '
            "(11) 98765-4321, ou o formato internacional +55 11 98765-4321.",
            "en": 'the phone "{value}" is not valid. Use area code and number, for example '
            "(11) 98765-4321, or the international form +55 11 98765-4321.",
        },
    ),
    "invalid_url": (
        ERROR,
        {
            "pt-BR": '"{value}" não é um endereço web válido. Use, por exemplo, https://www.exemplo.com.br.',
            "en": '"{value}" is not a valid web address. Use, for example, https://www.example.com.',
        },
    ),
    "unknown_option": (
        ERROR,
        {
            "pt-BR": '"{value}" não é uma opção deste campo. Opções válidas: {options}.',
            "en": '"{value}" is not an option of this field. Valid options: {options}.',
        },
    ),
    "unknown_owner": (
        ERROR,
        {
            "pt-BR": 'o responsável "{value}" não é um usuário desta conta. Use o nome ou o '
            "e-mail de um usuário: {owners}.",
            "en": 'the owner "{value}" is not a user of this account. Use a user\'s name or email: {owners}.',
        },
    ),
    "ambiguous_owner": (
        ERROR,
        {
            "pt-BR": 'há mais de um usuário chamado "{value}": {candidates}. Use o e-mail do responsável.',
            "en": 'more than one user is called "{value}": {candidates}. Use the owner\'s email.',
        },
    ),
    "unknown_lifecycle_stage": (
        ERROR,
        {
            "pt-BR": '"{value}" não é uma sessão (ciclo de vida) desta conta. Sessões válidas: {stages}.',
            "en": '"{value}" is not a lifecycle stage of this account. Valid stages: {stages}.',
        },
    ),
    # --- rows ------------------------------------------------------------------------
    "new_contact_will_be_created": (
        WARNING,
        {
            "pt-BR": {
                "blank": "o ID está vazio: um contato novo será criado.",
                "unknown": "o ID {id} não existe nesta conta: um contato novo será criado. Se a "
                "intenção era atualizar um contato, use o ID da exportação (não altere o ID).",
            },
            "en": {
                "blank": "the ID is empty: a new contact will be created.",
                "unknown": "the ID {id} does not exist in this account: a new contact will be "
                "created. To update a contact instead, use the exported ID (do not change IDs).",
            },
        },
    ),
    "id_blank": (
        ERROR,
        {
            "pt-BR": "o ID está vazio e esta importação não cria contatos. Preencha o ID do "
            "contato a atualizar ou apague a linha.",
            "en": "the ID is empty and this import does not create contacts. Fill in the ID of "
            "the contact to update or delete the row.",
        },
    ),
    "id_not_found": (
        ERROR,
        {
            "pt-BR": "o ID {id} não existe nesta conta e esta importação não cria contatos. Use o "
            "ID da exportação ou apague a linha.",
            "en": "the ID {id} does not exist in this account and this import does not create "
            "contacts. Use the exported ID or delete the row.",
        },
    ),
    "duplicate_id": (
        ERROR,
        {
            "pt-BR": "o ID {id} aparece em mais de uma linha (também na linha {other_rows}). Cada "
            "contato deve estar em uma única linha: mantenha uma e apague as outras.",
            "en": "the ID {id} is on more than one row (also row {other_rows}). Each contact must "
            "be on one row only: keep one and delete the others.",
        },
    ),
    "required_field_empty": (
        ERROR,
        {
            "pt-BR": {
                "create": "o campo obrigatório {field} está vazio, e o contato novo precisa dele.",
                "update": "o campo obrigatório {field} está vazio e não pode ser apagado. Preencha-o.",
            },
            "en": {
                "create": "the required field {field} is empty, and the new contact needs it.",
                "update": "the required field {field} is empty and cannot be cleared. Fill it in.",
            },
        },
    ),
    "recommended_field_empty": (
        WARNING,
        {
            "pt-BR": {
                "clears": "o campo {field} está vazio e o valor atual será apagado. Recomendamos não deixá-lo vazio.",
                "kept": "o campo {field} está vazio (o valor atual será mantido). Recomendamos não deixá-lo vazio.",
                "empty": "o campo {field} está vazio. Recomendamos preenchê-lo.",
            },
            "en": {
                "clears": "the field {field} is empty and its current value will be cleared. We "
                "recommend not leaving it empty.",
                "kept": "the field {field} is empty (the current value is kept). We recommend not leaving it empty.",
                "empty": "the field {field} is empty. We recommend filling it in.",
            },
        },
    ),
    "possible_duplicate": (
        WARNING,
        {
            "pt-BR": "o e-mail {email} já pertence ao contato {contact_ids}: o contato novo pode "
            "ser uma duplicata. Para atualizar esse contato, use o ID dele.",
            "en": "the email {email} already belongs to contact {contact_ids}: the new contact may "
            "be a duplicate. To update that contact, use its ID.",
        },
    ),
    "changed_since_export": (
        WARNING,
        {
            "pt-BR": {
                "overwrite": "o contato foi alterado em {changed_at}, depois da exportação "
                "({exported_at}). A importação vai sobrescrever: {fields}.",
                "skip": "o contato foi alterado em {changed_at}, depois da exportação "
                "({exported_at}); a linha será ignorada, como pedido.",
            },
            "en": {
                "overwrite": "the contact was changed at {changed_at}, after the export "
                "({exported_at}). This import will overwrite: {fields}.",
                "skip": "the contact was changed at {changed_at}, after the export "
                "({exported_at}); the row will be skipped, as requested.",
            },
        },
    ),
    "updated_at_unreadable": (
        WARNING,
        {
            "pt-BR": '"{value}" não é uma data e hora; sem ela não é possível saber se o contato '
            "mudou depois da exportação. Não altere a coluna Atualizado em.",
            "en": '"{value}" is not a date and time, so changes after the export cannot be '
            "detected. Do not edit the Updated at column.",
        },
    ),
    # --- file and columns -------------------------------------------------------------
    "recommended_column_missing": (
        WARNING,
        {
            "pt-BR": "a planilha não tem (ou não importa) a coluna {field}, recomendada numa atualização.",
            "en": "the sheet does not have (or does not import) the column {field}, recommended in an update.",
        },
    ),
    "duplicate_column": (
        WARNING,
        {
            "pt-BR": "esta coluna também corresponde ao campo {field}, já lido da coluna "
            "{first_column}; ela será ignorada.",
            "en": "this column also matches the field {field}, already read from column "
            "{first_column}; it will be ignored.",
        },
    ),
    "field_mapped_twice": (
        ERROR,
        {
            "pt-BR": "o campo {field} foi escolhido para mais de uma coluna ({columns}). Escolha uma só.",
            "en": "the field {field} was chosen for more than one column ({columns}). Choose one.",
        },
    ),
    "unknown_field": (
        ERROR,
        {
            "pt-BR": 'o campo "{field}" não existe nesta conta.',
            "en": 'the field "{field}" does not exist in this account.',
        },
    ),
    "column_out_of_range": (
        ERROR,
        {
            "pt-BR": "a planilha não tem a coluna {column}.",
            "en": "the sheet has no column {column}.",
        },
    ),
}

SEVERITY: dict[str, str] = {code: entry[0] for code, entry in _CATALOGUE.items()}
MESSAGES: dict[str, dict[str, str | dict[str, str]]] = {code: entry[1] for code, entry in _CATALOGUE.items()}
