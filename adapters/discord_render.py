"""Discord rendering of an `Answer`: message payloads under 2,000 characters, mentions defanged,
no link previews."""

from __future__ import annotations

import re
from functools import partial
from typing import Any, Protocol

import discord

from adapters.render import one_line, pack, plain_text, shorten, understood_line
from assistant import Answer, Citation
from assistant.answers import answering_clause, compact_text, quotes_header, shown_spans, voice
from assistant.documents import Document

CONTENT_LIMIT = 2000  # Discord refuses longer message content, and discord.py does not check
QUESTION_ECHO_CHARS = 200
TITLE_CHARS = 60  # a title in a compact attribution; the Source line names it in full
# Payloads never allow a mention; the client's AllowedMentions.none() says the same.
NO_MENTIONS: dict[str, list[str]] = {"parse": []}
# MessageFlags.suppress_embeds: a URL in a quote gets no preview card under the answer.
SUPPRESS_EMBEDS = 1 << 2

_ZWSP = "\u200b"
# Idempotent: once the zero-width space is in, the lookaheads no longer match.
_MASS_MENTION = re.compile(r"@(?=(?:everyone|here)\b)")
_ID_MENTION = re.compile(r"<@(?=[!&]?\d)")
_LINKABLE = re.compile(r"https?://[^\s<>()\[\]]+")


class DocumentLookup(Protocol):
    def document(self, path: str) -> Document | None: ...


def defang(text: str) -> str:
    """`@everyone`, `@here`, `<@id>`, `<@!id>` and `<@&id>` broken with a zero-width space, so
    they never ping even if someone loosens allowed_mentions."""
    return _ID_MENTION.sub("<@" + _ZWSP, _MASS_MENTION.sub("@" + _ZWSP, text))


def _escape(text: str) -> str:
    # Backslash escapes are invisible in Discord: a quote's words are shown exactly as written.
    # Line by line: escape_markdown puts a list marker's backslash before the blank line above
    # it ("a:\n\n- b" -> "a:\n\\\n- b"), which shows a stray backslash and a bullet.
    lines = text.split("\n")
    return defang("\n".join(discord.utils.escape_markdown(line) for line in lines))


def _blockquote(text: str) -> str:
    return "\n".join(f"> {line}" for line in text.split("\n"))


def _marked(quote: str, start: int, end: int, bold: tuple[int, int] | None) -> str:
    """quote[start:end] escaped, the part inside `bold` in **bold**."""
    if bold is None or bold[1] <= start or bold[0] >= end:
        return _escape(quote[start:end])
    a, b = max(bold[0], start), min(bold[1], end)
    return f"{_escape(quote[start:a])}**{_escape(quote[a:b])}**{_escape(quote[b:end])}"


def _title(document: Document, limit: int) -> str:
    title = _escape(shorten(document.title, limit))
    if document.url and _LINKABLE.fullmatch(document.url):
        return f"[{title}](<{document.url}>)"  # <...> keeps Discord from adding a preview
    return f"*{title}*"


def _details(document: Document) -> list[str]:
    return [
        _escape(shorten(p, 100)) for p in (document.publisher, document.author, document.date) if p
    ]


