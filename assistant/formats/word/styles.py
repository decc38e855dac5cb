"""Paragraph styles from a styles.xml: their names, outline (heading) levels and list numbering."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass
class Style:
    """A paragraph style: its name, the style it is based on, and what it sets itself."""

    name: str
    based_on: str | None
    outline: int | None
    num_id: str | None
    ilvl: int | None


class Styles:
    """A document's paragraph styles by id, and the one a paragraph without a style has."""

    def __init__(self, root: Any | None, w: str) -> None:
        self.styles: dict[str, Style] = {}
        self.default: str | None = None
        if root is None:
            return

        def q(tag: str) -> str:
            return f"{{{w}}}{tag}"

        for style in root.iter(q("style")):
            if style.get(q("type")) not in (None, "paragraph"):
                continue
            sid = str(style.get(q("styleId")))
            name = style.find(q("name"))
            based = style.find(q("basedOn"))
            outline = style.find(f"{q('pPr')}/{q('outlineLvl')}")
            num = style.find(f"{q('pPr')}/{q('numPr')}/{q('numId')}")
            ilvl = style.find(f"{q('pPr')}/{q('numPr')}/{q('ilvl')}")
            self.styles[sid] = Style(
                str(name.get(q("val"))) if name is not None else sid,
                based.get(q("val")) if based is not None else None,
                int_or_none(outline.get(q("val"))) if outline is not None else None,
                num.get(q("val")) if num is not None else None,
                int_or_none(ilvl.get(q("val"))) if ilvl is not None else None,
            )
            if style.get(q("default")) in ("1", "true"):
                self.default = sid

    def chain(self, sid: str | None) -> Iterator[Style]:
        """The style and those it is based on, nearest first (a loop of basedOn ends)."""
        seen: set[str] = set()
        sid = sid or self.default
        while sid and sid in self.styles and sid not in seen:
            seen.add(sid)
            yield self.styles[sid]
            sid = self.styles[sid].based_on

    def name(self, sid: str | None) -> str:
        style = next(self.chain(sid), None)
        return style.name if style else (sid or "Normal")


def int_or_none(value: str | None) -> int | None:
    """An attribute's whole number; None when it is missing or not one."""
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
