"""What kind of answer a question wants, and which passages carry that kind of answer."""

from __future__ import annotations

import re

# Passage cues, one per answer type. Each is a general pattern of English, not of any document.
_DATE = re.compile(
    r"\b(1[89]\d\d|20\d\d|january|february|march|april|\d+(?:st|nd|rd|th)? may|may \d+|june|july|august|september|october|"
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
# Someone: a name (a capitalised word inside a sentence, or two in a row), or a role.
_NAME = re.compile(
    r"(?<=[a-z,;:] )[A-Z][a-z]+|\b[A-Z][a-z]+ [A-Z][a-z]+|"
    r"(?i:\b(?:manager|supervisor|officer|director|administrator|coordinator|committee|chair|"
    r"secretary|representative|head of|team leader)s?\b)"
)
_CAUSE = re.compile(
    # "reason" alone is as often asked about as given ("the reasons behind the ban"): only the
    # words that state one count.
    r"\b(because|since|due to|owing to|reasons? (?:is|was|being)|for (?:\w+ )?reasons?|in order to|"
    r"so that|so as to|as a result|therefore|caus\w*|conflict\w*|violat\w*|purpose|"
    r"to (?:protect|prevent|provide|improve|ensure|comply|help|avoid|reduce|keep|make sure|allow))\b",
    re.IGNORECASE,
)
# A length of time: a count (or "a") of a unit of time.
_DURATION = re.compile(
    r"\b(?:\d+(?:\.\d+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"fifteen|twenty|thirty|forty|sixty|ninety|several|few)[ -](?:\w+[ -])?"
    r"(?:second|minute|hour|day|night|week|fortnight|month|year|term|semester)s?\b|"
    r"\b(?:annually|overnight|permanently|indefinitely)\b",
    re.IGNORECASE,
)
# What may, must or must not be done.
_PERMISSION = re.compile(
    r"(?<!\d )\b(?:may(?! \d))\b|\b(must|cannot|can't|can not|allowed|permitted|prohibited|forbidden|banned|entitled|"
    r"eligible|not (?:be )?(?:allowed|permitted)|never|only|unless|require[sd]?|approval|"
    r"permission|at (?:your|their) discretion)\b",
    re.IGNORECASE,
)
# How something is done: a step (an instruction that opens with its verb), or the means.
_PROCEDURE = re.compile(
    r"^\W*(?:\d+[.)]\s*)?(?:please\s+)?(?:ask|apply|arrange|attach|book|bring|call|check|claim|"
    r"collect|complete|contact|email|e-mail|fill|follow|give|go|hand|inform|keep|log|make|notify|"
    r"phone|post|put|raise|read|record|register|report|request|return|save|send|sign|speak|"
    r"submit|switch|take|tell|text|upload|use|visit|wait|write)\b|"
    r"\b(?:by|via) (?:email|e-mail|phone|post|calling|emailing|completing|filling|submitting|"
    r"logging|using|contacting|writing|sending|visiting)\b|\b(?:fill in|fill out|log in|"
    r"step|steps|form|portal|first|then)\b",
    re.IGNORECASE,
)
_PRONOUN_START = re.compile(r"^\W*(they|it|he|she|this|these|those|that|such|we)\b", re.IGNORECASE)

ANSWER_TYPES = ("when", "number", "who", "why", "duration", "permission", "procedure")
RULE_TYPES = ("permission", "procedure")  # answered by a rule or a step, which most passages hold
_CUE_OF = {
    "when": _DATE,
    "number": _NUMBER,
    "who": _NAME,
    "why": _CAUSE,
    "duration": _DURATION,
    "permission": _PERMISSION,
    "procedure": _PROCEDURE,
}
# The types whose answer is a fact a passage either states or does not (a reason, a permission or a
# procedure can be said in too many ways for a cue to tell), with what a passage lacking it lacks.
FACT_TYPES = {
    "when": "a date",
    "number": "a figure",
    "duration": "a length of time",
    "who": "a name or a role",
}


def lacking(kind: str) -> str:
    """What an answer says when its quotes hold no fact of the kind asked ("a figure")."""
    return f"the closest passages give no {FACT_TYPES[kind].split(' ', 1)[1]}"


_UNITS = r"(?:seconds|minutes|hours|days|nights|weeks|fortnights|months|years|terms)"
_ASKED = (
    ("duration", rf"\bhow long\b|\bhow many (?:\w+ )?{_UNITS}\b|\bhow (?:soon|quickly)\b|"
     r"\bwithin what\b|\bwhat (?:is|'s) the (?:\w+ )?(?:period|deadline|notice)\b"),
    ("number", r"\bhow (?:many|much|often|old|far|big|large)\b|\bwhat (?:percentage|amount|price|"
     r"number|size)\b|\bwhat(?:'s| is| are| was| were) (?:the |a )?(?:\w+ )?(?:cost|price|fees?|"
     r"rate|limit|maximum|minimum|amount|allowance|charge|deposit|fine|budget|salary|pay)\b"),
    ("when", r"^\W*(?:when|what (?:date|year|time|day|month))\b|\bby when\b|\bwhat time\b|"
     r"\bwhich (?:day|date|month|year)\b"),
    ("who", r"^\W*(?:who|whom|whose|to whom)\b|\bwhich (?:person|team|department|office|manager|"
     r"member of staff)\b|\bwho(?:m)? (?:do|should|can|must|will)\b"),
    ("why", r"^\W*why\b|^\W*what(?:'s| is| was| are| were) the (?:\w+ )?(?:reasons?|purpose|"
     r"justification|rationale|point)\b|\bfor what reason\b|\bhow come\b|\bwhat (?:led|caused)\b"),
    ("procedure", r"^\W*how (?:do|can|should|would|must|will|does) (?:i|we|you|one|staff|"
     r"employees|parents|tenants|members|someone|anyone)\b|\bhow to\b|\bwhat (?:steps|is the "
     r"(?:process|procedure))\b|\bwhat (?:do|should|must) (?:i|we|you) do\b|\bwhere (?:do|can|"
     r"should) (?:i|we|you) (?:send|submit|report|apply|get|find|book|claim|return|hand)\b"),
    ("permission", r"^\W*(?:can|may|could|might) \w+|\b(?:is|are|am) (?:\w+ ){0,3}(?:allowed|"
     r"permitted|able to)\b|^\W*is (?:it|there) (?:ok|okay|fine|possible|a problem)\b|"
     r"\bdo (?:i|we|you) (?:need|have to get) (?:permission|approval)\b"),
)  # fmt: skip
_ASKED_AS = [(kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in _ASKED]


def question_type(question: str) -> str | None:
    """The answer type a question asks for (the first that fits, in _ASKED's order: "how many
    days" asks for a duration before a number), or None when it asks for no particular kind."""
    q = question.lower()
    return next((kind for kind, pattern in _ASKED_AS if pattern.search(q)), None)


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
