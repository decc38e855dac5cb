"""A real Recorder on a temporary SQLite file, and what it wrote, for the chat adapters' tests."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from assistant.records import Recorder, open_recorder
from assistant.records.report import Report, build_report
from assistant.records.sql import SQLStore

SALT = "adapter-tests-salt-0123456789"


@dataclass
class Records:
    """Where a test's records go; `open()` is a recorder on them, as a bot opens one at start
    (call it again for a bot started after a restart: same database, same secret)."""

    path: Path

    @property
    def environ(self) -> dict[str, str]:
        return {"POLICY_QA_DATABASE_URL": f"sqlite:///{self.path}", "POLICY_QA_RECORD_SALT": SALT}

    def open(self) -> Recorder:
        return open_recorder(self.environ)

    def rows(self, recorder: Recorder, query: str) -> list[tuple[Any, ...]]:
        """`query`'s rows once everything `recorder` was given is written."""
        assert recorder.flush(timeout=30), "the recorder did not write in time"
        with sqlite3.connect(self.path) as connection:
            return connection.execute(query).fetchall()

    def answers(self, recorder: Recorder) -> list[tuple[Any, ...]]:
        """(id, platform, person, question, outcome) of every recorded answer, oldest first."""
        return self.rows(
            recorder,
            "SELECT id, platform, person, question, outcome FROM policy_qa_answers "
            "ORDER BY asked_at",
        )

    def votes(self, recorder: Recorder) -> list[tuple[Any, ...]]:
        """(answer id, person, up, comment) of every vote."""
        return self.rows(recorder, "SELECT answer_id, person, up, comment FROM policy_qa_votes")

    def report(self, recorder: Recorder, embedder: Any) -> Report:
        """What `policy-qa report` shows for the last day, once `recorder` wrote everything;
        `embedder`, the model it groups questions with."""
        assert recorder.flush(timeout=30), "the recorder did not write in time"
        store = SQLStore.open(self.environ["POLICY_QA_DATABASE_URL"], create=False)
        try:
            return build_report(store, datetime.now(UTC) - timedelta(days=1), lambda: embedder)
        finally:
            store.close()
