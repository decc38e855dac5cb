"""The records' settings: what the environment turns on and off, where the database and the
people's secret live and who may read them, and the one-line errors for settings that cannot be
used."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from assistant import ConfigurationError
from assistant.records import open_recorder
from assistant.records.settings import RecordSettings, default_database_path, person_secret
from tests.test_recorder import ANSWERED, REFUSED


def test_recording_off_records_nothing_and_makes_no_file(tmp_path: Path) -> None:
    env = {"POLICY_QA_RECORD": "off", "XDG_DATA_HOME": str(tmp_path)}
    recorder = open_recorder(env)
    first = recorder.record_answer(ANSWERED, platform="slack", user_id="U1")
    assert first != recorder.record_answer(ANSWERED, platform="slack", user_id="U1")
    recorder.record_vote(first, platform="slack", user_id="U1", up=True)
    assert recorder.flush(timeout=0) and recorder.queued == 0
    recorder.close()
    assert list(tmp_path.iterdir()) == []


def test_the_default_database_is_a_private_file_in_the_data_folder(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "data")}
    recorder = open_recorder(env)
    try:
        recorder.record_answer(REFUSED, platform="slack", user_id="U1")
        assert recorder.flush(timeout=30)
    finally:
        recorder.close()
    folder = tmp_path / "data" / "policy-qa"
    assert default_database_path(env) == folder / "records.sqlite3"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in ("records.sqlite3", "record-salt"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
    home = {"HOME": str(tmp_path / "home")}
    assert default_database_path(home) == tmp_path / "home/.local/share/policy-qa/records.sqlite3"


def test_the_secret_is_made_once_and_must_be_private(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path)}
    settings = RecordSettings.from_environment(env)
    first = person_secret(settings, env)
    assert len(first) == 64 and person_secret(settings, env) == first
    salt_file = tmp_path / "policy-qa" / "record-salt"
    os.chmod(salt_file, 0o644)
    with pytest.raises(ConfigurationError, match="must be yours alone"):
        person_secret(settings, env)
    given = {**env, "POLICY_QA_RECORD_SALT": "a-long-enough-secret"}
    assert person_secret(RecordSettings.from_environment(given), given) == b"a-long-enough-secret"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("POLICY_QA_RETENTION_DAYS", "0", "from 1 to 36,500, not '0'"),
        ("POLICY_QA_RETENTION_DAYS", "-5", "not '-5'"),
        ("POLICY_QA_RETENTION_DAYS", "ninety", "not 'ninety'"),
        ("POLICY_QA_RETENTION_DAYS", "1.5", "not '1.5'"),
        ("POLICY_QA_RETENTION_DAYS", "٩٠", "not '٩٠'"),  # digits, but not ours
        ("POLICY_QA_RECORD", "maybe", "on or off, not 'maybe'"),
        ("POLICY_QA_RECORD_SALT", "short", "at least 16 characters"),
        ("POLICY_QA_DATABASE_URL", "mysql://db/records", "not mysql://"),
        ("POLICY_QA_DATABASE_URL", "postgresql+psycopg2://db/x", "not postgresql+psycopg2://"),
        ("POLICY_QA_DATABASE_URL", "not a url", "not a database URL"),
    ],
)
def test_a_setting_that_cannot_be_used_is_a_configuration_error(
    name: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message.replace(".", r"\.").replace("+", r"\+")):
        open_recorder({name: value, "HOME": "/nonexistent"})


def test_settings_read_as_documented(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path)}
    settings = RecordSettings.from_environment(env)
    assert settings.enabled and settings.retention_days == 90
    assert (
        settings.url.render_as_string()
        == f"sqlite+pysqlite:///{tmp_path}/policy-qa/records.sqlite3"
    )
    heroku = {
        "POLICY_QA_DATABASE_URL": "postgres://u:pw@db.example:5432/x",
        "POLICY_QA_RETENTION_DAYS": " 7 ",
    }
    settings = RecordSettings.from_environment(heroku)
    assert settings.url.drivername == "postgresql+psycopg" and settings.retention_days == 7
    for off in ("off", "OFF", "0", "false", "no"):
        assert not RecordSettings.from_environment({"POLICY_QA_RECORD": off}).enabled
