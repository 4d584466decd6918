from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import DEV_INTERNAL_TOKEN, PostgresSettings, ServiceSettings


class ContactsPostgres(PostgresSettings):
    # A nested env value (e.g. only the password) must keep this default.
    database: str = "crm_contacts"


class ContactsSettings(ServiceSettings):
    """Env prefix `CONTACTS_`, e.g. `CONTACTS_POSTGRES__HOST`."""

    model_config = SettingsConfigDict(env_prefix="CONTACTS_", env_nested_delimiter="__", extra="ignore")

    service_name: str = "contacts"
    http_port: int = 8001
    postgres: ContactsPostgres = ContactsPostgres()
    internal_token: SecretStr = SecretStr(DEV_INTERNAL_TOKEN)
