"""Rendering helpers every platform shares: packing blocks under a length limit, shortening."""

from __future__ import annotations

import re

from assistant import Answer

ELLIPSIS = "…"
TAKING_AS = "Taking this as: "  # how the core's answer.text opens when it read a follow-up
UNDERSTOOD_CHARS = 600  # a chain of follow-ups is long; the line under the question is not


def shorten(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters, with an ellipsis if cut."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def _split_oversized(block: str, limit: int) -> list[str]:
    """A single block longer than the limit, split at line, then word boundaries."""
    pieces: list[str] = []
    rest = block
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n"), window.rfind(" "))
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def pack(blocks: list[str], limit: int, separator: str = "\n\n") -> list[str]:
    """Join blocks into as few messages as fit `limit`, never splitting a block that fits on its
    own: a quote and its citation stay together. Only a block longer than a whole message is
    split, at a line or word boundary."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        for piece in _split_oversized(block, limit) if len(block) > limit else [block]:
            candidate = f"{current}{separator}{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                messages.append(current)
                current = piece
    if current:
        messages.append(current)
    return messages


_SPACES = re.compile(r"\s+")


def one_line(text: str) -> str:
    """Whitespace collapsed, for echoing a question back in a header."""
    return _SPACES.sub(" ", text).strip()


def understood_line(answer: Answer) -> str | None:
    """The line `Taking this as: “…” — “…”` when the core read `answer`'s question with the one
    before (a follow-up that borrowed from it), shortened; None when it read it alone."""
    if not answer.understood_as:
        return None
    return TAKING_AS + shorten(one_line(answer.understood_as), UNDERSTOOD_CHARS)


def plain_text(answer: Answer) -> str:
    """`answer.text` without the "Taking this as: …" paragraph the core opens it with after a
    follow-up: the chat renderers show that on a line of its own, under the question."""
    opening = f"{TAKING_AS}{answer.understood_as}\n\n"
    if answer.understood_as and answer.text.startswith(opening):
        return answer.text[len(opening) :]
    return answer.text
