"""From ranked candidates to the quotes an answer shows: which ones, how far each runs, and the
citation of each (verbatim text, offsets, speaker, where it is)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from assistant.answers import Citation, Span
from assistant.document import Document
from assistant.index import Index
from assistant.passages import Passage, opens_list_item
from assistant.ranking import Ranked
from assistant.text import words

MAX_QUOTES = 3
# A second or third quote is shown only while it is at least this likely relative to the best.
# Chosen on the fit's leave-one-corpus-out rankings (benchmarks/fit_ranker.py; never a held-out
# set), distinct top-three hit rate and quotes shown per answer, our corpora / PolicyQA folds:
# 0.1 gave 0.874 / 0.464 with 1.9 quotes; 0.05, 0.874 / 0.470; 0.02, 0.880 / 0.473; 0.01,
# 0.890 / 0.474 with 2.5 quotes, as good as no floor. Below a hundredth a quote is noise.
RELATIVE_FLOOR = 0.01
# What a quote ending in a colon may take from what follows it.
MAX_ANNOUNCED = 6  # list items
MAX_ANNOUNCED_CHARS = 1200


def choose(index: Index, ranked: list[Ranked]) -> list[Ranked]:
    """The best candidate, then up to two more that neither overlap nor repeat a chosen
    quote and are not much weaker than the best."""
    chosen: list[Ranked] = []
    said: list[str] = []
    vectors = index.vectors
    for candidate in (with_what_it_announces(index, r) for r in ranked):
        if chosen and candidate.confidence < RELATIVE_FLOOR * chosen[0].confidence:
            break
        if any(candidate.first <= c.last and c.first <= candidate.last for c in chosen):
            continue  # overlaps a quote already chosen
        if any(float(vectors[candidate.first] @ vectors[c.first]) > 0.92 for c in chosen):
            continue  # says the same thing as a quote already chosen
        # The same words in another copy of a document (a draft and a final, a .txt and a
        # .md), perhaps a list marker apart.
        these = " ".join(words(quote_text(index, candidate)))
        if any(these in other or other in these for other in said):
            continue
        chosen.append(candidate)
        said.append(these)
        if len(chosen) == MAX_QUOTES:
            break
    return chosen


def with_what_it_announces(index: Index, ranked: Ranked) -> Ranked:
    """A quote ending in a colon ("…two reasons for writing the letter:") continued by what
    it announces, in the same voice and section: the next sentence, or the list items that
    follow (up to MAX_ANNOUNCED of them and MAX_ANNOUNCED_CHARS in all)."""
    if not quote_text(index, ranked).rstrip().endswith(":"):
        return ranked
    doc, first, _ = span(index, ranked)
    end, items = ranked.last, 0
    while end + 1 < len(index) and index.doc_of[end + 1] == index.doc_of[ranked.first]:
        following = index.passages[end + 1]
        same_place = (following.speaker, following.section) == (first.speaker, first.section)
        if not same_place or following.end - first.start > MAX_ANNOUNCED_CHARS:
            break
        if opens_list_item(doc.text, following.start):
            items += 1
            if items > MAX_ANNOUNCED:
                break
        elif items == 0 and end > ranked.last:
            break  # one sentence, when no list follows
        elif items and following.paragraph != index.passages[end].paragraph:
            break  # the list has ended
        end += 1
    return replace(ranked, last=end)


def span(index: Index, ranked: Ranked) -> tuple[Document, Passage, Passage]:
    """The candidate's document and its first and last sentences."""
    doc = index.documents[int(index.doc_of[ranked.first])]
    return doc, index.passages[ranked.first], index.passages[ranked.last]


def quote_text(index: Index, ranked: Ranked) -> str:
    doc, first, last = span(index, ranked)
    return doc.text[first.start : last.end]


def display_path(path: Path) -> str:
    """Relative to the current directory when the file is below it, else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _locator(index: Index, doc: Document, row: int) -> str:
    """Where a reader finds the quote: "page 4" in a paged document, else its paragraph; after
    its section when that is not the title, counting paragraphs from the section's start as a
    reader does ("“Sick leave”, paragraph 2"), else from the document's ("paragraph 7")."""
    first = index.passages[row]
    section = first.section if first.section != doc.title else None
    if first.page:
        where = f"page {first.page}"
    else:
        opening = row  # the section's first passage in this document
        while (
            opening > 0
            and index.doc_of[opening - 1] == index.doc_of[row]
            and index.passages[opening - 1].section == first.section
        ):
            opening -= 1
        counted_from = index.passages[opening].paragraph - 1 if section else 0
        where = f"paragraph {first.paragraph - counted_from}"
    return f"“{section}”, {where}" if section else where


def cite(index: Index, ranked: Ranked) -> Citation:
    doc, first, last = span(index, ranked)
    header = (
        Span(doc.text[first.header[0] : first.header[1]], *first.header) if first.header else None
    )
    return Citation(
        quote=doc.text[first.start : last.end],
        path=display_path(doc.path),
        start=first.start,
        end=last.end,
        source=doc.source,
        locator=_locator(index, doc, ranked.first),
        speaker=first.speaker,
        quoted=first.quoted,
        score=round(float(np.clip(ranked.confidence, 0.0, 1.0)), 4),
        page=first.page,
        header=header,
    )
