"""Recognising site boilerplate (sign-ups, offers, share lines) by what it looks like.

Scraped pages carry calls to action around the text: short title-like lines and sentences that
address the reader to sell, subscribe, share or follow. We only look for them in a run at the edges
of a document (where templates put them), so a policy that mentions newsletters in its body keeps
every word.
"""

from __future__ import annotations

import re

from assistant.text import words

# What a call to action sells or asks for, and the verbs it opens with.
_OFFER_WORDS = frozenset(
    """subscribe subscription subscriptions unsubscribe newsletter newsletters signup offer offers
    deal deals discount discounts coupon coupons promo promos promotion sponsored sponsor brand
    brands sale sales giveaway webinar ebook premium membership exclusive conversions""".split()
)
_IMPERATIVES = frozenset(
    """subscribe sign join claim place showcase avail get grab download share follow like buy shop
    order register try start save upgrade click read discover check learn book never don""".split()
)
_PERCENT = re.compile(r"\d+\s*%")
_TERMINAL = re.compile(r"[.!?:;]['\"”’)\]]*\s*$")


def _sentences(block: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", block.strip()) if s]


def _is_call_to_action(sentence: str) -> bool:
    tokens = words(sentence)
    if not tokens:
        return False
    offers = sum(t in _OFFER_WORDS for t in tokens) + len(_PERCENT.findall(sentence))
    imperative = tokens[0] in _IMPERATIVES
    if len(tokens) <= 8 and not _TERMINAL.search(sentence):  # a title-like line
        return offers >= 1 or imperative
    return (imperative and offers >= 1) or offers >= 3


def looks_like_boilerplate(block: str) -> bool:
    """True when most of a block's sentences are calls to action (by count and by length)."""
    sentences = _sentences(block)
    if not sentences or len(words(block)) > 120:
        return False
    cta = [s for s in sentences if _is_call_to_action(s)]
    return len(cta) * 2 > len(sentences) and sum(map(len, cta)) * 2 > sum(map(len, sentences))


def boilerplate_blocks(blocks: list[str]) -> set[int]:
    """Indexes of the boilerplate blocks in the runs at the start and the end of a document."""
    found: set[int] = set()
    for order in (range(len(blocks)), range(len(blocks) - 1, -1, -1)):
        for i in order:
            if not looks_like_boilerplate(blocks[i]):
                break
            found.add(i)
    return found
