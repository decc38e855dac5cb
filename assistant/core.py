"""The assistant: a knowledge folder, indexed, answering questions with verbatim cited quotes."""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
from threadpoolctl import ThreadpoolController

from assistant.answers import (
    UNSURE,
    Answer,
    Citation,
    normalize_question,
    render_text,
    unmentioned,
    unused,
)
from assistant.documents import Document, load_documents
from assistant.embedding import Embedder, default_embedder
from assistant.errors import ConfigurationError, KnowledgeError, QuestionError
from assistant.index import Cache, Index, default_cache_dir
from assistant.passages import Passage, opens_list_item
from assistant.question import question_vectors, unknown_words
from assistant.ranking import Ranked, Ranker, Ranking, rank
from assistant.reading import read_question, small_talk_reply
from assistant.text import words

log = logging.getLogger(__name__)

BUNDLED_KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
MAX_QUOTES = 3
# The calibrated probability that the documents answer, below which we refuse (the default of
# $POLICY_QA_MIN_CONFIDENCE). On our training corpora, cross-validated, 0.40-0.60 balance
# answering and refusing equally well (mean of the two shares 0.767-0.786); 0.5 is their middle.
ANSWER_THRESHOLD = 0.5
# Below this probability an answer comes with a caveat. On our training questions (the article
# and our four documents), answers under it were wrong 11 times in 28, answers above it 24 in 145.
SURE_THRESHOLD = 0.7
MAX_UNUSED_NAMED = 3  # words the caveat names, of those the documents never use
# A second or third quote is shown only while it is at least this likely relative to the best.
RELATIVE_FLOOR = 0.1
# What a quote ending in a colon may take from what follows it.
MAX_ANNOUNCED = 6  # list items
MAX_ANNOUNCED_CHARS = 1200


