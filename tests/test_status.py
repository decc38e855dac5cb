"""Services say where they are: indexing progress in the log, and the state for /healthz."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from assistant import Assistant
from assistant import status as status_module
from assistant.status import Status


def test_indexing_off_a_terminal_logs_progress_with_rate_and_time_left(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(status_module, "REPORT_EVERY", 0.2)  # the real 5 s would slow the suite
    folder = tmp_path / "knowledge"
    folder.mkdir()
    for n in range(6):
        sentences = " ".join(f"Rule {n}.{i} says staff may take {i} days off." for i in range(60))
        (folder / f"rules-{n}.md").write_text(sentences, encoding="utf-8")
    caplog.set_level(logging.INFO, logger="assistant.status")
    status = Status()
    assistant = Assistant.load(folder, use_cache=False, status=status)
    lines = [r.getMessage() for r in caplog.records if r.name == "assistant.status"]
    assert lines, "no progress line"
    pattern = r"indexing 6 documents: [\d,]+ of 360 passages embedded \(\d+%\), \d+ passages/s, about .+ left"
    assert all(re.fullmatch(pattern, line) for line in lines), lines
    assert status.as_dict() == {
        "state": "ready",
        "documents": 6,
        "passages": len(assistant.index),
        "to_embed": 0,
        "embedded": 0,
        "reloads": 0,
        "error": None,
    }
    status.announce()
    assert caplog.records[-1].getMessage() == "ready: 6 documents, 360 passages, answering"
