"""Text helpers shared by the core: folding for comparisons and the lexical tokenizer."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

_FOLD = str.maketrans(
    {
        "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'",
        "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"',
        "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
        "\u00a0": " ",
    }
)  # fmt: skip
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")

# Short function words that carry no topic. Question words stay out of this list on purpose:
# the ranking reads them as cues before they are dropped from the lexical query.
STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his i if in into is it its itself just me
    more most my myself no nor not now of off on once only or other our ours ourselves out over own
    same she should so some such than that the their theirs them themselves then there these they
    this those through to too under until up very was we were what when where which while who whom
    why how will with would you your yours yourself yourselves s t d ll m o re ve y
    something anything everything nothing someone anyone everyone somebody anybody everybody
    somewhere anywhere everywhere""".split()
)  # the last two lines: indefinite pronouns, which stand in for a topic rather than name one


def fold(text: str) -> str:
    """Case, whitespace, curly quotes and dashes folded, for comparing phrases, not for display."""
    text = unicodedata.normalize("NFKC", text).translate(_FOLD)
    return _SPACES.sub(" ", text).strip().casefold()


def strip_invisible(text: str) -> str:
    """Zero-width and direction-control characters removed (they hide words from matching)."""
    return _INVISIBLE.sub("", text)


def _escaped(char: str) -> str:
    code = ord(char)
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char) or (
        f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    )


def printable(text: object, keep: str = "") -> str:
    """`text` (a file name, say) with control, format and line-separator characters shown as
    escapes ("a\\nb", "\\x1b", "\\u202e"), except those in `keep`: a name with a newline or an
    ANSI sequence in it can then neither break a line of output nor rewrite the terminal."""
    return "".join(
        _escaped(c) if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") and c not in keep else c
        for c in str(text)
    )


# A pronoun's contraction: its ending is a function word ("I'll" is "I will", not "ill").
_CONTRACTION = re.compile(r"\b(i|you|we|they|he|she|it|there|that|who|what)'(m|re|ve|d|ll)\b")
_EXPANDED = {"m": "am", "re": "are", "ve": "have", "d": "would", "ll": "will"}


def words(text: str) -> list[str]:
    """The words of `text`, folded, in order; "n't" becomes "not", a pronoun's "'ll" "will",
    and possessive "'s" goes."""
    folded = (
        _CONTRACTION.sub(lambda m: f"{m[1]} {_EXPANDED[m[2]]}", fold(text))
        .replace("won't", "will not")
        .replace("can't", "can not")
        .replace("n't", " not")
        .replace("'s", "")
        .replace("'", "")
    )
    return _WORD.findall(folded)


# Irregular verb forms a suffix stemmer cannot join to their base ("wrote" and "write").
_IRREGULAR = {
    form: base
    for base, forms in {
        "arise": "arose arisen", "be": "was were been", "bear": "bore borne", "beat": "beaten",
        "become": "became", "begin": "began begun", "bend": "bent", "bind": "bound",
        "bite": "bit bitten", "blow": "blew blown", "break": "broke broken", "bring": "brought",
        "build": "built", "buy": "bought", "catch": "caught", "choose": "chose chosen",
        "come": "came", "deal": "dealt", "do": "did done", "draw": "drew drawn",
        "drink": "drank drunk", "drive": "drove driven", "eat": "ate eaten",
        "fall": "fell fallen", "feed": "fed", "feel": "felt", "fight": "fought", "find": "found",
        "fly": "flew flown", "forbid": "forbade forbidden", "forget": "forgot forgotten",
        "forgive": "forgave forgiven", "freeze": "froze frozen", "get": "got gotten",
        "give": "gave given", "go": "went gone", "grow": "grew grown", "hang": "hung",
        "have": "had has", "hear": "heard", "hide": "hid hidden", "hold": "held",
        "keep": "kept", "know": "knew known", "lay": "laid", "lead": "led", "leave": "left",
        "lend": "lent", "lie": "lay lain", "lose": "lost", "make": "made", "mean": "meant",
        "meet": "met", "pay": "paid", "ride": "rode ridden", "ring": "rang rung",
        "rise": "rose risen", "run": "ran", "say": "said", "see": "saw seen", "seek": "sought",
        "sell": "sold", "send": "sent", "shake": "shook shaken", "shoot": "shot",
        "show": "shown", "sing": "sang sung", "sit": "sat", "sleep": "slept",
        "speak": "spoke spoken", "spend": "spent", "stand": "stood", "steal": "stole stolen",
        "strike": "struck", "swear": "swore sworn", "take": "took taken", "teach": "taught",
        "tear": "tore torn", "tell": "told", "think": "thought", "throw": "threw thrown",
        "understand": "understood", "undertake": "undertook undertaken", "wake": "woke woken",
        "wear": "wore worn", "win": "won", "withdraw": "withdrew withdrawn",
        "write": "wrote written", "overcome": "overcame", "forsee": "foresaw foreseen",
    }.items()
    for form in forms.split()
}  # fmt: skip


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def stems(content_words: list[str]) -> list[str]:
    """Each folded content word's lexical token (irregular forms joined to their base)."""
    return list(_stemmer().stemWords([_IRREGULAR.get(w, w) for w in content_words]))


def lexical_tokens(text: str) -> list[str]:
    """Stemmed content words: what the lexical index and query are built from."""
    return stems([w for w in words(text) if w not in STOP_WORDS and (len(w) > 1 or w.isdigit())])
