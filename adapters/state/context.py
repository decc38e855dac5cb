"""What is kept of a conversation for its follow-ups: the last question and what answered it."""

from __future__ import annotations

import time
from typing import Any

from assistant import Answer
from assistant.answers import MAX_QUESTION_CHARS

__all__ = ["conversation_record"]


def conversation_record(answer: Answer, user: str) -> dict[str, Any]:
    """The context record of a conversation (a Slack thread or DM, a Discord channel or thread)
    after `answer`: `question` (as asked, at most MAX_QUESTION_CHARS), `context` (the core's
    `Answer.context`: what to pass as `previous` to `Assistant.answer` for the next question in
    the conversation), `user`, `answered`, `cited` ([path, start, end] of each quote, best first)
    and `at` (Unix time). Small and JSON-able, as `SharedState.put_context` wants; what a
    follow-up ("and for part-timers?") needs to know what came before, whichever worker answered
    it."""
    return {
        "question": answer.question[:MAX_QUESTION_CHARS],
        "context": (answer.context or "")[: 2 * MAX_QUESTION_CHARS] or None,
        "user": user,
        "answered": answer.answered,
        "cited": [[c.path, c.start, c.end] for c in answer.citations],
        "at": round(time.time(), 3),
    }
