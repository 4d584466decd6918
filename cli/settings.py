"""Where the CLI finds the services and the token: a flag wins over the environment,
which wins over the config file, which wins over the local defaults (`make run`)."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

LANGUAGES = ("pt-BR", "en")


@dataclass(frozen=True)
class CliSettings:
    token: str | None = None
    contacts_url: str = "http://127.0.0.1:8001"
    export_url: str = "http://127.0.0.1:8002"
    importer_url: str = "http://127.0.0.1:8003"
    kafka_bootstrap: str | None = "127.0.0.1:19092"
    lang: str = "pt-BR"


# Setting name → environment variable.
ENV_NAMES: dict[str, str] = {
    "token": "CRM_BULK_TOKEN",
    "contacts_url": "CRM_BULK_CONTACTS_URL",
    "export_url": "CRM_BULK_EXPORT_URL",
    "importer_url": "CRM_BULK_IMPORTER_URL",
    "kafka_bootstrap": "CRM_BULK_KAFKA_BOOTSTRAP",
    "lang": "CRM_BULK_LANG",
}
CONFIG_ENV = "CRM_BULK_CONFIG"


def default_config_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return base / "crm-bulk" / "config.toml"


def normalise_lang(value: str) -> str:
    """`en`, `en-US`, `EN` → `en`; anything else Portuguese-like → `pt-BR`."""
    lowered = value.strip().lower()
    if lowered.startswith("en"):
        return "en"
    if lowered.startswith("pt"):
        return "pt-BR"
    raise ValueError(value)


def read_config_file(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    with path.open("rb") as stream:
        loaded = tomllib.load(stream)
    known = {f.name for f in fields(CliSettings)}
    return {k: str(v) for k, v in loaded.items() if k in known}


def resolve_settings(
    flags: Mapping[str, str | None], environ: Mapping[str, str], file_values: Mapping[str, str]
) -> CliSettings:
    """Each setting from the first layer that gives it: flags, environment, config file."""
    chosen: dict[str, str] = {}
    for name, env_name in ENV_NAMES.items():
        for layer_value in (flags.get(name), environ.get(env_name), file_values.get(name)):
            if layer_value:
                chosen[name] = layer_value
                break
    settings = replace(CliSettings(), **chosen)
    return replace(settings, lang=normalise_lang(settings.lang), **_trimmed_urls(settings))


def _trimmed_urls(settings: CliSettings) -> dict[str, str]:
    return {name: getattr(settings, name).rstrip("/") for name in ("contacts_url", "export_url", "importer_url")}


def write_config_file(path: Path, settings: CliSettings) -> None:
    """Writes the file readable by its owner only: it holds the API token."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{name} = {_toml_string(value)}" for name, value in asdict(settings).items() if value]
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write("# crm-bulk: written by `crm-bulk configure`\n" + "\n".join(lines) + "\n")
    # O_CREAT's mode applies to new files only; an older file keeps its mode otherwise.
    path.chmod(0o600)


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
