"""Follow-up questions: one that leans on the question before it ("and for part-timers?", "why
them?", "how long for that?") is read together with it; one that stands alone is read alone.

A follow-up is recognised by its form, in English generally, never by a document's words: it
opens as a continuation ("and …", "what about …", "for …"), or it points back (a pronoun for
something it does not name: "who has to agree it?"), or it names no topic at all ("can I carry
any over?"). For ranking, the follow-up is read first (its question word says what kind of
answer it wants) followed by the question it leans on (which says what it is about).
"""

from __future__ import annotations

import re

from assistant.text import STOP_WORDS

# Opens as a continuation of what was asked before.
_CONTINUES = re.compile(
    r"^\W*(?:and|but|also|or|plus|so|then|same|ok(?:ay)?|what about|how about|what if|"
    r"and if|even if|only if|unless|except|instead|otherwise|"
    r"(?:and )?(?:for|in|on|at|with|without|from|during|after|before|by|to) )\b",
    re.IGNORECASE,
)
# Points back at something the question does not name. "IT" in capitals is a department.
_POINTS_BACK = re.compile(
    r"\b(?:it|its|they|them|their|theirs|that|this|those|these|he|him|his|she|her|there|"
    r"one|ones|same|such|any|some|either|neither|else)\b"
)
# "Is it OK to …", "it's allowed to …": an "it" that stands for what follows, not for before.
_DUMMY_IT = re.compile(
    r"\b(?:(?:is|was|will|would|isn't|wasn't) it|it(?:'s|’s| is| was| will be| would be))"
    r" (?:ok|okay|alright|all right|fine|possible|allowed|permitted|true|necessary|required|"
    r"mandatory|compulsory|normal|acceptable|legal|safe|worth|too late|too early)\b",
    re.IGNORECASE,
)
# Question words, auxiliaries and pronouns say nothing of a topic.
_NO_TOPIC = STOP_WORDS | frozenset(
    """can could may might must shall should will would need needs have has get gets got do
    does did be is are was were am i me my we us our you your anyone anybody someone else
    long often much many ok okay yes no please also what when where who why how which whose
    allowed able ok""".split()
)
# A follow-up of more content words than this names its own topic: "What is the mileage rate
# for a car?" after anything stands alone, whatever its first word.
MAX_TOPIC_WORDS = 3


def topic_words(question: str) -> list[str]:
    """The words of a question that could name what it is about, lower-cased."""
    words = re.findall(r"[^\W\d_][\w'’-]*", question.lower())
    return [w for w in words if w not in _NO_TOPIC and len(w) > 1]


def leans_on_previous(question: str) -> bool:
    """Whether `question` reads as a follow-up that needs the question before it."""
    topic = topic_words(question)
    if len(topic) > MAX_TOPIC_WORDS:
        return False
    if _CONTINUES.match(question) or not topic:
        return True
    lowered = _DUMMY_IT.sub("", re.sub(r"\bIT\b", "", question)).lower()  # "ask IT": a department
    return bool(_POINTS_BACK.search(lowered))


def read_with_previous(question: str, previous: str | None) -> str | None:
    """The text to rank for `question` asked after `previous`, when it leans on it; None when it
    stands alone (or there is nothing before it)."""
    if not previous or not previous.strip() or not leans_on_previous(question):
        return None
    return f"{question.strip()} {previous.strip()}"


def understood(question: str, previous: str) -> str:
    """How the answer says what it took the follow-up to mean: the question before it, then the
    follow-up ("How many days of holiday do full-time staff get? — and part-timers?")."""
    return f"“{previous.strip()}” — “{question.strip()}”"
