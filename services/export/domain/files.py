"""Names of export files and their object keys in storage."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from services.export.domain.columns import normalize_locale
from shared.events import ExportFormat, Locale

EXPORTS_PREFIX = "exports"


def export_file_name(
    export_format: ExportFormat | str, requested_at: datetime, timezone: str, locale: str | None = None
) -> str:
    """`contatos-2026-11-30-1530.csv` (en: `contacts-…`): what and when, in the account's
    time zone, as the user will see it in her downloads folder."""
    extension = ExportFormat(export_format).value
    if requested_at.tzinfo is None:
        raise ValueError("requested_at must be an aware datetime")
    local = requested_at.astimezone(ZoneInfo(timezone))
    stem = "contacts" if normalize_locale(locale) == Locale.EN else "contatos"
    return f"{stem}-{local:%Y-%m-%d-%H%M}.{extension}"


def export_object_key(account_id: int, export_id: uuid.UUID | str, file_name: str) -> str:
    """`exports/<account_id>/<export_id>/<file_name>`.

    Every part is checked or rebuilt so that nothing a requester chose can steer the key
    elsewhere: the account id is an int, the export id is re-rendered from a UUID, and the
    file name must be one that `export_file_name` makes.
    """
    if isinstance(account_id, bool) or not isinstance(account_id, int) or account_id <= 0:
        raise ValueError(f"invalid account id: {account_id!r}")
    canonical_export_id = uuid.UUID(str(export_id))
    if not _is_export_file_name(file_name):
        raise ValueError(f"not an export file name: {file_name!r}")
    return f"{EXPORTS_PREFIX}/{account_id}/{canonical_export_id}/{file_name}"


def _is_export_file_name(file_name: str) -> bool:
    stem, _, extension = file_name.rpartition(".")
    if extension not in {f.value for f in ExportFormat}:
        return False
    prefix, _, stamp = stem.partition("-")
    if prefix not in ("contatos", "contacts"):
        return False
    try:
        datetime.strptime(stamp, "%Y-%m-%d-%H%M")
    except ValueError:
        return False
    return len(stamp) == len("2026-11-30-1530")
