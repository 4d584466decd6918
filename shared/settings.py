"""Settings shared by the services: one nested model per backend.

Each service subclasses `ServiceSettings` with its own env prefix (`CONTACTS_`,
`EXPORT_`, `IMPORTER_`); nested values use `__`, e.g. `EXPORT_KAFKA__BOOTSTRAP_SERVERS`.
Development defaults match deploy/local (the project's own local stack); outside
`development` every secret must be given, never defaulted.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "production"]

# deploy/local/infra.sh starts the servers on these ports and with these credentials;
# outside `development` they are refused (see ServiceSettings).
DEV_POSTGRES_PASSWORD = "crm-bulk-dev"  # noqa: S105
DEV_S3_ACCESS_KEY = "crmbulkdev"
DEV_S3_SECRET_KEY = "crm-bulk-dev-secret-key"  # noqa: S105
DEV_INTERNAL_TOKEN = "crm-bulk-dev-internal-token"  # noqa: S105


class KafkaSettings(BaseModel):
    bootstrap_servers: str = "127.0.0.1:19092"
    client_id_prefix: str = "crm-bulk"


class PostgresSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 15432
    user: str = "crm_bulk"
    password: SecretStr = SecretStr(DEV_POSTGRES_PASSWORD)
    database: str = Field("crm_bulk", description="Each service owns a database of its own.")
    min_pool_size: int = 1
    max_pool_size: int = 10
    connect_timeout_s: float = 5.0

    def dsn(self) -> str:
        return f"postgresql://{self.user}:{self.password.get_secret_value()}@{self.host}:{self.port}/{self.database}"

    def session_settings(self) -> dict[str, str]:
        """PostgreSQL settings of every session of the service's pool."""
        return {}


class S3Settings(BaseModel):
    endpoint: str = Field("127.0.0.1:18333", description="host:port of the S3 API.")
    public_endpoint: str | None = Field(
        None,
        description="host:port that users' clients reach, for pre-signed URLs "
        "(the Host header is signed); default: `endpoint`.",
    )
    secure: bool = False
    region: str = "us-east-1"
    access_key: SecretStr = SecretStr(DEV_S3_ACCESS_KEY)
    secret_key: SecretStr = SecretStr(DEV_S3_SECRET_KEY)
    bucket: str = "crm-bulk"


class ContactsApiSettings(BaseModel):
    base_url: str = "http://127.0.0.1:8001"
    internal_token: SecretStr = SecretStr(DEV_INTERNAL_TOKEN)
    timeout_s: float = 30.0
    retry_s: float = Field(
        60.0,
        ge=0,
        description="How long a lookup or a bulk apply (requests of background jobs, safe to repeat) "
        "is tried again while the contacts service is unreachable or answers 5xx, 408 or 429, "
        "before the job's attempt fails (it is then retried as a whole, a few times).",
    )


_DEV_SECRETS: dict[str, str] = {
    "postgres.password": DEV_POSTGRES_PASSWORD,
    "s3.access_key": DEV_S3_ACCESS_KEY,
    "s3.secret_key": DEV_S3_SECRET_KEY,
    "contacts_api.internal_token": DEV_INTERNAL_TOKEN,
    "internal_token": DEV_INTERNAL_TOKEN,
}


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore")

    environment: Environment = "development"
    instance: str = Field(
        "crm-bulk",
        description="Names this deployment in the `source` of the events it publishes (`/<instance>/<service>`).",
    )
    service_name: str = "crm-bulk"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    log_level: str = "INFO"
    kafka: KafkaSettings = KafkaSettings()
    postgres: PostgresSettings = PostgresSettings()

    @property
    def event_source(self) -> str:
        return f"/{self.instance}/{self.service_name}"

    @model_validator(mode="after")
    def _no_default_secrets_outside_development(self) -> Self:
        if self.environment == "development":
            return self
        defaulted = [name for name, dev_value in _DEV_SECRETS.items() if _secret_at(self, name) == dev_value]
        if defaulted:
            prefix = self.model_config.get("env_prefix", "")
            names = ", ".join(prefix + n.upper().replace(".", "__") for n in defaulted)
            raise ValueError(
                f"{self.environment} needs real secrets: set {names} (the development defaults are refused)"
            )
        return self


def _secret_at(settings: BaseModel, dotted: str) -> str | None:
    node: object = settings
    for part in dotted.split("."):
        node = getattr(node, part, None)
        if node is None:
            return None
    return node.get_secret_value() if isinstance(node, SecretStr) else None
