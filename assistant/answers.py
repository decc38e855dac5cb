"""What the core returns: an answer with verbatim, cited quotes, and its plain-text rendering."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

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
    # A quotation in the document (`speaker` is who it quotes), not the document's own words
    # (`speaker` is then the document's own voice, from its front matter, or None).
    quoted: bool = False

    def header_pairs(self) -> list[tuple[str, str]] | None:
        """A table row's cells with their column names ("Role", "Engineers"), or None."""
        if self.header is None:
            return None
        # Markdown's rows are framed by pipes ("| a | b |"); extracted rows are not ("a | b"),
        # and may begin or end with an empty cell (" | b"): read both ways, keep the one whose
        # cells pair up with the header's.
        for framed in (True, False):
            names = table_cells(self.header.quote, framed)
            values = table_cells(self.quote, framed)
            if len(names) == len(values):
                return list(zip(names, values, strict=True))
        return None


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


def table_cells(row: str, framed: bool = True) -> list[str]:
    """A table row's cells: "| Sales | MacBook Air |" and "Sales | MacBook Air" alike; with
    `framed` false, a pipe at either end separates an empty cell instead of framing the row."""
    inner = row.strip()
    if framed:
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
# number ("10:00", "$1,500"), not a break. A connective opens the clause it introduces ("…
# accounts | which they use…"): a clause shown or bolded never ends on "which" or "because".
_CLAUSE_BREAK = re.compile(
    r"(?<!\d)[,:]\s*|[,:](?!\d)\s*|[;()–—]\s*|[.!?][\"”’')]*\s+"
    r"|\s+(?=(?:and|but|while|which|because|so that)\s)|\s*\n\s*"
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


def voice(citation: Citation, citations: Sequence[Citation] = ()) -> str | None:
    """Who speaks in a quote, for its attribution: its speaker (the person quoted, or the
    document's own voice); "narration" for a document's own unattributed words when another
    quote of the answer (`citations`) has a speaker to tell it from, else None: it says nothing."""
    if citation.speaker:
        return citation.speaker
    if citation.quoted:
        return "quoted"  # a quotation whose speaker the text does not name
    return "narration" if any(c.speaker or c.quoted for c in citations) else None


def _spoken_by(citation: Citation, citations: Sequence[Citation]) -> str | None:
    who = voice(citation, citations)
    if who and citation.quoted and citation.speaker:
        who += ", as quoted"  # the document quotes them; its own voice is not "quoted"
    return who


def attribution(citation: Citation, citations: Sequence[Citation] = ()) -> str:
    """Who speaks and the full source: "Eugene Kaspersky, as quoted · TechGenyz, …, paragraph 3"."""
    who, where = _spoken_by(citation, citations), f"{citation.source}, {citation.locator}"
    return f"{who} · {where}" if who else where


# How much of a second or third quote its compact form shows, around its answering words.
COMPACT_CHARS = 200
ELLIPSIS = "…"
# Sentences within a quote (and lines: a list item is one); whitespace around them is not shown.
_SENTENCE_END = re.compile(r"[.!?…]+[\"”’')\]]*\s+|\s*\n\s*")
_CLOSING = re.compile(r"[\"”’')\]]*[.!?]?[\"”’')\]]*")
# A cut never ends on a word that leads into what was cut ("…received intimation from the…").
_DANGLING = frozenset(
    "a an the of from to and or but in on at for with by that which as its their his her".split()
)
_HEAD_MIN, _HEAD_MAX = 30, 60  # a sentence's opening shown before its answering words


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _sentences(quote: str) -> list[tuple[int, int]]:
    cuts = [0, *(m.end() for m in _SENTENCE_END.finditer(quote)), len(quote)]
    spans = [_trimmed(quote, a, b) for a, b in zip(cuts, cuts[1:], strict=False)]
    return [(a, b) for a, b in spans if b > a]


def _word_end(text: str, start: int, end: int) -> int:
    """Where to end a part that starts at `start` and may run to `end`: at a word boundary, past
    no dangling word or punctuation that leads into what is cut."""
    if end >= len(text):
        return len(text)
    if not text[end].isspace():
        space = max(text.rfind(c, start, end + 1) for c in " \t\n")
        if space > start:
            end = space
    while True:
        end = _trimmed(text, start, end)[1]
        while end > start and text[end - 1] in ",;:–—-(“‘\"'":
            end -= 1
        head = text[start:end]
        last = head.rsplit(None, 1)
        if len(last) == 2 and last[1].casefold() in _DANGLING:
            end = start + len(last[0])
            continue
        return end


def shown_spans(question: str, citation: Citation, limit: int = COMPACT_CHARS) -> tuple[Span, ...]:
    """The parts of a quote its compact form shows, in order: the sentence around its answering
    words, or when that sentence is long, its opening and the clause that answers, each cut at a
    word boundary. Each part is verbatim at its own offsets in the document, as a citation is
    (`text[span.start:span.end] == span.quote`). A short quote or a table row is one whole part."""
    quote = citation.quote
    if citation.header is not None or len(quote) <= limit or not quote.strip():
        return (Span(quote, citation.start, citation.end),)
    clause = answering_clause(question, quote)
    sentences = _sentences(quote)
    if clause is not None:
        sa, sb = next((s for s in sentences if s[0] <= clause[0] < s[1]), sentences[0])
    else:
        asked = set(lexical_tokens(unframed(question)))
        sa, sb = max(
            sentences, key=lambda s: len(asked.intersection(lexical_tokens(quote[s[0] : s[1]])))
        )
    parts: list[tuple[int, int]]
    if sb - sa <= limit:
        parts = [(sa, sb)]
    elif clause is None:
        parts = [(sa, _word_end(quote, sa, sa + limit))]
    else:
        ca, cb = max(clause[0], sa), min(clause[1], sb)
        if cb - ca >= limit:
            parts = [(ca, _word_end(quote, ca, ca + limit))]
        else:
            room = limit - (cb - ca)
            if sb - cb <= room // 2:
                cb = sb  # the rest of the sentence is short: show it
            else:  # a closing quotation mark, bracket or full stop
                if closing := _CLOSING.match(quote, cb):
                    cb = min(closing.end(), sb)
            room -= cb - min(clause[1], sb)
            if ca - sa <= room:
                ca = sa
            else:  # the words leading into the clause, from the last clause break
                lead = max([sa, *(m.end() for m in _CLAUSE_BREAK.finditer(quote, sa, ca))])
                if lead < ca and ca - lead <= room // 2:
                    room, ca = room - (ca - lead), lead
            parts = [(ca, cb)]
            if ca > sa and room >= _HEAD_MIN:
                head_end = _word_end(quote, sa, sa + min(room - 3, _HEAD_MAX))
                if head_end > sa:
                    parts.insert(0, (sa, head_end))
    return tuple(Span(quote[a:b], citation.start + a, citation.start + b) for a, b in parts)


def _shown(quote: str, start: int, end: int, bold: tuple[int, int] | None) -> str:
    """quote[start:end] for the terminal, the part inside `bold` in **bold**."""
    if bold is None or bold[1] <= start or bold[0] >= end:
        return printable(quote[start:end], keep=_LINES)
    a, b = max(bold[0], start), min(bold[1], end)
    return "".join(
        (
            printable(quote[start:a], keep=_LINES),
            f"**{printable(quote[a:b], keep=_LINES)}**",
            printable(quote[b:end], keep=_LINES),
        )
    )


def compact_text(
    quote: str, origin: int, spans: Sequence[Span], show: Callable[[int, int], str]
) -> str:
    """Shown parts of `quote` (which starts at `origin` in its document) joined with "…" where
    words were cut, each rendered by `show(start, end)` (offsets in the quote): every surface
    joins them the same way."""
    pieces = [show(s.start - origin, s.end - origin) for s in spans]
    text = f" {ELLIPSIS} ".join(pieces)
    if spans and spans[0].start > origin:
        text = ELLIPSIS + text
    if spans and spans[-1].end < origin + len(quote):
        text += ELLIPSIS
    return text


def source_lines(citations: Sequence[Citation]) -> list[str]:
    """Each quoted document's full source, once: "Source: TechGenyz, “…”, 2018-04-20"."""
    sources = {c.path: c.source for c in citations}
    if len(sources) == 1:
        return [f"Source: {printable(next(iter(sources.values())))}"]
    return ["Sources:", *(f"  {printable(s)} ({printable(p)})" for p, s in sources.items())]


def render_text(
    question: str,
    citations: tuple[Citation, ...],
    scope: str,
    caveat: str | None = None,
    *,
    full: bool = False,
) -> str:
    """The answer as a terminal shows it; the answering clause of a long quote in **bold**.

    Compact (the default): the first quote whole, the others as the words around their answers
    (`shown_spans`), each attribution on one line, the sources once at the end. `full`: every
    quote whole, each with its full source."""
    if not citations:
        return f"The documents don't cover this. I found nothing in {scope} that answers it."
    lines = [quotes_header(caveat), ""]
    for number, citation in enumerate(citations, 1):
        quote = citation.quote
        bold = answering_clause(question, quote)
        if full or number == 1:
            shown = _shown(quote, 0, len(quote), bold)
        else:
            spans = shown_spans(question, citation)
            shown = compact_text(quote, citation.start, spans, partial(_shown, quote, bold=bold))
        # A document's control characters (an ANSI escape) are shown, never acted on.
        if citation.header:  # a table row, under its header row: a small table
            lines.append(f"{number}. {printable(citation.header.quote)}")
            lines.append(f"   {shown}")
        else:
            lines.append(f"{number}. “{shown}”")
        where = f"{printable(citation.path)}:{citation.start}-{citation.end}"
        if full:
            lines.append(f"   — {attribution(citation, citations)} ({where})")
        else:  # one short line; the source is said once, at the end
            who = _spoken_by(citation, citations)
            lines.append(f"   — {' · '.join(filter(None, (who, citation.locator)))} ({where})")
        lines.append("")
    if not full:
        lines.extend(source_lines(citations))
    return "\n".join(lines).rstrip()


def full_text(answer: Answer) -> str:
    """The answer with every quote whole, each with its full source (`policy-qa ask --full`);
    `answer.text` is the compact form."""
    if not answer.citations:
        return answer.text
    # Read as the answer was ranked (a follow-up with the question before it): the same clauses
    # in bold as in `answer.text`.
    question = answer.context or answer.question
    text = render_text(question, answer.citations, "", answer.caveat, full=True)
    return f"Taking this as: {answer.understood_as}\n\n{text}" if answer.understood_as else text
