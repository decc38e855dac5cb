"""What the core returns: an answer with verbatim, cited quotes, and its plain-text rendering."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from assistant.errors import QuestionError
from assistant.reading import unframed
from assistant.text import lexical_tokens, printable, strip_invisible

MAX_QUESTION_CHARS = 1000
_LINES = "\n\t"  # control characters a quote keeps when shown
SURE_HEADER = "From the documents:"
UNSURE = "I'm not sure the documents answer this."


@dataclass(frozen=True)
class Span:
    """More verbatim text of the cited document: `text[start:end] == quote`, like a citation's."""

    quote: str
    start: int
    end: int


@dataclass(frozen=True)
class Citation:
    """A verbatim quote: `open(path, encoding="utf-8").read()[start:end] == quote` (for formats
    that are not plain text, the document's extracted text: `policy-qa text PATH`)."""

    quote: str
    path: str  # the document's path, relative to the current directory when below it
    start: int
    end: int
    source: str  # publisher, title, author, date
    locator: str  # where in the document: "paragraph 3", or a section and paragraph
    speaker: str | None  # who is quoted; None for the document's own (narrator's) words
    score: float  # calibrated confidence, 0..1, that this quote answers the question
    page: int | None = None  # the page it is on, for paged formats (PDF)
    header: Span | None = None  # when the quote is a table row: the table's header row

    def header_pairs(self) -> list[tuple[str, str]] | None:
        """A table row's cells with their column names ("Role", "Engineers"), or None."""
        if self.header is None:
            return None
        names, values = table_cells(self.header.quote), table_cells(self.quote)
        if len(names) != len(values):
            return None
        return list(zip(names, values, strict=True))


@dataclass(frozen=True)
class Answer:
    question: str
    answered: bool
    text: str  # the whole answer as a person reads it
    citations: tuple[Citation, ...]
    # Why the quotes may not answer, said before them ("The documents don't mention “Spain”.");
    # None when they likely do.
    caveat: str | None = None
    # A follow-up read with the question before it: how it was taken ("“What is the mileage
    # rate?” — “and for rail?”"); None when it was read alone.
    understood_as: str | None = None
    # The question as it was ranked (the follow-up with the question before it): what the next
    # question of the conversation is read with, as `previous`.
    context: str | None = None

    @property
    def sure(self) -> bool:
        """Answered without a caveat."""
        return self.answered and self.caveat is None


def table_cells(row: str) -> list[str]:
    """A table row's cells: "| Sales | MacBook Air |" and "Sales | MacBook Air" alike."""
    inner = row.strip()
    inner = inner.removeprefix("|").removesuffix("|")
    return [cell.strip() for cell in inner.split("|")]


def quotes_header(caveat: str | None) -> str:
    """The line before the quotes: plain when they likely answer, the caveat when not."""
    return SURE_HEADER if caveat is None else f"{caveat} The closest passages:"


def unmentioned(names: list[str], question: str) -> str:
    """The caveat for names the documents never mention, as the question spells them: adjacent
    ones together ("Premier Inn")."""
    phrases: list[str] = []
    run: list[str] = []
    for word in [*re.findall(r"[\w’'-]+", question), ""]:
        if word in names:
            run.append(word)
        elif run:
            phrases.append(" ".join(run))
            run = []
    return f"The documents don't mention {_listed(phrases or names)}."


def unused(words: list[str]) -> str:
    """The caveat of an unsure answer to a question with words the documents never use, which
    often are what it asks ("When was it founded?")."""
    noun = "word" if len(words) == 1 else "words"
    return f"{UNSURE.removesuffix('.')}: they never use the {noun} {_listed(words)}."


def _listed(phrases: list[str]) -> str:
    quoted = [f"“{p}”" for p in dict.fromkeys(phrases)]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def normalize_question(raw: str) -> str:
    """The question with control and invisible characters removed and spaces collapsed.

    Raises QuestionError, with a message for the asker, when nothing is left or it is too long."""
    text = strip_invisible(unicodedata.normalize("NFC", raw))
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") else c for c in text)
    text = " ".join(text.split())
    if not text:
        raise QuestionError("Please ask a question about the documents.")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"That question is {len(text):,} characters long; "
            f"please ask it in under {MAX_QUESTION_CHARS:,} characters."
        )
    return text


