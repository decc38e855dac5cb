"""Slack: the 👍 and 👎 under an answer, and the "what was wrong?" modal a 👎 opens.

Needs Interactivity on, with the request URL of events (slack-manifest.yaml): a click comes as
`block_actions` and the modal's submission as `view_submission`, both signed like the rest. No
scope beyond the bot's: `views.open` needs only the click's `trigger_id` (valid for 3 s), and the
thanks goes to the clicker alone through the click's `response_url`.

Each button's value is the answer's id from the Recorder and nothing else, and the modal carries
it in `private_metadata`: a click is recorded from what Slack's signed request says (who clicked,
which answer), with nothing kept in memory, so it counts just the same after a restart or on
another worker. One vote per person per answer: the records keep the last.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.feedback import (
    ANSWER_ID,
    COMMENT_LABEL,
    COMMENT_PLACEHOLDER,
    COMMENT_TITLE,
    MAX_COMMENT_CHARS,
    NOT_RECORDING,
    THANKS,
)
from adapters.slack_render import VOTE_DOWN_ACTION, VOTE_UP_ACTION
from adapters.slack_web_api import describe
from assistant.records import Recorder

__all__ = ["COMMENT_CALLBACK", "add_feedback", "comment_view"]

log = logging.getLogger(__name__)

COMMENT_CALLBACK = "vote_comment"  # the modal's callback_id
COMMENT_BLOCK, COMMENT_INPUT = "comment", "text"


def comment_view(answer_id: str) -> dict[str, Any]:
    """The modal a 👎 opens: one optional text box; submitting it records the comment."""
    return {
        "type": "modal",
        "callback_id": COMMENT_CALLBACK,
        "private_metadata": answer_id,
        "title": {"type": "plain_text", "text": COMMENT_TITLE},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Skip"},
        "blocks": [
            {
                "type": "input",
                "block_id": COMMENT_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": COMMENT_LABEL},
                "element": {
                    "type": "plain_text_input",
                    "action_id": COMMENT_INPUT,
                    "multiline": True,
                    "max_length": MAX_COMMENT_CHARS,
                    "placeholder": {"type": "plain_text", "text": COMMENT_PLACEHOLDER},
                },
            }
        ],
    }


def _clicked(body: dict[str, Any], action_id: str) -> tuple[str, str] | None:
    """(answer id, clicker) of a vote click, or None when its value is not an answer id."""
    actions: list[dict[str, Any]] = body.get("actions") or []
    action = next((a for a in actions if a.get("action_id") == action_id), {})
    answer_id = str(action.get("value") or "")
    user = str((body.get("user") or {}).get("id") or "")
    return (answer_id, user) if ANSWER_ID.fullmatch(answer_id) and user else None


async def _tell(respond: Any, text: str) -> None:
    """`text` to the clicker alone, under the answer (which stays as it was)."""
    try:
        await respond(text=text, response_type="ephemeral", replace_original=False)
    except Exception as e:  # the vote is recorded; Slack was the only way to say so
        log.warning("Could not thank a voter (%s)", describe(e))


def add_feedback(app: AsyncApp, recorder: Recorder | None) -> None:
    """Handle 👍, 👎 and the 👎's modal on `app`, recording each with `recorder`. Every click is
    acknowledged first (Slack's 3 s); recording never waits for the database."""
    recording = recorder is not None and recorder.enabled

    @app.action(VOTE_UP_ACTION)
    async def vote_up(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        clicked = _clicked(body, VOTE_UP_ACTION)
        if clicked is None:
            return
        if not recording:  # an answer posted while recording was on
            await _tell(respond, NOT_RECORDING)
            return
        assert recorder is not None
        answer_id, user = clicked
        recorder.record_vote(answer_id, platform="slack", user_id=user, up=True)
        await _tell(respond, THANKS)

    @app.action(VOTE_DOWN_ACTION)
    async def vote_down(
        ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient
    ) -> None:
        await ack()
        clicked = _clicked(body, VOTE_DOWN_ACTION)
        if clicked is None:
            return
        if not recording:
            await _tell(respond, NOT_RECORDING)
            return
        assert recorder is not None
        answer_id, user = clicked
        # Counted now: closing the modal without a word still leaves the 👎.
        recorder.record_vote(answer_id, platform="slack", user_id=user, up=False)
        try:  # first: the trigger_id expires 3 s after the click
            await client.views_open(trigger_id=body.get("trigger_id"), view=comment_view(answer_id))
        except Exception as e:
            log.warning("Could not open the comment box of a 👎 (%s)", describe(e))
        await _tell(respond, THANKS)

    @app.view(COMMENT_CALLBACK)
    async def comment(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        await ack()  # closes the modal
        answer_id = str(view.get("private_metadata") or "")
        user = str((body.get("user") or {}).get("id") or "")
        values = (view.get("state") or {}).get("values") or {}
        text = ((values.get(COMMENT_BLOCK) or {}).get(COMMENT_INPUT) or {}).get("value") or ""
        if recording and ANSWER_ID.fullmatch(answer_id) and user and text.strip():
            assert recorder is not None
            # the same person's 👎 again, now with what was wrong: it replaces the first
            recorder.record_vote(answer_id, platform="slack", user_id=user, up=False, comment=text)
