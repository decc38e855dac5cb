"""What kind of answer a question wants, and which passages carry that kind of answer."""

from __future__ import annotations

import re

# Passage cues, one per answer type. Each is a general pattern of English, not of any document.
_DATE = re.compile(
    r"\b(1[89]\d\d|20\d\d|january|february|march|april|may|june|july|august|september|october|"
    r"november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|ago|yesterday|"
    r"today|tomorrow|weekly|daily|annually|\d{1,2}/\d{1,2}(/\d{2,4})?)\b",
    re.IGNORECASE,
)
# A quantity: a figure that is not a year (a year answers "when", not "how much"), a currency or
# percent sign, or a number word.
_NUMBER = re.compile(
    r"[$€£%]|\b(?!(?:1[89]|20)\d\d\b)\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|"
    r"twelve|twenty|thirty|hundred|thousand|million|billion|percent|dozen|half|several)\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"(?<=[a-z,;:] )[A-Z][a-z]+|\b[A-Z][a-z]+ [A-Z][a-z]+")
_CAUSE = re.compile(
    # "reason" alone is as often asked about as given ("the reasons behind the ban").
    r"\b(because|since|due to|reasons? (?:for|is|was|being|why)|for (?:\w+ )?reasons?|in order to|"
    r"so that|as a result|therefore|caus\w*|conflict\w*|violat\w*|purpose|"
    r"to (?:protect|prevent|provide|improve|ensure|comply|help))\b",
    re.IGNORECASE,
)
_PRONOUN_START = re.compile(r"^\W*(they|it|he|she|this|these|those|that|such|we)\b", re.IGNORECASE)

ANSWER_TYPES = ("when", "number", "who", "why")
_CUE_OF = {"when": _DATE, "number": _NUMBER, "who": _NAME, "why": _CAUSE}


def question_type(question: str) -> str | None:
    """The answer type a question asks for, or None when it asks for no particular kind."""
    q = question.lower()
    if re.search(
        r"\bhow (many|much|long|often|old)\b|\bwhat (percentage|amount|price|number)\b", q
    ):
        return "number"
    if re.match(r"\W*(when|what (date|year|time|day|month))\b", q):
        return "when"
    if re.match(r"\W*(who|whom|whose)\b", q):
        return "who"
    if re.match(r"\W*why\b|\W*what (is|was|are|were) the reasons?\b|\W*for what reason\b", q):
        return "why"
    return None


def asks_for_words(question: str) -> bool:
    """Does the question ask what someone said, called, thought or claimed?"""
    return bool(
        re.search(
            r"\b(say|said|says|call|calls|called|according to|think|feel|claim|describe|words)\b",
            question,
            re.IGNORECASE,
        )
    )


def passage_cues(text: str) -> tuple[bool, ...]:
    """One flag per ANSWER_TYPES entry, then whether the passage opens with a pronoun."""
    return (
        *(bool(_CUE_OF[t].search(text)) for t in ANSWER_TYPES),
        bool(_PRONOUN_START.match(text)),
    )
