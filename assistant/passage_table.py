"""An index's passages as columns of integers: what a snapshot stores, kept as it is read.

A start from a snapshot used to make one Passage object per passage (0.15 s of a 1.6 s start at
100,000 passages, and about 160 MB at a million); the table makes a Passage only when one is
asked for (a quote's first and last sentence, a neighbour), and gives the index its columns
(offsets, paragraphs, speakers) as arrays without a pass in Python.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import overload

import numpy as np
import numpy.typing as npt

from assistant.passages import Passage

Ints = npt.NDArray[np.int64]

# The columns, in the snapshot's order; -1 is "none" in the last five.
START, END, PARAGRAPH, SENTENCE, HEADER_START, HEADER_END, PAGE, SECTION, SPEAKER = range(9)
COLUMNS = 9


class PassageTable(Sequence[Passage]):
    """Passages in index order. `columns` is (n, COLUMNS) int64; SECTION and SPEAKER index
    `strings` (each distinct text once, so equal ids are equal texts); `quoted` is (n,) bool."""

    __slots__ = ("columns", "quoted", "strings")

    def __init__(self, columns: Ints, quoted: npt.NDArray[np.bool_], strings: list[str]) -> None:
        self.columns = columns
        self.quoted = quoted
        self.strings = strings

    @classmethod
    def of(cls, passages: Sequence[Passage]) -> PassageTable:
        """The table of passages made by splitting documents (or read from per-file caches)."""
        ids: dict[str, int] = {}

        def string(value: str | None) -> int:
            return -1 if value is None else ids.setdefault(value, len(ids))

        columns = np.array(
            [
                [
                    p.start,
                    p.end,
                    p.paragraph,
                    p.sentence,
                    *(p.header or (-1, -1)),
                    -1 if p.page is None else p.page,
                    string(p.section),
                    string(p.speaker),
                ]
                for p in passages
            ],
            dtype=np.int64,
        ).reshape(len(passages), COLUMNS)
        quoted = np.array([p.quoted for p in passages], dtype=bool)
        return cls(columns, quoted, list(ids))

    def __len__(self) -> int:
        return len(self.quoted)

    @overload
    def __getitem__(self, i: int) -> Passage: ...

    @overload
    def __getitem__(self, i: slice) -> list[Passage]: ...

    def __getitem__(self, i: int | slice) -> Passage | list[Passage]:
        if isinstance(i, slice):
            return [self._passage(row, q) for row, q in self._rows(i)]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        return self._passage(self.columns[i].tolist(), bool(self.quoted[i]))

    def __iter__(self) -> Iterator[Passage]:
        # A chunk of rows at a time: all of them as Python lists at once would weigh about 0.4 GB
        # at a million passages.
        for begin in range(0, len(self), 65_536):
            for row, q in self._rows(slice(begin, begin + 65_536)):
                yield self._passage(row, q)

    def _rows(self, i: slice) -> zip[tuple[list[int], bool]]:
        return zip(self.columns[i].tolist(), self.quoted[i].tolist(), strict=True)

    def _passage(self, row: list[int], quoted: bool) -> Passage:
        start, end, paragraph, sentence, h0, h1, page, section, speaker = row
        return Passage(
            start,
            end,
            paragraph,
            sentence,
            self.strings[section] if section >= 0 else None,
            self.strings[speaker] if speaker >= 0 else None,
            quoted,
            page if page >= 0 else None,
            (h0, h1) if h0 >= 0 else None,
        )

    def column(self, which: int) -> Ints:
        """One column for every passage (START, END, PARAGRAPH, ..., SPEAKER)."""
        values: Ints = np.ascontiguousarray(self.columns[:, which])
        return values

    def paragraph_ids(self, doc_of: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
        """Each passage's paragraph id across the whole index (passage i is in document
        doc_of[i]), so neighbours never cross documents: each (document, paragraph) numbered
        0, 1, ... in the order it first appears."""
        if not len(self):
            return np.zeros(0, dtype=np.int32)
        keys = doc_of.astype(np.int64) << 32 | self.column(PARAGRAPH)
        _, first, which = np.unique(keys, return_index=True, return_inverse=True)
        rank = np.empty(len(first), dtype=np.int32)
        rank[np.argsort(first, kind="stable")] = np.arange(len(first), dtype=np.int32)
        ids: npt.NDArray[np.int32] = rank[which.ravel()]
        return ids
