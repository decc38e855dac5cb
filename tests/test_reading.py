from __future__ import annotations

import pytest

from assistant import Assistant
from assistant.reading import small_talk_reply, unframed, unshouted


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("Hi! Why was the ad ban lifted? Thanks!", "Why was the ad ban lifted?"),
        (
            "Hi there, could you please tell me: why was it banned? Thanks a lot!",
            "why was it banned?",
        ),
        ("Good morning all, how much is a card?", "how much is a card?"),
        ("Do you know when the ban started?", "when the ban started?"),
        ("I'd like to know about the ban.", "the ban."),
        ("Please, what is the fee?", "what is the fee?"),
        ("What is the fee, please?", "What is the fee?"),
        # Questions that only look like it stay as they are.
        ("Hey - what is the late fee?", "what is the late fee?"),
        ("Can I take newspapers home?", "Can I take newspapers home?"),
        ("Hi-vis jackets: who pays?", "Hi-vis jackets: who pays?"),
        ("What did the letter thank Twitter for?", "What did the letter thank Twitter for?"),
        ("How do I say thank you?", "How do I say thank you?"),
        ("Tell me", "Tell me"),  # nothing would remain
        ("Thanks!", "Thanks!"),
    ],
)
def test_greetings_thanks_and_requests_are_read_away(typed: str, read: str) -> None:
    assert unframed(typed) == read


def test_a_question_typed_in_capitals_is_lowered_and_names_stay_otherwise() -> None:
    assert unshouted("WHY WAS KASPERSKY BANNED?") == "why was kaspersky banned?"
    assert unshouted("Is the EFF in the US?") == "Is the EFF in the US?"
    assert unshouted("EFF?") == "EFF?"  # too short to tell


def test_the_same_question_typed_another_way_gets_the_same_answer(assistant: Assistant) -> None:
    plain = assistant.answer("why did Twitter ban Kaspersky's ads?")
    assert plain.answered
    for typed in (
        "Hi! Could you please tell me why did Twitter ban Kaspersky's ads? Thanks a lot!",
        "WHY DID TWITTER BAN KASPERSKY'S ADS?",
    ):
        answer = assistant.answer(typed)
        assert answer.citations == plain.citations, typed
        assert answer.question == typed  # the user's words, as asked


@pytest.mark.parametrize(
    ("message", "reply"),
    [
        ("hi", "Hello!"),
        ("Good morning all!", "Hello!"),
        ("thanks!", "You're welcome."),
        ("Hi! Thank you so much", "You're welcome."),
        ("hi, why was it banned?", None),  # a question: answered, not greeted
        ("Tell me", None),
        ("", None),
    ],
)
def test_a_greeting_or_thanks_alone_gets_a_reply_not_a_refusal(
    message: str, reply: str | None
) -> None:
    answer = small_talk_reply(message)
    assert (answer or "").startswith(reply or "") and (answer is None) == (reply is None)


def test_small_talk_is_answered_without_quotes(assistant: Assistant) -> None:
    thanks = assistant.answer("Thanks a lot!")
    assert not thanks.answered and not thanks.citations
    assert thanks.text.startswith("You're welcome.")
    assert "don't cover" in assistant.answer("Tell me").text