# Clauses and, in a quote of two sentences, sentences. A comma or colon between digits is part of a
# number ("10:00", "$1,500"), not a break.
_CLAUSE_BREAK = re.compile(
    r"(?<!\d)[,:]\s*|[,:](?!\d)\s*|[;()–—]\s*|[.!?][\"”’')]*\s+"
    r"|\s+(?:and|but|while|which|because|so that)\s+|\s*\n\s*"
)
_EMBEDDED_QUOTE = re.compile(r"[“\"]([^”\"]{12,})[”\"]")
_CAUSE = frozenset(
    lexical_tokens("because since due reason reasons order conflict conflicts therefore")
)
HIGHLIGHT_MIN_CHARS = 140


def answering_clause(question: str, quote: str) -> tuple[int, int] | None:
    """(start, end) in `quote` of the clause that answers, for long quotes; None when no clause
    stands out. Lexical on purpose: renderers of every platform can call it, no model needed."""
    if len(quote) < HIGHLIGHT_MIN_CHARS:
        return None
    # Read as the ranking read it: every surface then bolds the same clause, whatever the
    # greeting or request around the question.
    question = unframed(question)
    asked = set(lexical_tokens(question))
    why = bool(re.match(r"\s*(why|what\s+(reason|did|does|do)\b)", question, re.IGNORECASE))
    cuts = [0, *(m.end() for m in _CLAUSE_BREAK.finditer(quote)), len(quote)]
    spans = [(a, b, 0.0) for a, b in zip(cuts, cuts[1:], strict=False)]
    # Asked why, a statement quoted inside the quote is usually the reason someone gave.
    spans += [(*m.span(1), 2.5 if why else 0.0) for m in _EMBEDDED_QUOTE.finditer(quote)]
    best, best_score = None, 0.0
    for a, b, bonus in spans:
        tokens = lexical_tokens(quote[a:b])
        if len(tokens) < 3:
            continue
        score = float(len(asked.intersection(tokens))) + bonus
        if why and _CAUSE.intersection(tokens):
            score += 1.5
        if score > best_score:
            best, best_score = (a, b), score
    if best is None:
        return None
    start, end = best
    clause = quote[start:end]
    start += len(clause) - len(clause.lstrip(" \t\n,;:–—"))
    end -= len(clause) - len(clause.rstrip(" \t\n,;:–—("))
    if end - start >= 0.75 * len(quote) or end <= start:
        return None
    return start, end


def attribution(citation: Citation) -> str:
    who = f"{citation.speaker}, as quoted" if citation.speaker else "narration"
    return f"{who} · {citation.source}, {citation.locator}"


def render_text(
    question: str, citations: tuple[Citation, ...], scope: str, caveat: str | None = None
) -> str:
    """The answer as a terminal shows it; the answering clause of a long quote in **bold**."""
    if not citations:
        return f"The documents don't cover this. I found nothing in {scope} that answers it."
    lines = [quotes_header(caveat), ""]
    for number, citation in enumerate(citations, 1):
        quote = citation.quote
        span = answering_clause(question, quote)
        if span:
            quote = f"{quote[: span[0]]}**{quote[span[0] : span[1]]}**{quote[span[1] :]}"
        # A document's control characters (an ANSI escape) are shown, never acted on.
        if citation.header:  # a table row, under its header row: a small table
            lines.append(f"{number}. {printable(citation.header.quote)}")
            lines.append(f"   {printable(quote, keep=_LINES)}")
        else:
            lines.append(f"{number}. “{printable(quote, keep=_LINES)}”")
        where = f"{printable(citation.path)}:{citation.start}-{citation.end}"
        lines.append(f"   — {attribution(citation)} ({where})")
        lines.append("")
    return "\n".join(lines).rstrip()
