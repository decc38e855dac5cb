"""Shared rendering helpers: packing under a limit never splits a block that fits."""

from __future__ import annotations

from adapters.render import pack, shorten


def test_blocks_are_packed_up_to_the_limit_and_never_split() -> None:
    blocks = ["a" * 999, "b" * 999]
    assert pack(blocks, 2000) == ["a" * 999 + "\n\n" + "b" * 999]  # 2,000 exactly: one message
    assert pack(["a" * 1000, "b" * 999], 2000) == ["a" * 1000, "b" * 999]  # 2,001: two
    assert all(len(m) <= 2000 for m in pack(["x" * 1500] * 5, 2000))


def test_a_block_longer_than_a_message_is_split_at_word_boundaries() -> None:
    block = " ".join(["word"] * 1000)  # 4,999 characters
    messages = pack([block], 2000)
    assert all(len(m) <= 2000 for m in messages)
    assert " ".join(messages).split() == block.split()


def test_shorten_cuts_at_a_word_with_an_ellipsis() -> None:
    assert shorten("short", 10) == "short"
    assert shorten("a fairly long sentence here", 12) == "a fairly…"
