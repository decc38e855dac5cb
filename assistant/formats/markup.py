"""The structure of plain text and Markdown: headings, paragraphs, list items, table rows with
their header row, and code, which is never quoted."""

from __future__ import annotations

import re
from collections.abc import Iterator

from assistant.document import CODE, HEADER, HEADING, ITEM, PARAGRAPH, ROW, Block

_FENCE = re.compile(r"[ \t>]*(`{3,}|~{3,})")
_HEADING = re.compile(r"[ \t]{0,3}(#{1,6})[ \t]+")
_SETEXT_RULE = re.compile(r"^[ \t]*(=+|-+)[ \t]*$")
# A list item, or a Markdown table's row: each is a passage of its own, never a heading.
ITEM_MARK = re.compile(r"[ \t]*(?:(?:[-*+•]|\d{1,3}[.)])[ \t]+|\|)")
_TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t:|-]+\|[ \t:|-]*$")
_TERMINAL = re.compile(r"[.!?:;][\"”’')\]]*$")
_INDENTED = re.compile(r"(?: {4}|\t)")


def _lines(text: str, start: int) -> Iterator[tuple[int, int, str]]:
    """(start, end without the newline, the line) of each line from `start`."""
    pos = start
    while pos < len(text):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        yield pos, end, text[pos:end]
        pos = end + 1


def markup_blocks(text: str, body_start: int) -> list[Block]:
    """The blocks of a plain text or Markdown body, in order. Lines run together into one block
    until a blank line, a list item, a table row, a heading or a fence; a table's rule line
    (`|---|---|`) makes the row above it the header of the rows below it."""
    blocks: list[Block] = []
    run: list[tuple[int, int]] = []  # the lines of the block being gathered
    fence: str | None = None  # the opening fence while inside fenced code
    code_start = -1
    header: tuple[int, int] | None = None  # the header row of the table being read
    after_blank = True

    def close() -> None:
        nonlocal run, header
        if run:
            block = _classify(text, run[0][0], run[-1][1], after_blank_line, blocks, header)
            blocks.append(block)
            if block.kind != ROW:
                header = None
            run = []

    after_blank_line = True
    for start, end, line in _lines(text, body_start):
        if fence is not None:
            closing = _FENCE.match(line)
            if closing and closing.group(1)[0] == fence[0] and len(closing.group(1)) >= len(fence):
                blocks.append(Block(code_start, end, CODE))
                fence = None
            continue
        opening = _FENCE.match(line)
        if opening:
            close()
            fence, code_start = opening.group(1), start
            continue
        if not line.strip():
            close()
            header = None  # a blank line ends a table
            after_blank = True
            continue
        if _TABLE_RULE.match(line):
            if (
                run
                and ITEM_MARK.match(text, run[0][0])
                and text[run[0][0] :].lstrip().startswith("|")
            ):
                row = run
                run = []
                header = (row[0][0], row[-1][1])
                blocks.append(Block(header[0], header[1], HEADER))
            else:
                close()
            continue
        if _SETEXT_RULE.match(line):
            close()
            continue
        heading = _HEADING.match(line)
        if heading or ITEM_MARK.match(line):
            close()
        if heading:
            blocks.append(Block(start, end, HEADING, level=len(heading.group(1))))
            after_blank = False
            continue
        if not run:
            after_blank_line = after_blank
        run.append((start, end))
        after_blank = False
    if fence is not None:  # an unclosed fence: code to the end, as Markdown reads it
        blocks.append(Block(code_start, len(text), CODE))
    close()
    return blocks


def _classify(
    text: str,
    start: int,
    end: int,
    after_blank_line: bool,
    before: list[Block],
    header: tuple[int, int] | None,
) -> Block:
    body = text[start:end]
    if ITEM_MARK.match(body):
        if body.lstrip().startswith("|"):
            return Block(start, end, ROW, header=header)
        return Block(start, end, ITEM)
    lines = body.split("\n")
    previous = before[-1].kind if before else None
    if after_blank_line and previous != ITEM and all(_INDENTED.match(line) for line in lines):
        return Block(start, end, CODE)  # indented code (an indented paragraph after an item
        # continues the item instead)
    if "\n" not in body and len(body.split()) <= 8 and not _TERMINAL.search(body.rstrip()):
        return Block(start, end, HEADING)  # a title-like line names a section, as a heading does
    return Block(start, end, PARAGRAPH)


def first_line_title(text: str, body_start: int) -> str | None:
    """A plain text's first line, when it reads as a title ("TRAVEL AND EXPENSES POLICY"): short,
    without a sentence's closing punctuation, and followed by a blank line or the end."""
    lines = text[body_start:].lstrip("\ufeff\n").split("\n", 2)
    first = lines[0].strip()
    followed_by_blank = len(lines) == 1 or not lines[1].strip()
    if first and followed_by_blank and len(first.split()) <= 12 and not _TERMINAL.search(first):
        return first
    return None
