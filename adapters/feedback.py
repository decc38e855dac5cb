"""Votes on answers, for both chat adapters: which answers get buttons, and what a vote says back.

Every answer a bot posts is recorded (`Recorder.record_answer`, which hashes the asker's id and
returns the answer's id at once); the 👍 and 👎 under it carry that id and nothing else, so a
click needs no memory of the answer and still counts after a restart. With recording off
(POLICY_QA_RECORD=off) no buttons are shown: a vote nobody keeps would be a lie.
"""

from __future__ import annotations

import re

from assistant import Answer
from assistant.records import Recorder
from assistant.records.base import outcome_of
from assistant.records.recorder import MAX_COMMENT_CHARS

__all__ = [
    "ANSWER_ID",
    "COMMENT_LABEL",
    "COMMENT_PLACEHOLDER",
    "COMMENT_TITLE",
    "MAX_COMMENT_CHARS",
    "NOT_RECORDING",
    "THANKS",
    "record_answer",
]

THANKS = "Thanks — noted."
NOT_RECORDING = "Votes are not being recorded here, so this one was not kept."
COMMENT_TITLE = "What was wrong?"
COMMENT_LABEL = "What was wrong? (optional)"
COMMENT_PLACEHOLDER = "Wrong quote, out of date, not what I asked…"
# Recorder.record_answer's ids (uuid4().hex): a button whose value is anything else is not ours.
ANSWER_ID = re.compile(r"[0-9a-f]{32}")


def record_answer(
    recorder: Recorder | None, answer: Answer, *, platform: str, user_id: str
) -> str | None:
    """Record `answer` (never blocks, never raises) and return the id its vote buttons carry, or
    None when it gets none: recording is off, or the message was not a question about the
    documents (a greeting, an empty or too long message: recorded, so that the report's shares
    add up, but nothing to vote on)."""
    if recorder is None:
        return None
    answer_id = recorder.record_answer(answer, platform=platform, user_id=user_id)
    if not recorder.enabled or outcome_of(answer) == "other":
        return None
    return answer_id
