"""Records of questions, answers and votes, for `policy-qa report`; never in an answer's way.

For a bot, the whole interface:

    recorder = open_recorder()  # at start, from the environment (ConfigurationError if unusable)
    answer_id = recorder.record_answer(answer, platform="chat", user_id=event_user)  # at once
    recorder.record_vote(answer_id, platform="chat", user_id=voter, up=False, comment="wrong")
    recorder.close()  # at shutdown: writes what is queued, waiting 5 s at most

Both record calls return in microseconds and never raise, so they are called straight from the
event loop; a thread writes to the database (see recorder.py for what happens when it is down).
Only a salted hash of a platform's user id is kept (base.person_key). Stores (base.RecordStore):
SQLStore for SQLite (the default file, default_database_path()) and PostgreSQL; with
POLICY_QA_RECORD=off the recorder records nothing. settings.py lists the environment.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING

from assistant.records.base import RecordStore
from assistant.records.recorder import Recorder
from assistant.records.settings import (
    RecordSettings,
    default_database_path,
    person_secret,
)

if TYPE_CHECKING:
    from assistant.records.sql import SQLStore

log = logging.getLogger(__name__)


def open_recorder(environ: Mapping[str, str] | None = None) -> Recorder:
    """A recorder as the environment says (settings.py): writing to the database in the
    background, or recording nothing when POLICY_QA_RECORD=off. Raises ConfigurationError for a
    setting it cannot use; never for a database that is down (that is logged, and retried)."""
    from assistant.records.sql import SQLStore, shown  # SQLAlchemy: only when records are used

    settings = RecordSettings.from_environment(environ)
    if not settings.enabled:
        log.info("Recording is off (POLICY_QA_RECORD=off)")
        return Recorder.disabled()
    try:
        secret = person_secret(settings, environ)
    except OSError as e:
        # A read-only home must not stop the bot, nor its records: people's hashes then hold
        # within this run only (a vote after a restart counts as another person's).
        log.warning(
            "Cannot keep the secret for people's hashes (%s); using one for this run only. Set "
            "POLICY_QA_RECORD_SALT to keep it across restarts.",
            e.strerror or e,
        )
        secret = secrets.token_hex(32).encode()
    url = settings.url
    log.info("Recording questions in %s for %d days", shown(url), settings.retention_days)
    return Recorder(
        lambda: SQLStore.open(url),
        secret=secret,
        retention_days=settings.retention_days,
        where=shown(url),
    )


def open_store(environ: Mapping[str, str] | None = None, *, create: bool = True) -> SQLStore:
    """The store the environment names, connected and migrated, for reading (the report).
    Raises DatabaseMissing for a SQLite file that does not exist when `create` is False."""
    from assistant.records.sql import SQLStore

    settings = RecordSettings.from_environment(os.environ if environ is None else environ)
    return SQLStore.open(settings.url, create=create)


__all__ = [
    "RecordSettings",
    "RecordStore",
    "Recorder",
    "default_database_path",
    "open_recorder",
    "open_store",
]
