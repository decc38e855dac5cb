"""Slack Block Kit rendering of an `Answer`: escaped, defanged, split under Slack's limits."""

from __future__ import annotations

import json
import re
from functools import partial
from typing import Any, Protocol

from adapters.render import one_line, pack, plain_text, shorten, understood_line
from assistant import Answer, Citation
from assistant.answers import answering_clause, compact_text, quotes_header, shown_spans, voice
from assistant.documents import Document

SECTION_LIMIT = 3_000  # Slack refuses a section whose text is longer
MAX_BLOCKS = 50
# Slack has refused messages near 13k characters (msg_blocks_too_long) although the documented
# limits are higher, so a whole payload (blocks and fallback, as JSON) stays under this.
MESSAGE_BUDGET = 10_000
FALLBACK_LIMIT = 1_500  # the notification text; Slack truncates past 40,000
NOT_COVERED = "The documents don't cover this."
ZWSP = "\u200b"
TITLE_CHARS = 60  # a title in a compact attribution; the Source line names it in full
# The button under a compact answer. Its value is the question, escaped like all we post (Slack
# allows 2,000 characters): the click is answered again, in full, with nothing stored.
SHOW_FULL_ACTION = "show_full_quotes"
SHOW_FULL_LABEL = "Show full quotes"
VALUE_LIMIT = 2_000
# A follow-up's button also carries the question it followed, as JSON after this mark: no
# escaped question starts with "<", so the plain form of older buttons still reads as before.
FOLLOW_UP_MARK = "<"
# The votes under an answer: each button's value is the answer's id from the Recorder, nothing
# else (what a click says is read from Slack's signed request, never trusted beyond that id).
VOTE_UP_ACTION, VOTE_DOWN_ACTION = "vote_up", "vote_down"

_QUOTE_MARK = re.compile(r"^>\s?", re.MULTILINE)
_PLAIN_MENTION = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


class DocumentLookup(Protocol):
    def document(self, path: str) -> Document | None: ...


def escape(text: str) -> str:
    """Text safe to post as mrkdwn: `&`, `<`, `>` escaped, which also defangs `<!channel>`,
    `<@U…>` and `<!subteam^…>`; a zero-width space breaks plain `@channel`, `@here`, `@everyone`."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _PLAIN_MENTION.sub(lambda m: f"@{ZWSP}{m.group(1)}", text)


def unescape(text: str) -> str:
    """Slack sends user text with `&`, `<`, `>` escaped; the core should read what was typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _mark(quote: str, start: int, end: int, bold: tuple[int, int] | None) -> str:
    """quote[start:end] escaped, the part inside `bold` wrapped in `*` (mrkdwn bold)."""
    if bold is None or bold[1] <= start or bold[0] >= end:
        return escape(quote[start:end])
    a, b = max(bold[0], start), min(bold[1], end)
    # mrkdwn bold needs `*` next to non-space characters
    while a < b and quote[a].isspace():
        a += 1
    while b > a and quote[b - 1].isspace():
        b -= 1
    if a == b:
        return escape(quote[start:end])
    return f"{escape(quote[start:a])}*{escape(quote[a:b])}*{escape(quote[b:end])}"


def _line_pieces(quote: str, start: int, end: int, bold: tuple[int, int] | None) -> list[str]:
    """One line of a quote as `> ` lines of at most SECTION_LIMIT characters, cut between words
    of the raw text so an escape or a bold span is never cut in half."""

    def render(a: int, b: int) -> str:
        return "> " + _mark(quote, a, b, bold) if b > a else ">"

    if len(render(start, end)) <= SECTION_LIMIT:
        return [render(start, end)]
    pieces: list[str] = []
    cuts = [m.end() for m in re.finditer(r"\s+", quote[start:end])]
    a = start
    while a < end:
        b = a
        for cut in (start + c for c in cuts):
            if cut <= a:
                continue
            if len(render(a, cut)) > SECTION_LIMIT:
                break  # longer spans only render longer
            b = cut
        if b == a:  # one word longer than a section: cut it by characters
            b = a + 1
            while b < end and len(render(a, b + 1)) <= SECTION_LIMIT:
                b += 1
        pieces.append(render(a, b))
        a = b
    return pieces


def quote_sections(quote: str, bold: tuple[int, int] | None = None) -> list[str]:
    """The quote as mrkdwn block-quote texts, each within SECTION_LIMIT; the words are verbatim."""
    lines: list[str] = []
    offset = 0
    for line in quote.split("\n"):
        lines.extend(_line_pieces(quote, offset, offset + len(line), bold))
        offset += len(line) + 1
    return pack(lines, SECTION_LIMIT, separator="\n")


