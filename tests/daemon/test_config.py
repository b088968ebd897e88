"""Configuration: file < environment precedence, clear errors naming the key, secrets hidden."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from daemon.cli import main
from daemon.config import ConfigError, load_settings

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_is_valid_and_documents_every_key():
    settings = load_settings(REPO / "config.toml", environ={})
    assert settings.web.port == 8080
    text = (REPO / "config.toml").read_text()
    for section, values in settings.model_dump().items():
        if isinstance(values, dict):
            assert f"[{section}]" in text
            for key in values:
                assert f"\n{key} = " in text, f"[{section}] {key} is not in config.toml"
        else:
            assert f"\n{section} = " in text


def test_environment_overrides_file(tmp_path):
    path = write(tmp_path, '[web]\nport = 9000\n[ami]\nhost = "pbx.local"\n')
    settings = load_settings(path, environ={"CENTRALITA_WEB__PORT": "9100"})
    assert settings.web.port == 9100
    assert settings.ami.host == "pbx.local"
    assert not settings.uses_simulator


def test_invalid_value_names_key_value_and_expectation(tmp_path):
    path = write(tmp_path, '[web]\nport = "eighty"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    message = str(err.value)
    assert "[web] port" in message and "'eighty'" in message and "integer" in message


def test_unknown_key_is_refused(tmp_path):
    path = write(tmp_path, '[ami]\nhots = "pbx"\n')
    with pytest.raises(ConfigError, match=r"\[ami\] hots: unknown key"):
        load_settings(path, environ={})


def test_agent_channel_must_contain_extension(tmp_path):
    path = write(tmp_path, '[ami]\nagent_channel = "PJSIP/100"\n')
    with pytest.raises(ConfigError, match="agent_channel"):
        load_settings(path, environ={})


def test_broken_toml_is_reported(tmp_path):
    path = write(tmp_path, "[web\nport = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path, environ={})


def test_cli_exits_2_without_traceback(tmp_path, capsys):
    path = write(tmp_path, '[database]\nurl = "mysql://x"\n')
    assert main(["--config", str(path), "config"]) == 2
    err = capsys.readouterr().err
    assert "[database] url" in err and "Traceback" not in err


def test_secrets_are_redacted_when_printed_and_logged(tmp_path, capsys, caplog):
    path = write(tmp_path, '[ami]\nsecret = "s3cr3t-ami"\n[telegram]\ntoken = "123:tok-en"\n')
    assert main(["--config", str(path), "config"]) == 0
    out = capsys.readouterr().out
    assert "s3cr3t-ami" not in out and "tok-en" not in out
    assert json.loads(out)["ami"]["secret"] == "**********"
    settings = load_settings(path, environ={})
    with caplog.at_level(logging.INFO):
        logging.getLogger("t").info("settings %s", settings)
    assert "s3cr3t-ami" not in caplog.text
    assert settings.ami.secret.get_secret_value() == "s3cr3t-ami"


def test_bad_secret_value_is_not_echoed(tmp_path):
    path = write(tmp_path, "[ami]\nsecret = 123456789\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    assert "[ami] secret" in str(err.value)
    assert "123456789" not in str(err.value)


def test_other_centralita_variables_are_not_configuration(tmp_path):
    """The scripts' and tests' own variables must not be taken for configuration keys."""
    path = write(tmp_path, "")
    env = {
        "CENTRALITA_TEST_DB": "sqlite",
        "CENTRALITA_TEST_PG": "postgres://postgres@127.0.0.1:5432/test",
        "CENTRALITA_NAME": "centralita-1",
        "CENTRALITA_ADMIN": "admin",
        "CENTRALITA_ADMIN_PASSWORD": "x",
        "CENTRALITA_CONFIG": str(path),
        "CENTRALITA_DATA_DIR": str(tmp_path / "elsewhere"),
    }
    settings = load_settings(path, environ=env)
    assert settings.data_dir == tmp_path / "elsewhere"
    with pytest.raises(ConfigError, match=r"\[web\] prot: unknown key"):
        load_settings(path, environ={"CENTRALITA_WEB__PROT": "1"})


def test_mail_section_from_environment_password_hidden(tmp_path, capsys, monkeypatch):
    path = write(tmp_path, '[mail]\nsmtp_host = "smtp.acme.test"\nsmtp_username = "crm@acme.test"')
    env = {"CENTRALITA_MAIL__SMTP_PASSWORD": "m4il-pa55", "CENTRALITA_MAIL__SMTP_PORT": "465"}
    settings = load_settings(path, environ=env)
    assert (settings.mail.smtp_port, settings.mail.sender) == (465, "crm@acme.test")
    assert settings.mail.smtp_password.get_secret_value() == "m4il-pa55"
    monkeypatch.setenv("CENTRALITA_MAIL__SMTP_PASSWORD", "m4il-pa55")
    assert main(["--config", str(path), "config"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["mail"]["smtp_password"] == "**********" and "m4il" not in out
    monkeypatch.delenv("CENTRALITA_MAIL__SMTP_PASSWORD")
    # A server without a From address (and a login that is not one) is refused at start,
    # naming the key; a badly typed password is not echoed.
    path = write(tmp_path, '[mail]\nsmtp_host = "smtp.acme.test"\nsmtp_password = "m4il-pa55"\n')
    with pytest.raises(ConfigError, match=r"\[mail\] from_address") as err:
        load_settings(path, environ={})
    assert "m4il-pa55" not in str(err.value)
    path = write(tmp_path, "[mail]\nsmtp_password = 987654321\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    assert "[mail] smtp_password" in str(err.value) and "987654321" not in str(err.value)
    path = write(tmp_path, '[mail]\nsmtp_security = "ssl"\n')
    with pytest.raises(ConfigError, match=r"\[mail\] smtp_security = 'ssl'"):
        load_settings(path, environ={})


# Lists and tables from the environment: JSON, replacing the file's value.
TRUNKS_JSON = '["Local/*@carrier-*", "SIP/trunk-*"]'
DEVICES_JSON = '{"SIP/150010001": "201", "SIP/150010002": "202"}'
LISTS_IN_FILE = '[ami]\ntrunk_channels = ["DAHDI/*"]\ndevices = { "SIP/1" = "101" }\n'


def test_list_and_table_keys_from_environment_as_json(tmp_path):
    path = write(tmp_path, LISTS_IN_FILE)
    from_file = load_settings(path, environ={})
    assert from_file.ami.trunk_channels == ["DAHDI/*"]
    assert from_file.ami.devices == {"SIP/1": "101"}
    env = {"CENTRALITA_AMI__TRUNK_CHANNELS": TRUNKS_JSON, "CENTRALITA_AMI__DEVICES": DEVICES_JSON}
    settings = load_settings(path, environ=env)
    assert settings.ami.trunk_channels == ["Local/*@carrier-*", "SIP/trunk-*"]
    # The variable's table replaces the file's: SIP/1 is not kept beside the new devices.
    assert settings.ami.devices == {"SIP/150010001": "201", "SIP/150010002": "202"}
    # A whole section as JSON works too; the keys it does not name keep the file's values.
    settings = load_settings(path, environ={"CENTRALITA_AMI": '{"port": 5039, "host": "pbx"}'})
    assert (settings.ami.port, settings.ami.host) == (5039, "pbx")
    assert settings.ami.devices == {"SIP/1": "101"}


def test_list_keys_precedence_default_file_environment(tmp_path):
    assert load_settings(write(tmp_path, ""), environ={}).ami.trunk_channels == []
    path = write(tmp_path, LISTS_IN_FILE)
    env = {"CENTRALITA_AMI__TRUNK_CHANNELS": "[]"}
    assert load_settings(path, environ=env).ami.trunk_channels == []


def test_invalid_json_in_environment_names_the_variable(tmp_path):
    path = write(tmp_path, LISTS_IN_FILE)
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={"CENTRALITA_AMI__TRUNK_CHANNELS": "Local/*@carrier-*"})
    message = str(err.value)
    assert "CENTRALITA_AMI__TRUNK_CHANNELS = 'Local/*@carrier-*'" in message
    assert "not valid JSON" in message and "JSON list" in message
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={"CENTRALITA_AMI__DEVICES": "{SIP/1: 201}"})
    assert "CENTRALITA_AMI__DEVICES = '{SIP/1: 201}'" in str(err.value)
    assert "JSON object" in str(err.value)
    # JSON of the wrong shape: the key, the value, what was expected and the variable.
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={"CENTRALITA_AMI__TRUNK_CHANNELS": '"Local/*"'})
    message = str(err.value)
    assert "[ami] trunk_channels = 'Local/*'" in message and "valid list" in message
    assert "JSON list" in message and "CENTRALITA_AMI__TRUNK_CHANNELS" in message
    # A broken section's JSON may hold a secret: named, not echoed.
    with pytest.raises(ConfigError, match="CENTRALITA_AMI: not valid JSON") as err:
        load_settings(path, environ={"CENTRALITA_AMI": '{"secret": "s3cr3t-ami"'})
    assert "s3cr3t-ami" not in str(err.value)


def test_environment_error_names_key_and_variable(tmp_path):
    path = write(tmp_path, "[web]\nport = 9000\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={"CENTRALITA_WEB__PORT": "eighty"})
    message = str(err.value)
    assert "[web] port = 'eighty'" in message and "integer" in message
    assert "CENTRALITA_WEB__PORT" in message
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={"CENTRALITA_AMI": '{"secret": 5, "port": 1}'})
    assert "[ami] secret" in str(err.value) and "5," not in str(err.value)


def test_cli_prints_lists_and_tables_set_as_json(tmp_path, capsys, monkeypatch):
    path = write(tmp_path, LISTS_IN_FILE + 'secret = "s3cr3t-ami"\n')
    monkeypatch.setenv("CENTRALITA_AMI__TRUNK_CHANNELS", TRUNKS_JSON)
    monkeypatch.setenv("CENTRALITA_AMI__DEVICES", DEVICES_JSON)
    assert main(["--config", str(path), "config"]) == 0
    shown = json.loads(capsys.readouterr().out)["ami"]
    assert shown["trunk_channels"] == ["Local/*@carrier-*", "SIP/trunk-*"]
    assert shown["devices"] == {"SIP/150010001": "201", "SIP/150010002": "202"}
    assert shown["secret"] == "**********"


def centralita(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """The installed `centralita` console script (or `python -m daemon.cli`), our variables only."""
    script = Path(sys.executable).parent / "centralita"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "daemon.cli"]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CENTRALITA_")}
    environ.update(env, PYTHONPATH=str(REPO))
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, env=environ, cwd=tmp_path, timeout=120
    )


def test_centralita_config_command_with_json_environment(tmp_path):
    path = write(tmp_path, LISTS_IN_FILE)
    done = centralita(
        tmp_path,
        "--config",
        str(path),
        "config",
        CENTRALITA_AMI__TRUNK_CHANNELS=TRUNKS_JSON,
        CENTRALITA_AMI__DEVICES=DEVICES_JSON,
        CENTRALITA_ADMIN_PASSWORD="not-a-key",
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)["ami"]
    assert shown["trunk_channels"] == ["Local/*@carrier-*", "SIP/trunk-*"]
    assert shown["devices"] == {"SIP/150010001": "201", "SIP/150010002": "202"}
    done = centralita(tmp_path, "--config", str(path), "config", CENTRALITA_AMI__DEVICES="{bad")
    assert done.returncode == 2
    assert "CENTRALITA_AMI__DEVICES = '{bad': not valid JSON" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
