"""The passages as columns (assistant/passage_table.py) and the check a snapshot's table passes
before it is used (cache.check_passage_table, which cache.check_passages runs for one file)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from assistant.cache import DamagedFile, check_passage_table, check_passages
from assistant.document import Document
from assistant.passage_table import END, HEADER_END, HEADER_START, START, PassageTable
from assistant.passages import Passage, split_passages

TEXT = """---
title: Leave
---
# Annual leave

Staff get 25 days a year. Part-timers get a share.

| Grade | Days |
| --- | --- |
| A | 25 |
| B | 28 |

> "We rest," said the chair.
"""


def _documents() -> list[Document]:
    body = TEXT.index("# Annual")
    first = Document(Path("leave.md"), TEXT, body, "Leave", speaker="HR", quote_speaker="Chair")
    second = Document(Path("other.txt"), "One rule. Another rule.", 0, "Other")
    return [first, second]


def _table() -> tuple[PassageTable, np.ndarray, list[Document]]:
    documents = _documents()
    split = [split_passages(d) for d in documents]
    doc_of = np.array([d for d, s in enumerate(split) for _ in s], dtype=np.int32)
    return PassageTable.of([p for s in split for p in s]), doc_of, documents


def test_the_table_gives_back_the_passages_it_was_made_of() -> None:
    documents = _documents()
    passages = [p for d in documents for p in split_passages(d)]
    assert any(p.header for p in passages) and any(p.speaker for p in passages)
    table = PassageTable.of(passages)
    assert len(table) == len(passages)
    assert list(table) == passages
    assert [table[i] for i in range(-len(passages), len(passages))] == passages * 2
    assert table[1:4] == passages[1:4]
    assert len(table.strings) == len(set(table.strings))  # each text once: ids compare as texts
    with pytest.raises(IndexError):
        table[len(passages)]
    # A page 0 and a header survive the table (None is -1 there, not 0).
    odd = Passage(3, 9, 1, 0, None, None, False, 0, (0, 2))
    assert PassageTable.of([odd])[0] == odd
    assert len(PassageTable.of([])) == 0 and list(PassageTable.of([])) == []


def _moved(column: int, row: Callable[[PassageTable], int], by: int) -> Callable[..., None]:
    def change(table: PassageTable) -> None:
        table.columns[row(table), column] += by

    return change


def _first_header_row(table: PassageTable) -> int:
    return int(np.flatnonzero(table.columns[:, HEADER_START] >= 0)[0])


def _header_in_the_front_matter(table: PassageTable) -> None:
    table.columns[_first_header_row(table), HEADER_START] = 0  # (-1 would be "no header")


@pytest.mark.parametrize(
    "damage",
    [
        _moved(END, lambda t: len(t) - 1, 100_000),  # past the end of its document's text
        _moved(START, lambda t: 0, -10_000),  # before its document (in the front matter)
        _moved(START, lambda t: 2, -10_000),  # before the passage in front of it
        _moved(END, lambda t: 1, -10_000),  # ends before it starts
        _moved(HEADER_END, _first_header_row, 10_000),  # a header after its row
        _header_in_the_front_matter,
    ],
)
def test_a_table_whose_offsets_do_not_fit_its_documents_is_damaged(
    damage: Callable[[PassageTable], None],
) -> None:
    table, doc_of, documents = _table()
    check_passage_table(table, doc_of, documents)  # as made: fine
    for d, doc in enumerate(documents):  # and the per-document check agrees
        check_passages(doc, [p for p, of in zip(table, doc_of, strict=True) if of == d])
    damage(table)
    with pytest.raises(DamagedFile):
        check_passage_table(table, doc_of, documents)
    # The per-document check of cache files says the same of the same passages.
    with pytest.raises(DamagedFile):
        for d, doc in enumerate(documents):
            check_passages(doc, [p for p, of in zip(table, doc_of, strict=True) if of == d])
