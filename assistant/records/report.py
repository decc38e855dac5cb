"""What the records say: problem questions grouped by meaning, shares per day, votes, citations.

`build_report(store, since)` reads a store and returns a `Report` (plain data; adapters/report.py
prints it as text, JSON or HTML). Problem questions (refused, answered with a caveat, or voted
down) are grouped with the assistant's own sentence embeddings:

1. Questions that differ only in case, punctuation, spacing or a greeting around them ("Hi! Can
   I bring my dog?" / "can i bring my dog") are one question before any model is asked.
2. The rest are grouped greedily, most asked first: each joins the group whose first (most
   asked) question it is most similar to, when the cosine similarity is at least
   GROUP_SIMILARITY, else starts a group of its own. Comparing with a group's first question,
   not with its latest member, keeps a chain of small steps from drifting into another topic.

Embedding is nearly all of a report's time (about 10 ms a question on 2 busy cores), so each
wording's vector is kept in the store (cached_embed) and a later report embeds only new ones.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from assistant.embedding import Embedder, Vectors
from assistant.reading import unframed
from assistant.records.base import (
    OUTCOMES,
    CitedCount,
    DocumentVotes,
    Outcome,
    ProblemQuestion,
    RecordStore,
    quote_digest,
)

# Cosine similarity (all-MiniLM-L6-v2) at which two questions count as one. Measured on 2026-11-29
# by `python -m benchmarks.grouping` (53 pairs written for it, compared after `unframed`):
# - 11 rewordings of one question (case, punctuation, a contraction, "May I" for "Can I", a
#   greeting or "could you tell me" around it): 0.958-1.000, all grouped;
# - 19 paraphrases: 0.460-0.905, most under 0.70 ("Can I work from home?" / "Is remote working
#   allowed?" 0.460; typos in its key words 0.567); 5 grouped ("... my dog to work?" / "... to the
#   office?" 0.856, "Why was Kaspersky banned?" / "Why did Twitter ban Kaspersky?" 0.866);
# - 23 different questions, mostly on one subject: 0.121-0.788 ("Why was Kaspersky banned?" /
#   "When was Kaspersky founded?" 0.788; "... my dog ..." / "... my cat ..." 0.776), except one
#   pair no threshold can part ("What time does the pool open?" / "... close?" 0.914).
# 0.85 keeps every different pair but that one apart, with a margin of 0.06, and groups every
# rewording and the closest paraphrases. A group that mixes two questions misleads whoever reads
# the report; one question in two groups only costs them a second line, so the margin goes to
# the different questions.
GROUP_SIMILARITY = 0.85
DIMENSIONS = 384  # all-MiniLM-L6-v2's, the only model the assistant uses
MAX_EXAMPLES = 3
MAX_COMMENTS = 3
_PUNCTUATION = re.compile(r"[^\w\s]+")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProblemGroup:
    """Questions asked that mean the same; `count` is how many times they were asked."""

    count: int
    examples: tuple[str, ...]  # up to MAX_EXAMPLES wordings, the most asked first
    refused: int
    unsure: int
    voted_down: int  # answers in the group with at least one down vote
    comments: tuple[str, ...]  # up to MAX_COMMENTS, the latest first
    last_asked: datetime


@dataclass(frozen=True)
class CitedPassageReport:
    path: str
    start: int
    end: int
    answers: int  # answers that quoted it
    quote: str | None  # None when the file no longer holds those characters there


@dataclass(frozen=True)
class Report:
    since: datetime
    until: datetime
    outcomes: dict[Outcome, int]  # over the whole period
    by_day: dict[date, dict[Outcome, int]]
    problem_groups: list[ProblemGroup]
    votes_up: int
    votes_down: int
    document_votes: list[DocumentVotes]
    cited_documents: list[CitedCount]
    cited_passages: list[CitedPassageReport]
    problems: int = field(default=0)  # problem questions asked (the groups' counts added up)

    @property
    def questions(self) -> int:
        """Messages recorded, greetings and the like included."""
        return sum(self.outcomes.values())

    def share(self, outcome: Outcome) -> float:
        """The share of `outcome` among questions about the documents (greetings left out)."""
        asked = sum(n for o, n in self.outcomes.items() if o != "other")
        return self.outcomes[outcome] / asked if asked else 0.0


def fold(question: str) -> str:
    """A question without what does not change it: a greeting or request around it, case,
    punctuation, accents' compatibility forms and spacing."""
    text = unicodedata.normalize("NFKC", unframed(question)).casefold()
    return " ".join(_PUNCTUATION.sub(" ", text).split())


