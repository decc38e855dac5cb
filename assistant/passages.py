"""Splitting a document into quotable passages with exact offsets, quotations and their speakers."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from assistant.boilerplate import boilerplate_blocks
from assistant.document import HEADING, ITEM, PAGE, PARAGRAPH, QUOTABLE, Block, Document
from assistant.formats.markup import ITEM_MARK, markup_blocks
from assistant.text import printable


@dataclass(frozen=True, slots=True)  # slots: a large index holds hundreds of thousands
class Passage:
    """A sentence of a document: `document.text[start:end]` is its exact text."""

    start: int
    end: int
    paragraph: int  # 1-based number of its paragraph among the document's paragraphs
    sentence: int  # 0-based position in its paragraph
    section: str | None  # the heading (or title-like line) above it
    speaker: str | None  # who is speaking: the quoted person, else the document's own voice
    quoted: bool  # most of it is a quotation
    page: int | None = None  # the page it is on, for paged formats (PDF)
    header: tuple[int, int] | None = None  # a table row's header row, (start, end) in the text


_LEAD = re.compile(r"(?:[\s>\ufeff]|(?:[-*+•]|\d{1,3}[.)])[ \t]+|#{1,6}[ \t]+)+")
# The label a list item starts with, as Word, a PDF or a web page renders it ("•", "–", "iv.",
# "(a)", "2.a)", "1.1."): the item's sentences start after it, so it is never a passage of its own.
_PART = r"(?:\d{1,3}|[A-Za-z]|[ivxlcdmIVXLCDM]{1,6})"
_LABEL = re.compile(rf"[ \t]*(?:[-*+•◦▪▫●○■□‣⁃–—✓➢❖]|\(?{_PART}(?:[.)]{_PART})*[.)])[ \t]+")

# A sentence ends at . ! ? (and closing quotes or brackets), before a space and a capital, digit,
# opening quote or bracket. Abbreviations and initials do not end sentences.
_BOUNDARY = re.compile(r"[.!?]+[\"”’')\]]*(?=\s+[\"“‘'(\[]?[A-Z0-9])")
_ABBREVIATION = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Inc|Ltd|Co|Corp|Mt|No|Nos|vs|etc|approx|Dept|Gov|Gen|Col|"
    r"Sen|Rep|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|e\.g|i\.e|U\.S|U\.K|a\.m|p\.m|"
    r"Fig|Sec|Art|Ch|Vol|pp|cf|al)|\b[A-Z])\.$"
)

_NUMBER_MARKER = re.compile(r"\s*\d{1,3}[.)]")
_OPENING = {"“": "”", '"': '"', "«": "»", "„": "”"}
_SAY = (
    r"(?:says|said|say|writes|wrote|reads|read|states|stated|stating|notes|noted|adds|added|"
    r"explains|explained|tweets|tweeted|argues|argued|claims|claimed|continues|continued|"
    r"concludes|concluded|asserts|asserted|tells|told|insists|insisted|declares|declared|"
    r"remarks|remarked|warns|warned|writing|saying|according\s+to)"
)
_NAME = r"(?:[A-Z]\.\s*)*[A-Z][\w’'&-]*(?:\s+(?:[A-Z]\.|[A-Z][\w’'&-]*|de|van|von|der|bin|al))*"
_REFERENCE = r"(?:the|his|her|their|its|this|that)\s+(?:letter|statement|post|email|note|memo|message|tweet|blog\s+post|open\s+letter)"
_PRONOUN = r"(?:he|she|they|He|She|They)"
_AFTER = [
    re.compile(rf"^[\s,–—-]*{_SAY}\s+(?P<who>{_REFERENCE}|{_NAME}|{_PRONOUN})\b"),
    re.compile(rf"^[\s,–—-]*(?P<who>{_REFERENCE}|{_NAME}|{_PRONOUN})\s+(?:\w+ly\s+)?{_SAY}\b"),
]
_SAY_VERB = re.compile(rf"\b{_SAY}\b")
_NAME_RE = re.compile(_NAME)
_NOT_NAMES = frozenset(
    """The A An This That These Those It Its In On At For From By With And But Or If When While As
    Following Having After Before Since Firstly Secondly Finally However Also To Of What Why How
    Who Where Which January February March April May June July August September October November
    December Monday Tuesday Wednesday Thursday Friday Saturday Sunday I We You Our Their His Her
    He She They Dear According Under Per Please Note""".split()
)


def _heading_text(text: str, block: Block) -> str:
    """A heading's words, without its Markdown marks or numbering, spaces kept ("2. Sick leave"
    is "Sick leave")."""
    lead = _LEAD.match(text, block.start, block.end)
    body = text[lead.end() if lead else block.start : block.end]
    return printable(" ".join(body.strip().rstrip("#").split()))


def _sentence_spans(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    begin = start
    for match in _BOUNDARY.finditer(text, start, end):
        if _ABBREVIATION.search(text, max(start, match.start() - 8), match.start() + 1):
            continue
        if _NUMBER_MARKER.fullmatch(text, begin, match.end()):
            continue  # "1." opens a list item; it is not a sentence of its own
        yield begin, match.end()
        begin = match.end()
    yield begin, end


_QUOTE_MARK = re.compile("[" + "".join(_OPENING) + "]")


def _quote_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(open, close) offsets of the quotation marks in a block; an unclosed quote runs to its end."""
    spans: list[tuple[int, int]] = []
    i = start
    while (mark := _QUOTE_MARK.search(text, i, end)) is not None:
        i = mark.start()
        closer = _OPENING[text[i]]
        if closer == '"' and i > start and text[i - 1] not in " \t\n([—–-:":
            i += 1  # a straight quote after a letter closes nothing we opened: skip it
            continue
        close = text.find(closer, i + 1, end)
        close = end if close < 0 else close
        spans.append((i, close))
        i = close + 1
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop list markers, spaces and quotation marks whose partner lies outside the passage."""
    lead = _LEAD.match(text, start, end)
    start = lead.end() if lead else start
    while end > start and text[end - 1].isspace():
        end -= 1
    if (
        start < end
        and text[start] in _OPENING
        and _OPENING[text[start]] not in text[start + 1 : end]
    ):
        start += 1
    closers = set(_OPENING.values())
    if start < end and text[end - 1] in closers:
        openers = [o for o, c in _OPENING.items() if c == text[end - 1]]
        if not any(o in text[start : end - 1] for o in openers):
            end -= 1
    inner = text[start + 1 : end - 1]
    if (
        end - start > 2
        and text[start] in _OPENING
        and text[end - 1] == _OPENING[text[start]]
        and not any(c in inner for c in '“”"«»„')
    ):
        start, end = start + 1, end - 1  # a quotation that is the whole passage: drop its marks
    return start, end


def _opens_sentence(text: str, at: int) -> bool:
    return not text[:at].strip() or bool(re.search(r"[.!?:“\"]\s*$", text[:at]))


class _Speakers:
    """Resolves who says a quotation, from the words around it and the document's metadata."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        known = [n for n in (doc.quote_speaker, doc.speaker, doc.author) if n]
        found = Counter(
            m.group().strip()
            for m in _NAME_RE.finditer(doc.text, doc.body_start)
            if " " in m.group().strip() and m.group().split()[0] not in _NOT_NAMES
        )
        self.full_names = known + [name for name, _ in found.most_common()]
        # Capitalised mid-sentence somewhere: a proper noun even when it opens a sentence.
        self.proper = set(re.findall(r"(?<=[a-z,;] )[A-Z][\w’'&-]*", doc.text[doc.body_start :]))

    def expand(self, name: str) -> str:
        """ "Kaspersky" -> "Eugene Kaspersky" when the document names someone so."""
        for full in self.full_names:
            if full != name and full.split()[-1] == name:
                return full
        return name

    def _last_name(self, text: str) -> str | None:
        names = [
            m.group().strip()
            for m in _NAME_RE.finditer(text)
            if (m.group().split()[0] not in _NOT_NAMES or len(m.group().split()) > 1)
            and (
                len(m.group().split()) > 1
                or m.group() in self.proper
                or not _opens_sentence(text, m.start())
            )
        ]
        names = [" ".join(w for w in n.split() if w not in _NOT_NAMES) for n in names]
        names = [n for n in names if n]
        return self.expand(names[-1]) if names else None

    def _resolve(self, who: str, context: str) -> str | None:
        if re.fullmatch(_REFERENCE, who, re.IGNORECASE):
            return self.doc.quote_speaker or who  # "the memo reads": the memo speaks, not a guess
        if re.fullmatch(_PRONOUN, who):
            return self._last_name(context) or self.doc.quote_speaker
        return self.expand(who)

    def speaker(
        self, text: str, sentence_start: int, quote: tuple[int, int], block_start: int
    ) -> str | None:
        """The speaker of the quotation `quote` (offsets of its marks) in the sentence at `sentence_start`."""
        open_at, close_at = quote
        before = text[sentence_start:open_at]
        context = text[max(0, open_at - 600) : open_at]  # earlier sentences name "he" or "she"
        inner_end = text[open_at + 1 : close_at].rstrip()
        if not inner_end.endswith((".", "!", "?")):  # the sentence goes on after the quotation
            after = re.split(r"(?<=[.!?])\s", text[close_at + 1 : close_at + 200], maxsplit=1)[0]
            for pattern in _AFTER:
                match = pattern.match(after)
                if match:
                    return self._resolve(match.group("who"), context)
        verbs = list(_SAY_VERB.finditer(before))
        if verbs:
            head = before[: verbs[-1].start()]
            subject = re.search(rf"(?P<who>{_REFERENCE}|{_PRONOUN})\s+(?:\w+\s+)?$", head)
            if subject:
                return self._resolve(subject.group("who"), context)
            return self._last_name(head) or self.doc.quote_speaker
        return self.doc.quote_speaker


