"""List labels as Word shows them ("2.a)", "•"), counted from a document's numbering.xml."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from assistant.formats.extracted import inline

# Word's Symbol and Wingdings bullets are private-use code points (U+F0B7 is Symbol's bullet);
# LibreOffice writes its nested "–" bullets as U+F02D. Shown as they look, not as unprintables.
SYMBOLS = {
    "\uf0b7": "•", "\uf0a7": "▪", "\uf0d8": "➢", "\uf076": "❖", "\uf0fc": "✓", "\uf02d": "–",
    "\uf06f": "o", "\uf0a8": "•", "\uf0e8": "➔",
}  # fmt: skip
_ROMAN = (
    (1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"),
    (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"),
)  # fmt: skip


@dataclass(frozen=True)
class _Level:
    start: int
    format: str  # numFmt: decimal, lowerLetter, upperRoman, bullet, none...
    text: str  # lvlText: "%1.%2)", or the bullet character


def _number(n: int, fmt: str) -> str:
    if fmt in ("lowerLetter", "upperLetter"):
        letters = ""
        while n > 0:
            n, rest = divmod(n - 1, 26)
            letters = chr(ord("a") + rest) + letters
        return letters.upper() if fmt == "upperLetter" else letters
    if fmt in ("lowerRoman", "upperRoman"):
        roman = ""
        for value, digits in _ROMAN:
            while n >= value:
                roman, n = roman + digits, n - value
        return roman.upper() if fmt == "upperRoman" else roman
    if fmt == "decimalZero":
        return f"{n:02d}"
    return str(n)


def _bullet(text: str) -> str:
    if text in SYMBOLS:
        return SYMBOLS[text]
    if not text or all(0xF000 <= ord(c) <= 0xF0FF for c in text):
        return "•"  # an unknown symbol-font glyph: a bullet is what it shows
    return text


class Numbering:
    """List labels as Word renders them, from numbering.xml: a counter per list and level, deeper
    levels restarting under a new item, and a list restarted where a w:num overrides its start.
    (Labels are ours, deterministic; Word and LibreOffice themselves disagree in corner cases.)"""

    def __init__(self, root: Any | None, w: str) -> None:
        self.w = w
        self.abstract: dict[str, dict[int, _Level]] = {}
        self.lists: dict[str, tuple[str, dict[int, int]]] = {}
        self.counters: dict[str, dict[int, int]] = {}
        self.started: set[str] = set()
        if root is None:
            return
        for abstract in root.iter(self._q("abstractNum")):
            levels = {}
            for level in abstract.iter(self._q("lvl")):
                levels[self._int(level.get(self._q("ilvl")), 0)] = _Level(
                    self._int(self._val(level, "start"), 1),
                    self._val(level, "numFmt") or "decimal",
                    self._val(level, "lvlText") or "",
                )
            self.abstract[str(abstract.get(self._q("abstractNumId")))] = levels
        for num in root.iter(self._q("num")):
            overrides = {
                self._int(o.get(self._q("ilvl")), 0): self._int(self._val(o, "startOverride"), 1)
                for o in num.iter(self._q("lvlOverride"))
                if o.find(self._q("startOverride")) is not None
            }
            self.lists[str(num.get(self._q("numId")))] = (
                str(self._val(num, "abstractNumId")),
                overrides,
            )

    def _q(self, tag: str) -> str:
        return f"{{{self.w}}}{tag}"

    def _val(self, element: Any, tag: str) -> str | None:
        child = element.find(self._q(tag))
        return None if child is None else child.get(self._q("val"))

    @staticmethod
    def _int(value: str | None, default: int) -> int:
        try:
            return int(value) if value is not None else default
        except ValueError:
            return default

    def label(self, num_id: str, ilvl: int) -> str | None:
        """The next label of list `num_id` at level `ilvl` ("3.", "2.a)", "•"), or None."""
        if num_id not in self.lists:
            return None
        abstract_id, overrides = self.lists[num_id]
        levels = self.abstract.get(abstract_id, {})
        counters = self.counters.setdefault(abstract_id, {})
        if num_id not in self.started:  # a w:num that overrides its start restarts the list
            self.started.add(num_id)
            for level, start in overrides.items():
                counters[level] = start - 1
        spec = levels.get(ilvl, _Level(1, "decimal", f"%{ilvl + 1}."))
        counters[ilvl] = counters.get(ilvl, spec.start - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        if spec.format == "bullet":
            return _bullet(spec.text)
        if spec.format == "none":
            return inline(re.sub(r"%\d", "", spec.text)) or None

        def value(match: re.Match[str]) -> str:
            level = int(match.group(1)) - 1
            given = levels.get(level, _Level(1, "decimal", ""))
            return _number(counters.get(level, given.start), given.format)

        return re.sub(r"%([1-9])", value, spec.text) or None