def _link(url: str, label: str) -> str:
    safe_url = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    return f"<{safe_url}|{escape(label).replace('|', '¦')}>"


def _title(document: Document, limit: int) -> str:
    title = shorten(document.title, limit)
    if (
        document.url
        and len(document.url) <= 1_000
        and document.url.startswith(("https://", "http://"))
    ):
        return _link(document.url, title)
    return f"“{escape(title)}”"


def attribution(
    citation: Citation,
    document: Document | None,
    citations: tuple[Citation, ...] = (),
    full: bool = True,
) -> str:
    """Who · title (linked when the document has a URL) · paragraph; `full` adds publisher and
    date. Who is left out when it says nothing (narration, and no other voice in the answer)."""
    who = voice(citation, citations)
    speaker = escape(shorten(who, 200)) if who else None
    if document is None:
        parts = [speaker, escape(shorten(citation.source, 1_000)), escape(citation.locator)]
        return " · ".join(p for p in parts if p)
    shown = _title(document, 300 if full else TITLE_CHARS)
    details = [document.publisher, document.date] if full else []
    rest = [escape(shorten(p, 200)) for p in [*details, citation.locator] if p]
    return " · ".join(p for p in [speaker, shown, *rest] if p)


def _sources(citations: tuple[Citation, ...], lookup: DocumentLookup) -> str | None:
    """A compact answer's Source line: each quoted document's title, publisher, author and
    date, once."""
    named = []
    for path in dict.fromkeys(c.path for c in citations):
        document = lookup.document(path)
        if document is None:
            named.append(escape(shorten(next(c.source for c in citations if c.path == path), 300)))
            continue
        details = [p for p in (document.publisher, document.author, document.date) if p]
        if details:
            title = f"“{escape(shorten(document.title, 300))}”"
            named.append(", ".join([title, *(escape(shorten(p, 200)) for p in details)]))
    if not named:
        return None
    return f"{'Source' if len(named) == 1 else 'Sources'}: {' · '.join(named)}"


def _section(text: str, verbatim: bool = True) -> dict[str, Any]:
    # verbatim: Slack must not turn channel names or URLs in quoted text into live links
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": verbatim}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text, "verbatim": True}]}


def _button(action_id: str, text: str, value: str, label: str | None = None) -> dict[str, Any]:
    button = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text},
        "value": value,
    }
    if label:
        button["accessibility_label"] = label  # what a screen reader says for an emoji
    return button


def show_full_button(value: str) -> dict[str, Any]:
    """The actions block under a compact answer; a click answers its question (`value`, escaped)
    again, in full."""
    return {"type": "actions", "elements": [_button(SHOW_FULL_ACTION, SHOW_FULL_LABEL, value)]}


def vote_buttons(answer_id: str) -> list[dict[str, Any]]:
    """👍 and 👎 for the answer recorded as `answer_id`."""
    return [
        _button(VOTE_UP_ACTION, "👍", answer_id, "This answered my question"),
        _button(VOTE_DOWN_ACTION, "👎", answer_id, "This did not answer my question"),
    ]


def show_full_value(question: str, previous: str | None = None) -> str:
    """The Show full quotes button's value: the question, escaped; after a follow-up, the
    question and the one it followed (what the core was given as `previous`), as JSON."""
    if not previous:
        return escape(question)
    return FOLLOW_UP_MARK + json.dumps([escape(question), escape(previous)], ensure_ascii=False)


def read_show_full_value(value: str) -> tuple[str, str | None]:
    """(question, previous) from a Show full quotes button's value, unescaped."""
    if value.startswith(FOLLOW_UP_MARK):
        try:
            question, previous = json.loads(value[len(FOLLOW_UP_MARK) :])
            return unescape(str(question)), unescape(str(previous))
        except (ValueError, TypeError):
            pass  # not one we made: read as a plain question, as any other
    return unescape(value), None


def _quote_texts(question: str, citation: Citation, compact: bool) -> tuple[list[str], bool]:
    """The quote as section texts, and whether words of it were left out. A table row is its
    `Column: value` pairs; compact, a quote is the words around its answer, in one section."""
    quote = citation.quote
    if pairs := citation.header_pairs():
        lines = [f"> *{escape(shorten(n, 100))}:* {escape(shorten(v, 2_000))}" for n, v in pairs]
        return pack(lines, SECTION_LIMIT, separator="\n"), False
    bold = answering_clause(question, quote)
    if compact:
        spans = shown_spans(question, citation)
        if (spans[0].start, spans[-1].end) != (citation.start, citation.end) or len(spans) > 1:
            shown = compact_text(quote, citation.start, spans, partial(_mark, quote, bold=bold))
            return ["> " + shown], True
    texts = quote_sections(quote, bold)
    if citation.header is not None:  # a row whose cells do not match its header's
        texts.insert(0, "> " + escape(citation.header.quote))
    return texts, False