def _containing(spans: list[tuple[int, int]], offset: int) -> int:
    return next((start for start, end in spans if start <= offset < end), spans[0][0])


def _split_at_quoted_sentences(
    text: str, sentences: list[tuple[int, int]], quotes: list[tuple[int, int]]
) -> Iterator[tuple[int, int]]:
    """A quotation that opens with a capital is a sentence of its own ("he wrote: “We will…”")."""
    opens = [q for q, _ in quotes if q + 1 < len(text) and text[q + 1].isupper()]
    for start, end in sentences:
        for q in opens:
            if start < q < end and len(text[start:q].split()) >= 3:
                yield start, q
                start = q
        yield start, end


def opens_list_item(text: str, start: int) -> bool:
    """Whether the sentence at `start` is the first of a list item or a table row (after its
    marker, which passages leave out)."""
    line = text.rfind("\n", 0, start) + 1
    marker = ITEM_MARK.match(text, line) or _LABEL.match(text, line)
    return marker is not None and marker.end() <= start and not text[marker.end() : start].strip()


def split_passages(doc: Document) -> list[Passage]:
    """Every quotable sentence of `doc`, in order. Site boilerplate, headings, table header rows
    and code are left out."""
    text = doc.text
    blocks = list(doc.blocks or markup_blocks(text, doc.body_start))
    # Rows and code are never a site's calls to action ("| Sales | MacBook Air |" is a row).
    prose = [i for i, b in enumerate(blocks) if b.kind in (PARAGRAPH, ITEM, HEADING)]
    skipped = {
        prose[i] for i in boilerplate_blocks([text[blocks[i].start : blocks[i].end] for i in prose])
    }
    # Where later pages start inside blocks that run across a page break (PDF).
    marks = sorted((b.start, b.page) for b in blocks if b.kind == PAGE and b.page is not None)
    mark_starts = [start for start, _ in marks]
    speakers = _Speakers(doc)
    passages: list[Passage] = []
    section: str | None = None
    paragraph = 0
    for index, block in enumerate(blocks):
        if index in skipped:
            continue
        if block.kind == HEADING:
            section = _heading_text(text, block) or section
            continue
        if block.kind not in QUOTABLE:
            continue
        paragraph += 1
        label = _LABEL.match(text, block.start, block.end) if block.kind == ITEM else None
        quotes = _quote_spans(text, block.start, block.end)
        sentences = list(_sentence_spans(text, label.end() if label else block.start, block.end))
        quote_speakers = {
            quote: speakers.speaker(text, _containing(sentences, quote[0]), quote, block.start)
            for quote in quotes
        }
        number = 0
        for s_start, s_end in _split_at_quoted_sentences(text, sentences, quotes):
            start, end = _trim(text, s_start, s_end)
            if not re.search(r"\w", text[start:end]):
                continue
            speaker, quoted = doc.speaker, False
            for quote in quotes:
                inside = max(0, min(end, quote[1]) - max(start, quote[0] + 1))
                if inside * 2 >= end - start:
                    speaker, quoted = quote_speakers[quote], True
                    break
            passages.append(
                Passage(
                    start,
                    end,
                    paragraph,
                    number,
                    section,
                    speaker,
                    quoted,
                    _page(block, start, marks, mark_starts),
                    block.header,
                )
            )
            number += 1
    return passages


def _page(block: Block, start: int, marks: list[tuple[int, int]], starts: list[int]) -> int | None:
    """The page a passage at `start` starts on: its block's, or a later one's where the block
    runs across a page break before it."""
    i = bisect_right(starts, start) - 1
    return marks[i][1] if i >= 0 and marks[i][0] > block.start else block.page
