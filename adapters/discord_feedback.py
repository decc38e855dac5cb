"""Discord: the 👍 and 👎 under an answer, and the "what was wrong?" modal a 👎 opens.

The buttons are a `discord.ui.DynamicItem` whose custom id carries the answer's id from the
Recorder (`policy-qa:vote:up:<id>`, `policy-qa:vote:down:<id>`). The bot registers the class at
start (`add_dynamic_items`), so discord.py routes a click on any of its answers, posted by this
process or by one before a restart, to a button rebuilt from the custom id alone: nothing is kept
in memory, and no view is stored per message. A click is recorded from what Discord says (who
clicked, which answer); one vote per person per answer, the last one kept.

👍 answers the click with "Thanks — noted." for the clicker alone (an ephemeral response, within
Discord's 3 s). 👎 is recorded at once and answered with the modal, whose submission records the
comment (the same person's 👎 again, replacing the first) and says thanks. A modal still open when
the bot restarts cannot be submitted (discord.py keeps modals in memory); the 👎 itself is kept.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from adapters.feedback import (
    COMMENT_LABEL,
    COMMENT_PLACEHOLDER,
    COMMENT_TITLE,
    MAX_COMMENT_CHARS,
    NOT_RECORDING,
    THANKS,
)
from assistant.records import Recorder

__all__ = ["VOTE_PREFIX", "CommentModal", "VoteButton", "vote_view"]

log = logging.getLogger(__name__)

VOTE_PREFIX = "policy-qa:vote:"
MODAL_SECONDS = 15 * 60.0  # an interaction's token lasts 15 minutes: a modal no longer


def _recorder(interaction: discord.Interaction[Any]) -> Recorder | None:
    recorder = getattr(interaction.client, "recorder", None)
    return recorder if isinstance(recorder, Recorder) and recorder.enabled else None


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=re.escape(VOTE_PREFIX) + r"(?P<way>up|down):(?P<answer_id>[0-9a-f]{32})",
):
    """👍 or 👎 for one recorded answer; everything it needs is in its custom id."""

    def __init__(self, way: str, answer_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.secondary,
                emoji="👍" if way == "up" else "👎",
                custom_id=f"{VOTE_PREFIX}{way}:{answer_id}",
            )
        )
        self.way, self.answer_id = way, answer_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> VoteButton:
        return cls(match["way"], match["answer_id"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        recorder = _recorder(interaction)
        if recorder is None:  # an answer posted while recording was on
            await interaction.response.send_message(NOT_RECORDING, ephemeral=True)
            return
        up = self.way == "up"
        user = str(interaction.user.id)
        # Counted now: a 👎 whose modal is closed without a word still counts.
        recorder.record_vote(self.answer_id, platform="discord", user_id=user, up=up)
        if up:
            await interaction.response.send_message(THANKS, ephemeral=True)
        else:
            await interaction.response.send_modal(CommentModal(self.answer_id))


class CommentModal(discord.ui.Modal):
    """The "What was wrong?" modal: one optional text box; submitting records it with the 👎."""

    def __init__(self, answer_id: str) -> None:
        super().__init__(
            title=COMMENT_TITLE,
            timeout=MODAL_SECONDS,
            custom_id=f"policy-qa:comment:{answer_id}",
        )
        self.answer_id = answer_id
        self.comment: discord.ui.TextInput[CommentModal] = discord.ui.TextInput(
            label=COMMENT_LABEL,
            custom_id="comment",
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=MAX_COMMENT_CHARS,
            placeholder=COMMENT_PLACEHOLDER,
        )
        self.add_item(self.comment)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        recorder = _recorder(interaction)
        text = self.comment.value or ""
        if recorder is not None and text.strip():
            user = str(interaction.user.id)
            recorder.record_vote(
                self.answer_id, platform="discord", user_id=user, up=False, comment=text
            )
        await interaction.response.send_message(THANKS, ephemeral=True)


def vote_view(answer_id: str) -> discord.ui.View:
    """The buttons under an answer's last message. Made of dynamic items only, the view is not
    kept per message: clicks reach `VoteButton` through the class the bot registered."""
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton("up", answer_id))
    view.add_item(VoteButton("down", answer_id))
    return view
