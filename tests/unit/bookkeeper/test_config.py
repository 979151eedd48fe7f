from __future__ import annotations

import pytest

from bookkeeper.config import ConfigError, Settings, load_settings


def test_with_nothing_configured_kazbill_uses_the_embedded_store():
    settings = load_settings(environ={})
    assert settings == Settings()
    assert settings.uses_embedded_store and settings.store_path == "var/kazbill.sqlite3"


def test_environment_beats_the_file_and_the_file_beats_defaults(tmp_path):
    config = tmp_path / "kazbill.toml"
    config.write_text('[store]\nurl = "http://couch:5984"\ntimeout_s = 5\n[billing]\ntimezone = "Europe/Moscow"\n')
    settings = load_settings(environ={"KAZBILL_STORE_URL": "http://admin:secret@10.0.0.1:5984/"}, config_file=config)
    assert settings.store_url == "http://admin:secret@10.0.0.1:5984"
    assert settings.store_timeout_s == 5.0
    assert settings.default_timezone == "Europe/Moscow"
    assert not settings.uses_embedded_store


def test_the_config_file_may_come_from_the_environment(tmp_path):
    config = tmp_path / "k.toml"
    config.write_text("[smtp]\nport = 2525\nstarttls = true\n")
    settings = load_settings(environ={"KAZBILL_CONFIG": str(config)})
    assert (settings.smtp_port, settings.smtp_starttls) == (2525, True)


@pytest.mark.parametrize(
    "environ, setting",
    [
        ({"KAZBILL_STORE_URL": "couch:5984"}, "KAZBILL_STORE_URL"),
        ({"KAZBILL_AMQP_URL": "http://rabbit"}, "KAZBILL_AMQP_URL"),
        ({"KAZBILL_SMTP_PORT": "70000"}, "KAZBILL_SMTP_PORT"),
        ({"KAZBILL_SMTP_STARTTLS": "maybe"}, "KAZBILL_SMTP_STARTTLS"),
        ({"KAZBILL_TIMEZONE": "Mars/Olympus_Mons"}, "KAZBILL_TIMEZONE"),
        ({"KAZBILL_STORE_TIMEOUT": "-1"}, "KAZBILL_STORE_TIMEOUT"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable(environ, setting):
    with pytest.raises(ConfigError) as refused:
        load_settings(environ=environ)
    assert refused.value.setting == setting and setting in str(refused.value)


@pytest.mark.parametrize(
    "text, setting",
    [
        ("[store]\nurll = 'x'\n", "store.urll"),
        ("[stroe]\nurl = 'x'\n", "[stroe]"),
        ("[smtp]\nport = 'x'\n", "smtp.port"),
        ("not toml at all [", "KAZBILL_CONFIG"),
    ],
)
def test_a_bad_config_file_is_refused_naming_the_key(tmp_path, text, setting):
    config = tmp_path / "k.toml"
    config.write_text(text)
    with pytest.raises(ConfigError) as refused:
        load_settings(environ={}, config_file=config)
    assert refused.value.setting == setting


def test_a_missing_config_file_is_named():
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(environ={"KAZBILL_CONFIG": "/nonexistent/kazbill.toml"})


def test_describe_masks_secrets_and_url_passwords():
    settings = load_settings(
        environ={"KAZBILL_STORE_URL": "http://admin:secret@couch:5984", "KAZBILL_SMTP_PASSWORD": "hunter2"}
    )
    shown = settings.describe()
    assert shown["KAZBILL_STORE_URL"] == "http://admin:****@couch:5984"
    assert shown["KAZBILL_SMTP_PASSWORD"] == "****"
    assert shown["KAZBILL_AMQP_URL"] == "amqp://guest:****@127.0.0.1:5672/"
    assert "secret" not in repr(shown) and "hunter2" not in repr(shown)
