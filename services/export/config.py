from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ContactsApiSettings, PostgresSettings, S3Settings, ServiceSettings


class ExportPostgres(PostgresSettings):
    # A nested env value (e.g. only the password) must keep this default.
    database: str = "crm_export"


class ExportSettings(ServiceSettings):
    """Env prefix `EXPORT_`, e.g. `EXPORT_S3__ENDPOINT`."""

    model_config = SettingsConfigDict(env_prefix="EXPORT_", env_nested_delimiter="__", extra="ignore")

    service_name: str = "export"
    http_port: int = 8002
    postgres: ExportPostgres = ExportPostgres()
    s3: S3Settings = S3Settings()
    contacts_api: ContactsApiSettings = ContactsApiSettings()
    download_url_ttl_s: int = 24 * 3600
    consumer_group: str = "crm-bulk-export"
