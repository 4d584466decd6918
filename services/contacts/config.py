from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import DEV_INTERNAL_TOKEN, PostgresSettings, ServiceSettings


class ContactsPostgres(PostgresSettings):
    # A nested env value (e.g. only the password) must keep this default.
    database: str = "crm_contacts"
    random_page_cost: float = Field(
        1.1,
        gt=0,
        allow_inf_nan=False,
        description="The planner's cost of reading a page at random, for this service's sessions. "
        "PostgreSQL's default (4) assumes spinning disks; at 1.1 (SSD storage) a page of contacts "
        "filtered by stage, owner, tag and text walks an index in id order instead of combining "
        "three bitmaps (39 -> 8 ms at 1M contacts, docs/benchmarks.md).",
    )

    def session_settings(self) -> dict[str, str]:
        return {"random_page_cost": str(self.random_page_cost)}


class ContactsSettings(ServiceSettings):
    """Env prefix `CONTACTS_`, e.g. `CONTACTS_POSTGRES__HOST`."""

    model_config = SettingsConfigDict(env_prefix="CONTACTS_", env_nested_delimiter="__", extra="ignore")

    service_name: str = "contacts"
    http_port: int = 8001
    postgres: ContactsPostgres = ContactsPostgres()
    internal_token: SecretStr = SecretStr(DEV_INTERNAL_TOKEN)