def group_questions(
    questions: Sequence[str], embed: Callable[[list[str]], Vectors], threshold: float
) -> list[list[int]]:
    """Indices of `questions`, grouped by meaning (see the module's docstring); groups and their
    members in order of how often their wording was asked, then of first appearance."""
    members: dict[str, list[int]] = {}
    for i, question in enumerate(questions):
        members.setdefault(fold(question), []).append(i)
    keys = sorted(members, key=lambda k: -len(members[k]))  # stable: first asked first on ties
    if not keys:
        return []
    # Each question is embedded as its most asked wording: the same whatever order they came in.
    wordings = [Counter(questions[i] for i in members[k]).most_common(1)[0][0] for k in keys]
    vectors = embed([unframed(w) for w in wordings])
    leaders = np.zeros((len(keys), vectors.shape[1]), dtype=np.float32)
    groups: list[list[int]] = []
    for key, vector in zip(keys, vectors, strict=True):
        if groups:
            similarity = leaders[: len(groups)] @ vector
            best = int(np.argmax(similarity))
            if similarity[best] >= threshold:
                groups[best] += members[key]
                continue
        leaders[len(groups)] = vector
        groups.append(list(members[key]))
    return groups


def build_report(
    store: RecordStore,
    since: datetime,
    embedder: Callable[[], Embedder],
    *,
    until: datetime | None = None,
    top: int = 10,
    threshold: float = GROUP_SIMILARITY,
) -> Report:
    """The report over questions asked since `since`. `embedder` is called only when there are
    problem questions to group (loading the model takes a moment)."""
    problems = store.problems(since)
    tallies = store.tallies(since, top)
    groups: list[list[int]] = []
    if problems:
        model = embedder()
        groups = group_questions(
            [p.question for p in problems],
            lambda texts: cached_embed(store, model, texts),
            threshold,
        )
    problem_groups = sorted(
        (_group([problems[i] for i in members]) for members in groups),
        key=lambda g: (-g.count, -g.last_asked.timestamp()),
    )
    outcomes: dict[Outcome, int] = dict.fromkeys(OUTCOMES, 0)
    for counts in tallies.outcomes_by_day.values():
        for outcome, n in counts.items():
            outcomes[outcome] += n
    texts = _TextCache()
    return Report(
        since=since,
        until=until or datetime.now(UTC),
        outcomes=outcomes,
        by_day=tallies.outcomes_by_day,
        problem_groups=problem_groups,
        votes_up=tallies.votes_up,
        votes_down=tallies.votes_down,
        document_votes=tallies.document_votes,
        cited_documents=tallies.cited_documents,
        cited_passages=[
            CitedPassageReport(
                c.path,
                c.start or 0,
                c.end or 0,
                c.answers,
                texts.quote(c.path, c.start or 0, c.end or 0, c.quote_sha256 or ""),
            )
            for c in tallies.cited_passages
        ],
        problems=len(problems),
    )


def vector_key(model_id: str, text: str) -> str:
    return hashlib.sha256(f"{model_id}\n{text}".encode()).hexdigest()


def cached_embed(store: RecordStore, model: Embedder, texts: list[str]) -> Vectors:
    """`model.embed(texts)`, taking the vectors of texts embedded before from the store and
    keeping the new ones there. A store that cannot keep them (read-only, down) costs only time."""
    keys = [vector_key(model.model_id, t) for t in texts]
    cached = store.cached_vectors(keys)
    out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    missing = []
    for i, key in enumerate(keys):
        vector = np.frombuffer(cached[key], dtype="<f4") if key in cached else None
        if vector is not None and vector.shape == (DIMENSIONS,):
            out[i] = vector
        else:
            missing.append(i)
    if missing:
        fresh = model.embed([texts[i] for i in missing])
        out[missing] = fresh
        try:
            store.cache_vectors(
                {keys[i]: fresh[n].astype("<f4").tobytes() for n, i in enumerate(missing)}
            )
        except Exception as e:
            log.info("Could not keep the question vectors for later reports: %s", type(e).__name__)
    return out


def _group(asked: list[ProblemQuestion]) -> ProblemGroup:
    wordings = Counter(p.question for p in asked)  # in order of first appearance on ties
    latest_first = sorted(asked, key=lambda p: p.asked_at, reverse=True)
    comments = [c for p in latest_first for c in p.comments]
    return ProblemGroup(
        count=len(asked),
        examples=tuple(w for w, _ in wordings.most_common(MAX_EXAMPLES)),
        refused=sum(p.outcome == "refused" for p in asked),
        unsure=sum(p.outcome == "unsure" for p in asked),
        voted_down=sum(p.down_votes > 0 for p in asked),
        comments=tuple(dict.fromkeys(comments))[:MAX_COMMENTS],
        last_asked=latest_first[0].asked_at,
    )


class _TextCache:
    """Documents' texts as the assistant quotes them, each read once."""

    def __init__(self) -> None:
        self._texts: dict[str, str | None] = {}

    def quote(self, path: str, start: int, end: int, sha256: str) -> str | None:
        """The characters at start:end of the document, if they are still those quoted."""
        if path not in self._texts:
            self._texts[path] = _read_text(Path(path))
        text = self._texts[path]
        if text is None:
            return None
        quote = text[start:end]
        return quote if quote_digest(quote) == sha256 else None


def _read_text(path: Path) -> str | None:
    from assistant.documents import read_document

    try:
        return read_document(path).text
    except (OSError, ValueError):
        return None  # moved, deleted or unreadable now: the passage is reported without it