def probability(text: str) -> float:
    """`text` as a number from 0 to 1 (ValueError, with the reason, otherwise)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"must be a number from 0 to 1, not {text.strip()!r}")
    return value


def min_confidence_setting(value: float | None = None) -> float:
    """`value`, else $POLICY_QA_MIN_CONFIDENCE, else ANSWER_THRESHOLD: how sure the assistant
    must be that the documents answer before it quotes them (lower answers more, refuses less)."""
    if value is None:
        raw = os.environ.get("POLICY_QA_MIN_CONFIDENCE", "").strip()
        if not raw:
            return ANSWER_THRESHOLD
        source, text = "POLICY_QA_MIN_CONFIDENCE", raw
    else:
        source, text = "The minimum confidence", str(value)
    try:
        return probability(text)
    except ValueError as e:
        raise ConfigurationError(f"{source} {e}.") from None


def _display_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _locator(doc: Document, paragraph: int, section: str | None) -> str:
    where = f"paragraph {paragraph}"
    return f"“{section}”, {where}" if section and section != doc.title else where


class Assistant:
    """Answers questions from one knowledge folder. Build it with `Assistant.load()`."""

    def __init__(
        self,
        index: Index,
        embedder: Embedder,
        knowledge_dir: Path,
        ranker: Ranker | None = None,
        min_confidence: float = ANSWER_THRESHOLD,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.knowledge_dir = knowledge_dir
        self.ranker = ranker  # None: the weights shipped in assistant/
        self.min_confidence = min_confidence  # below it, the assistant says the documents don't
        self._threads = ThreadpoolController()  # inspects the loaded BLAS libraries once

    @classmethod
    def load(
        cls,
        knowledge_dir: str | Path | None = None,
        *,
        embedder: Embedder | None = None,
        cache_dir: str | Path | None = None,
        use_cache: bool = True,
        show_progress: bool = False,
        ranker: Ranker | None = None,
        min_confidence: float | None = None,
    ) -> Assistant:
        """Read, split and index a folder (default: $POLICY_QA_KNOWLEDGE, else the bundled
        `knowledge/`), reusing cached embeddings of documents that did not change.
        `min_confidence`: see min_confidence_setting()."""
        threshold = min_confidence_setting(min_confidence)  # a bad setting fails before indexing
        folder = Path(knowledge_dir or os.environ.get("POLICY_QA_KNOWLEDGE") or BUNDLED_KNOWLEDGE)
        folder = folder.expanduser().resolve()
        documents = load_documents(folder)
        embedder = embedder or default_embedder()
        cache = (
            Cache(Path(cache_dir) if cache_dir else default_cache_dir(), embedder.model_id)
            if use_cache
            else None
        )
        index = Index.build(documents, embedder, cache, show_progress=show_progress)
        if len(index) == 0:
            raise KnowledgeError(f"The documents in {folder} have no text to quote.")
        log.info("Indexed %d passages from %d documents", len(index), len(documents))
        return cls(index, embedder, folder, ranker, threshold)

    @property
    def documents(self) -> list[Document]:
        return self.index.documents

    def document(self, path: str | Path) -> Document | None:
        """The document a citation's `path` points to (for links and metadata)."""
        wanted = Path(path).resolve()
        return next((d for d in self.index.documents if d.path == wanted), None)

    def answer(self, question: str) -> Answer:
        """The best verbatim quotes for `question`, or a plain refusal when the documents don't
        answer it. A question that is empty or too long gets a refusal that says why."""
        try:
            asked = normalize_question(question)
        except QuestionError as e:
            return Answer(question=question, answered=False, text=str(e), citations=())
        if reply := small_talk_reply(asked):
            return Answer(question=asked, answered=False, text=reply, citations=())
        read_as = read_question(asked, self.index.passages_with)
        # One BLAS thread: our products are matrix-vector, and OpenBLAS workers spinning after
        # them steal the cores the ONNX model needs (measured: 24 ms -> 13 ms per answer at 10k).
        with self._threads.limit(limits=1, user_api="blas"):
            vectors = question_vectors(self.index, self.embedder, read_as)
            ranking = rank(self.index, read_as, vectors, self.ranker)
        answers, caveat = self._verdict(ranking, read_as)
        # (_verdict answers only with a candidate, so an answer always has its citations.)
        citations = (
            tuple(self._cite(r) for r in self._choose(ranking.candidates)) if answers else ()
        )
        scope = (
            f"the {len(self.documents)} document{'s' if len(self.documents) != 1 else ''} I have"
        )
        text = render_text(read_as, citations, scope, caveat)
        return Answer(asked, bool(citations), text, citations, caveat)

    def _verdict(self, ranking: Ranking, question: str) -> tuple[bool, str | None]:
        """Whether to answer, and with what caveat (None: plainly). A question that names
        something the documents never mention is answered when they answer the rest of it
        ("Can I get a Labrador?" of a rule on dogs), always saying what they don't mention:
        the quotes can only give the general rule."""
        confidence = ranking.candidates[0].confidence if ranking.candidates else 0.0
        names = unmentioned(ranking.unmentioned, question) if ranking.unmentioned else None
        if names and ranking.answered_without_names >= self.min_confidence:
            return True, names
        if confidence >= max(SURE_THRESHOLD, self.min_confidence):
            return True, None
        if confidence >= self.min_confidence:
            missing = unknown_words(self.index, question)
            return True, unused(missing[:MAX_UNUSED_NAMED]) if missing else UNSURE
        return False, None

    def _choose(self, ranked: list[Ranked]) -> list[Ranked]:
        """The best candidate, then up to two more that neither overlap nor repeat a chosen
        quote and are not much weaker than the best."""
        chosen: list[Ranked] = []
        said: list[str] = []
        vectors = self.index.vectors
        for candidate in map(self._with_what_it_announces, ranked):
            if chosen and candidate.confidence < RELATIVE_FLOOR * chosen[0].confidence:
                break
            if any(candidate.first <= c.last and c.first <= candidate.last for c in chosen):
                continue  # overlaps a quote already chosen
            if any(float(vectors[candidate.first] @ vectors[c.first]) > 0.92 for c in chosen):
                continue  # says the same thing as a quote already chosen
            # The same words in another copy of a document (a draft and a final, a .txt and a
            # .md), perhaps a list marker apart.
            these = " ".join(words(self._quote_text(candidate)))
            if any(these in other or other in these for other in said):
                continue
            chosen.append(candidate)
            said.append(these)
            if len(chosen) == MAX_QUOTES:
                break
        return chosen

    def _with_what_it_announces(self, ranked: Ranked) -> Ranked:
        """A quote ending in a colon ("…two reasons for writing the letter:") continued by what
        it announces, in the same voice and section: the next sentence, or the list items that
        follow (up to MAX_ANNOUNCED of them and MAX_ANNOUNCED_CHARS in all)."""
        index = self.index
        if not self._quote_text(ranked).rstrip().endswith(":"):
            return ranked
        doc, first, _ = self._span(ranked)
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

    def _span(self, ranked: Ranked) -> tuple[Document, Passage, Passage]:
        """The candidate's document and its first and last sentences."""
        doc = self.index.documents[int(self.index.doc_of[ranked.first])]
        return doc, self.index.passages[ranked.first], self.index.passages[ranked.last]

    def _quote_text(self, ranked: Ranked) -> str:
        doc, first, last = self._span(ranked)
        return doc.text[first.start : last.end]

    def _cite(self, ranked: Ranked) -> Citation:
        doc, first, last = self._span(ranked)
        return Citation(
            quote=doc.text[first.start : last.end],
            path=_display_path(doc.path),
            start=first.start,
            end=last.end,
            source=doc.source,
            locator=_locator(doc, first.paragraph, first.section),
            speaker=first.speaker,
            score=round(float(np.clip(ranked.confidence, 0.0, 1.0)), 4),
        )