def _units(
    answer: Answer,
    lookup: DocumentLookup,
    full: bool,
    answer_id: str | None = None,
    knowledge_set: str | None = None,
    previous: str | None = None,
) -> list[list[dict[str, Any]]]:
    """Groups of blocks that belong together: the question (with how a follow-up was taken, and
    which knowledge set answered), then each quote with its source; compact, the sources once
    and the buttons: show the quotes in full, and the votes when the answer has an id."""
    units = [
        [_context(f"Question: {escape(shorten(one_line(answer.question), 300)) or '(empty)'}")]
    ]
    if taken_as := understood_line(answer):
        units[0].append(_context(escape(taken_as)))
    if knowledge_set:
        units[0].append(_context(f"Knowledge set: {escape(knowledge_set)}"))
    votes = vote_buttons(answer_id) if answer_id else []
    if not answer.answered or not answer.citations:
        units.append([_section(escape(shorten(plain_text(answer), 2_900)) or NOT_COVERED)])
        if votes:
            units[-1].append({"type": "actions", "elements": votes})
        return units
    if answer.caveat:
        units[0].append(_section(escape(quotes_header(answer.caveat))))
    shortened = False
    # as the answer was ranked (spelling mended): the terminal shows the same words in bold
    read_as = answer.context or answer.question
    for number, citation in enumerate(answer.citations):
        texts, cut = _quote_texts(read_as, citation, compact=not full and number > 0)
        shortened |= cut
        unit = [_section(text) for text in texts]
        document = lookup.document(citation.path)
        unit.append(_context(attribution(citation, document, answer.citations, full)))
        units.append(unit)
    if not full:
        last = units[-1]
        if sources := _sources(answer.citations, lookup):
            last.append(_context(sources))
        buttons: list[dict[str, Any]] = []
        value = show_full_value(answer.question, previous if answer.understood_as else None)
        if shortened and len(value) <= VALUE_LIMIT:
            buttons = show_full_button(value)["elements"]
        if buttons + votes:
            last.append({"type": "actions", "elements": buttons + votes})
    return units


def _fallback(blocks: list[dict[str, Any]]) -> str:
    """The notification text: the message's question and quotes, without the `>` marks."""
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    if blocks[0]["type"] == "context" and blocks[0]["elements"][0]["text"].startswith("Question:"):
        texts.insert(0, blocks[0]["elements"][0]["text"])
    return shorten(one_line(" ".join(_QUOTE_MARK.sub("", t) for t in texts)), FALLBACK_LIMIT)


def _size(blocks: list[dict[str, Any]]) -> int:
    return len(json.dumps(blocks, ensure_ascii=False))


def _fits(blocks: list[dict[str, Any]]) -> bool:
    return len(blocks) <= MAX_BLOCKS and _size(blocks) <= MESSAGE_BUDGET - FALLBACK_LIMIT - 100


def render_payloads(
    answer: Answer,
    assistant: DocumentLookup,
    full: bool = False,
    *,
    answer_id: str | None = None,
    knowledge_set: str | None = None,
    previous: str | None = None,
) -> list[dict[str, Any]]:
    """The messages the Slack app posts for `answer`, in order: Block Kit `blocks` plus a fallback
    `text`. A quote and its source stay in one message; only a quote longer than a whole message
    continues in the next one, cut between words.

    Compact (what the app posts): the first quote whole, the others as the words around their
    answers, one section each, and a "Show full quotes" button when words were left out. `full`
    (what the button posts): every quote whole with its full source. Under the question, a
    context line says how a follow-up was taken ("Taking this as: …") and, given
    `knowledge_set`, which set answered. `answer_id` (the Recorder's) adds 👍 and 👎 under the
    last message; `previous` (what the core was given with a follow-up) goes into the Show full
    quotes button, so that the click answers the follow-up as it was taken."""
    messages: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    for unit in _units(answer, assistant, full, answer_id, knowledge_set, previous):
        if current and not _fits(current + unit):
            messages.append(current)
            current = []
        if _fits(current + unit):
            current += unit
            continue
        for block in unit:  # a quote longer than a whole message
            if current and not _fits([*current, block]):
                messages.append(current)
                current = []
            current.append(block)
    if current:
        messages.append(current)
    return [
        {"text": _fallback(blocks), "blocks": blocks, "unfurl_links": False, "unfurl_media": False}
        for blocks in messages
    ]
