"""Service settings: one env prefix per service, nested values with `__`, and no
development secret accepted outside development."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings

from tools.write_api_docs import SERVICE_SETTINGS, env_variables


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith(("CONTACTS_", "EXPORT_", "IMPORTER_")):
            monkeypatch.delenv(name)


def secret_variables(settings_cls: type[BaseSettings]) -> list[str]:
    return [n for n, default in env_variables(settings_cls).items() if isinstance(default, SecretStr)]


@pytest.mark.parametrize("service", SERVICE_SETTINGS)
def test_development_runs_on_the_local_stack_defaults(service: str) -> None:
    settings = SERVICE_SETTINGS[service]()
    assert settings.environment == "development"
    assert settings.postgres.database == f"crm_{service}"


@pytest.mark.parametrize("environment", ["test", "production"])
@pytest.mark.parametrize("service", SERVICE_SETTINGS)
def test_default_secrets_are_refused_outside_development(
    service: str, environment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_cls = SERVICE_SETTINGS[service]
    secrets = secret_variables(settings_cls)
    assert secrets, f"{service} reads no secret?"
    monkeypatch.setenv(f"{service.upper()}_ENVIRONMENT", environment)
    with pytest.raises(ValidationError) as refused:
        settings_cls()
    message = str(refused.value)
    for variable in secrets:
        assert variable in message, f"{variable} is not named in: {message}"


@pytest.mark.parametrize("service", SERVICE_SETTINGS)
def test_one_secret_left_at_its_default_is_named_alone(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    settings_cls = SERVICE_SETTINGS[service]
    left, *given = secret_variables(settings_cls)
    monkeypatch.setenv(f"{service.upper()}_ENVIRONMENT", "production")
    for variable in given:
        monkeypatch.setenv(variable, f"real-{variable.lower()}")
    with pytest.raises(ValidationError) as refused:
        settings_cls()
    assert left in str(refused.value)
    assert not any(variable in str(refused.value) for variable in given)


@pytest.mark.parametrize("service", SERVICE_SETTINGS)
def test_real_secrets_from_the_environment_are_accepted(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    settings_cls = SERVICE_SETTINGS[service]
    monkeypatch.setenv(f"{service.upper()}_ENVIRONMENT", "production")
    for variable in secret_variables(settings_cls):
        monkeypatch.setenv(variable, f"real-{variable.lower()}")
    settings = settings_cls()
    assert settings.postgres.password.get_secret_value() == f"real-{service}_postgres__password"
    # A nested value from the environment keeps the other defaults of its model.
    assert settings.postgres.database == f"crm_{service}"


def test_nested_values_use_the_prefix_and_double_underscore(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPORT_S3__ENDPOINT", "s3:8333")
    monkeypatch.setenv("EXPORT_KAFKA__BOOTSTRAP_SERVERS", "kafka:9092")
    monkeypatch.setenv("IMPORTER_S3__ENDPOINT", "elsewhere:1")
    export = SERVICE_SETTINGS["export"]()
    assert export.s3.endpoint == "s3:8333"  # type: ignore[attr-defined]
    assert export.kafka.bootstrap_servers == "kafka:9092"
    assert export.s3.bucket == "crm-bulk"  # type: ignore[attr-defined]
