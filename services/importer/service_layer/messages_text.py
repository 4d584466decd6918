"""The importer's own messages to users (the file's and the rows' are the domain's)."""

from __future__ import annotations

_TEXTS: dict[str, tuple[str, str]] = {
    "upload_too_large": (
        "O arquivo tem mais de {limit_mb} MB, o máximo aceito. Divida a planilha em arquivos "
        "menores ou apague as colunas que não serão importadas.",
        "The file is over {limit_mb} MB, the most accepted. Split the sheet into smaller "
        "files or delete the columns you do not import.",
    ),
    "unknown_account": (
        "Esta conta não existe (mais): nada foi importado.",
        "This account does not exist (any more): nothing was imported.",
    ),
    "retries_exhausted": (
        "A importação falhou várias vezes seguidas por um motivo temporário; nada mais será "
        "aplicado. Prepare a importação de novo.",
        "The import failed several times in a row for a temporary reason; nothing more will "
        "be applied. Prepare the import again.",
    ),
    "apply_rejected": (
        "O serviço de contatos recusou as alterações ({detail}). Nada mais foi aplicado.",
        "The contacts service refused the changes ({detail}). Nothing more was applied.",
    ),
}


def text(code: str, locale: str, **params: object) -> str:
    pt_br, en = _TEXTS[code]
    return (en if locale == "en" else pt_br).format(**params)


def locale_of(accept_language: str | None) -> str:
    """`en` when the reader's first choice is English, else pt-BR (the product's users)."""
    if not accept_language:
        return "pt-BR"
    choices = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        choices.append((-weight, position, tag.strip().lower()))
    for _, _, tag in sorted(choices):
        if tag.startswith("en"):
            return "en"
        if tag.startswith("pt") or tag == "*":
            return "pt-BR"
    return "pt-BR"
