from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ContactsApiSettings, PostgresSettings, S3Settings, ServiceSettings


class ImporterPostgres(PostgresSettings):
    # A nested env value (e.g. only the password) must keep this default.
    database: str = "crm_importer"


class ImporterSettings(ServiceSettings):
    """Env prefix `IMPORTER_`, e.g. `IMPORTER_MAX_UPLOAD_BYTES`."""

    model_config = SettingsConfigDict(env_prefix="IMPORTER_", env_nested_delimiter="__", extra="ignore")

    service_name: str = "importer"
    http_port: int = 8003
    postgres: ImporterPostgres = ImporterPostgres()
    s3: S3Settings = S3Settings()
    contacts_api: ContactsApiSettings = ContactsApiSettings()
    max_upload_bytes: int = 200 * 1024 * 1024
    max_rows: int = 1_048_576
    max_columns: int = 500
    apply_batch_size: int = Field(500, ge=1, le=5000, description="Rows per bulk-apply call (its limit: 5,000).")
    run_lease_s: float = Field(
        30.0,
        gt=0,
        description="A run whose owner has not renewed its lease for this long is taken over "
        "(the owner renews every third of it).",
    )
    consumer_group: str = Field("crm-bulk-importer", description="Kafka consumer group of the commands.")
    temp_dir: str | None = Field(None, description="Where uploads are read and reports built; default: the system's.")
