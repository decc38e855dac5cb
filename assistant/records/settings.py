"""Where records go and for how long, from the environment; the secret that keys people's hashes.

    POLICY_QA_RECORD          off (also 0, false, no) records nothing; default on
    POLICY_QA_DATABASE_URL    sqlite:///PATH or postgresql://…; default: a SQLite file in the
                              user's data folder, default_database_path()
    POLICY_QA_RETENTION_DAYS  records older than this many days are deleted; default 90
    POLICY_QA_RECORD_SALT     the secret people's ids are hashed with (16 characters or more);
                              default: a random one created once beside the default database

A value that cannot be used is a ConfigurationError at start (the CLI's exit 4), never later.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import ConfigurationError
from assistant.text import printable

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

RECORD_ENV = "POLICY_QA_RECORD"
DATABASE_ENV = "POLICY_QA_DATABASE_URL"
RETENTION_ENV = "POLICY_QA_RETENTION_DAYS"
SALT_ENV = "POLICY_QA_RECORD_SALT"
DEFAULT_RETENTION_DAYS = 90
MAX_RETENTION_DAYS = 36_500
MIN_SALT_CHARS = 16  # shorter secrets can be guessed, and with them every hash tested
_OFF = {"off", "0", "false", "no"}
_ON = {"", "on", "1", "true", "yes"}


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """$XDG_DATA_HOME/policy-qa, else ~/.local/share/policy-qa."""
    env = os.environ if environ is None else environ
    if explicit := env.get("XDG_DATA_HOME"):
        return Path(explicit).expanduser() / "policy-qa"
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    return home / ".local" / "share" / "policy-qa"


def default_database_path(environ: Mapping[str, str] | None = None) -> Path:
    return data_dir(environ) / "records.sqlite3"


def create_private_file(path: Path) -> None:
    """Create `path` (and missing folders) for its owner alone, if it does not exist."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    os.close(fd)


@dataclass(frozen=True)
class RecordSettings:
    enabled: bool
    url: URL
    retention_days: int
    salt: str | None  # from the environment; None: the file in the data folder

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> RecordSettings:
        from assistant.records.sql import database_url  # SQLAlchemy: only when records are used

        env = os.environ if environ is None else environ
        raw_url = env.get(DATABASE_ENV, "").strip()
        url = database_url(raw_url or f"sqlite:///{default_database_path(env)}")
        salt = env.get(SALT_ENV) or None
        if salt is not None and len(salt) < MIN_SALT_CHARS:
            raise ConfigurationError(
                f"{SALT_ENV} must be at least {MIN_SALT_CHARS} characters long "
                f"(for example: python -c 'import secrets; print(secrets.token_hex(32))')."
            )
        return cls(
            enabled=recording_enabled(env.get(RECORD_ENV, "")),
            url=url,
            retention_days=retention_days(env.get(RETENTION_ENV, "")),
            salt=salt,
        )


def recording_enabled(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _OFF:
        return False
    if value in _ON:
        return True
    raise ConfigurationError(f"{RECORD_ENV} must be on or off, not {raw.strip()!r}.")


def retention_days(raw: str) -> int:
    text = raw.strip()
    if not text:
        return DEFAULT_RETENTION_DAYS
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_RETENTION_DAYS):
        raise ConfigurationError(
            f"{RETENTION_ENV} must be a whole number of days from 1 to {MAX_RETENTION_DAYS:,}, "
            f"not {text!r}."
        )
    return int(text)


def person_secret(settings: RecordSettings, environ: Mapping[str, str] | None = None) -> bytes:
    """The key of people's hashes: $POLICY_QA_RECORD_SALT, else the file `record-salt` in the
    data folder, created once with 32 random bytes, readable by its owner alone.

    OSError when the file cannot be created or read; ConfigurationError when it is not the
    user's own or others can read it (then the hashes would be no secret)."""
    if settings.salt is not None:
        return settings.salt.encode()
    path = data_dir(environ) / "record-salt"
    if not path.exists():
        _create_secret(path)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if hasattr(os, "geteuid") and (
            info.st_uid != os.geteuid() or info.st_mode & (stat.S_IRWXG | stat.S_IRWXO)
        ):
            raise ConfigurationError(
                f"The secret {printable(path)} must be yours alone (chmod 600), or set {SALT_ENV}."
            )
        secret = f.read().strip()
    if len(secret) < MIN_SALT_CHARS:
        raise ConfigurationError(
            f"The secret {printable(path)} is too short; delete it to make a new one, or set "
            f"{SALT_ENV}."
        )
    return secret


def _create_secret(path: Path) -> None:
    # Written whole under another name, then linked into place: two bots starting together
    # never read a half-written secret, and the second keeps the first one's.
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    create_private_file(temporary)
    try:
        temporary.write_text(secrets.token_hex(32) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink()
