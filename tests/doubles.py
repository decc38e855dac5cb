"""Stand-ins around the real core for adapter tests: slower, or failing, but never faked answers."""

from __future__ import annotations

import time
from typing import Any

from assistant import Answer, Assistant


class SlowAssistant:
    """The real core, `delay` seconds slower: what a busy CPU looks like to an adapter."""

    def __init__(self, inner: Assistant, delay: float = 5.0) -> None:
        self.inner, self.delay = inner, delay

    def answer(self, question: str) -> Answer:
        time.sleep(self.delay)
        return self.inner.answer(question)

    def document(self, path: str) -> Any:
        return self.inner.document(path)


class BrokenAssistant(SlowAssistant):
    """A core that fails on every question, as a corrupt index would."""

    def answer(self, question: str) -> Answer:
        raise RuntimeError("index file is corrupt")