def _attribution(
    citation: Citation, document: Document | None, citations: tuple[Citation, ...], full: bool
) -> str:
    """Full: who · title, publisher, author, date, paragraph. Compact, one short line: who ·
    title · paragraph (the rest on the Source line)."""
    who = voice(citation, citations)
    if full:
        if document is None:
            where = _escape(citation.source)
        else:
            where = ", ".join([_title(document, 200), *_details(document)])
        line = f"{where}, {_escape(citation.locator)}"
    else:
        title = (
            _title(document, TITLE_CHARS) if document else _escape(shorten(citation.source, 100))
        )
        line = f"{title} · {_escape(citation.locator)}"
    if who:
        line = f"{_escape(who)} · {line}"
    return shorten(f"— {line}", CONTENT_LIMIT // 2)


def _sources(citations: tuple[Citation, ...], lookup: DocumentLookup) -> str | None:
    """The Source line of a compact answer: each quoted document's title, publisher, author and
    date, once; Discord's small grey text."""
    named = []
    for path in dict.fromkeys(c.path for c in citations):
        document = lookup.document(path)
        if document is None:
            source = next(c.source for c in citations if c.path == path)
            named.append(_escape(shorten(source, 300)))
        elif details := _details(document):
            named.append(", ".join([f"*{_escape(shorten(document.title, 200))}*", *details]))
    if not named:
        return None
    label = "Source" if len(named) == 1 else "Sources"
    return shorten(f"-# {label}: {' · '.join(named)}", CONTENT_LIMIT // 2)


def _body(question: str, citation: Citation, compact: bool) -> str:
    """The quote as Discord markdown: escaped, its answering clause bold; a table row as its
    `Column: value` pairs; compact, the words around its answer."""
    quote = citation.quote
    if pairs := citation.header_pairs():
        return "\n".join(f"**{_escape(shorten(n, 100))}:** {_escape(v)}" for n, v in pairs)
    bold = answering_clause(question, quote)
    if compact:
        spans = shown_spans(question, citation)
        return compact_text(quote, citation.start, spans, partial(_marked, quote, bold=bold))
    if citation.header is not None:  # a row whose cells do not match its header's
        return f"{_escape(citation.header.quote)}\n{_marked(quote, 0, len(quote), bold)}"
    return _marked(quote, 0, len(quote), bold)


def _citation_blocks(
    question: str, citation: Citation, attribution: str, compact: bool
) -> list[str]:
    """One block (a quote and its attribution, never split), or, for a quote longer than a whole
    message, several block-quoted pieces with the attribution after the last."""
    block = f"{_blockquote(_body(question, citation, compact).strip())}\n{attribution}"
    if len(block) <= CONTENT_LIMIT:
        return [block]
    # No choice but to cut this quote: cut it unbolded (no ** left open) at line or word
    # boundaries, keeping every piece a block quote.
    width = room = CONTENT_LIMIT - len(attribution) - 1
    while True:
        plain = _escape(citation.quote.strip())
        pieces = [_blockquote(p) for p in pack([plain], width, separator="\n")]
        if all(len(p) <= room for p in pieces):
            break
        width -= 100
    pieces[-1] += "\n" + attribution
    return pieces


def _heading(answer: Answer, knowledge_set: str | None) -> str:
    """What was asked, then in small grey lines how a follow-up was taken and which set
    answered; kept in one block so that the question and how it was read stay together."""
    lines = []
    if asked := one_line(answer.question):
        lines.append(f"**Asked:** {_escape(shorten(asked, QUESTION_ECHO_CHARS))}")
    if taken_as := understood_line(answer):
        lines.append(f"-# {_escape(taken_as)}")
    if knowledge_set:
        lines.append(f"-# Knowledge set: {_escape(knowledge_set)}")
    return "\n".join(lines)


def render_payloads(
    answer: Answer,
    assistant: DocumentLookup,
    full: bool = False,
    *,
    knowledge_set: str | None = None,
) -> list[dict[str, Any]]:
    """The messages the bot sends for `answer`, as Discord JSON: each under 2,000 characters,
    split only between quotes, mentions defanged and none allowed, no link previews.

    Compact (what the bot sends): the first quote whole, the others as the words around their
    answers, each attribution on one line and the sources once at the end. `full`: every quote
    whole with its full source. Under the question, "Taking this as: …" when the core read a
    follow-up with the question before it, and, given `knowledge_set`, the set that answered."""
    blocks = []
    if heading := _heading(answer, knowledge_set):
        blocks.append(heading)
    if answer.answered:
        # as the answer was ranked (spelling mended): the terminal shows the same words in bold
        read_as = answer.context or answer.question
        blocks.append(_escape(quotes_header(answer.caveat)))
        for number, citation in enumerate(answer.citations):
            document = assistant.document(citation.path)
            attribution = _attribution(citation, document, answer.citations, full)
            compact = not full and number > 0
            blocks.extend(_citation_blocks(read_as, citation, attribution, compact))
        if not full and (sources := _sources(answer.citations, assistant)):
            # under the last quote, so it is never a message of its own
            if len(blocks[-1]) + 1 + len(sources) <= CONTENT_LIMIT:
                blocks[-1] += "\n" + sources
            else:
                blocks.append(sources)
    else:
        blocks.append(_escape(plain_text(answer)))
    return [message_payload(message) for message in pack(blocks, CONTENT_LIMIT)]


def message_payload(content: str) -> dict[str, Any]:
    return {
        "content": defang(content),
        "allowed_mentions": dict(NO_MENTIONS),
        "flags": SUPPRESS_EMBEDS,
    }
