"""Configuration: flags over environment over the config file; the file is private."""

from __future__ import annotations

import stat

import pytest

from cli.settings import CliSettings, default_config_path, read_config_file, resolve_settings, write_config_file


def test_each_setting_comes_from_the_first_layer_that_gives_it():
    settings = resolve_settings(
        flags={"token": "from-flag", "lang": None},
        environ={"CRM_BULK_TOKEN": "from-env", "CRM_BULK_EXPORT_URL": "http://env:1/", "CRM_BULK_LANG": "en-US"},
        file_values={"token": "from-file", "export_url": "http://file:2", "importer_url": "http://file:3"},
    )
    assert settings.token == "from-flag"
    assert settings.export_url == "http://env:1"
    assert settings.importer_url == "http://file:3"
    assert settings.contacts_url == CliSettings().contacts_url
    assert settings.lang == "en"


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError):
        resolve_settings({"lang": "fr"}, {}, {})


def test_the_config_file_round_trips_and_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "crm-bulk" / "config.toml"
    written = CliSettings(token='t"o\\k', contacts_url="http://c:1", lang="en")
    write_config_file(path, written)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert resolve_settings({}, {}, read_config_file(path)) == written


def test_the_config_path_follows_the_environment(tmp_path):
    assert default_config_path({"CRM_BULK_CONFIG": "/x/y.toml"}).as_posix() == "/x/y.toml"
    assert default_config_path({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "crm-bulk" / "config.toml"
