"""Hybrid ranking of passages for a question, and the decision whether the documents answer it."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from assistant.embedding import Vectors
from assistant.index import Index
from assistant.text import lexical_tokens, words

Floats = npt.NDArray[np.float64]

_YEAR_OR_DATE = re.compile(
    r"\b(1[89]\d\d|20\d\d|january|february|march|april|may|june|july|august|september|october|"
    r"november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|ago|yesterday|"
    r"today|week|month|year|years|\d{1,2}/\d{1,2})\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|billion|percent|dozen)\b", re.IGNORECASE)
_CAUSE = re.compile(r"\b(because|since|due to|reason|in order to|so that|as a result|therefore|caus\w*|conflict\w*|to\s+\w+)\b", re.IGNORECASE)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+")

QUESTION_TYPES = ("when", "who", "number", "why", "said")


def question_type(question: str) -> str | None:
    q = question.lower()
    if re.search(r"\b(how (many|much|long|often|old)|what (percentage|amount|price|number))\b", q):
        return "number"
    if re.match(r"\s*(when|what (date|year|time|day|month))\b", q):
        return "when"
    if re.match(r"\s*(who|whom|whose)\b", q):
        return "who"
    if re.match(r"\s*why\b", q):
        return "why"
    if re.search(r"\b(say|said|says|call|calls|called|according to|think|feel|claim|describe)\b", q):
        return "said"
    return None


@dataclass(frozen=True)
class Ranked:
    """Passages `first..last` (one sentence, or adjacent ones) with their fused score."""

    first: int
    last: int
    score: float
    confidence: float


def _paragraph_mean(values: Floats, paragraph_of: npt.NDArray[np.int32]) -> Floats:
    sums = np.bincount(paragraph_of, weights=values)
    counts = np.bincount(paragraph_of)
    return (sums / np.maximum(counts, 1))[paragraph_of]


def _paragraph_max(values: Floats, paragraph_of: npt.NDArray[np.int32]) -> Floats:
    best = np.full(int(paragraph_of.max()) + 1, -np.inf)
    np.maximum.at(best, paragraph_of, values)
    return best[paragraph_of]


def _neighbours(values: Floats, paragraph_of: npt.NDArray[np.int32]) -> tuple[Floats, Floats]:
    prev = np.full_like(values, np.nan)
    nxt = np.full_like(values, np.nan)
    same = paragraph_of[1:] == paragraph_of[:-1]
    prev[1:] = np.where(same, values[:-1], np.nan)
    nxt[:-1] = np.where(same, values[1:], np.nan)
    return prev, nxt


FEATURES = (
    "dense", "dense_z", "lex", "lex_raw", "coverage", "para_dense", "para_lex", "neigh_dense",
    "neigh_lex", "centered", "length", "type_match", "quoted_said", "quoted",
)  # fmt: skip


def features(index: Index, question: str, question_vector: Vectors) -> Floats:
    """One row per passage, one column per name in FEATURES."""
    n = len(index)
    dense = (index.vectors @ question_vector).astype(np.float64)
    tokens = lexical_tokens(question)
    lex_raw = index.bm25.get_scores(tokens).astype(np.float64) if tokens else np.zeros(n)
    lex = lex_raw / max(float(lex_raw.max()), 1e-6)
    df = index.document_frequency
    idf = {t: np.log(1 + n / (1 + df.get(t, 0))) for t in set(tokens)}
    total = sum(idf.values()) or 1.0
    coverage = np.array([sum(idf[t] for t in idf if t in set(toks)) / total for toks in index.tokens])
    centre = index.centroid
    centered = (index.centered @ (question_vector - centre)) / max(float(np.linalg.norm(question_vector - centre)), 1e-6)
    prev_d, next_d = _neighbours(dense, index.paragraph_of)
    prev_l, next_l = _neighbours(lex, index.paragraph_of)
    qtype = question_type(question)
    type_match = np.array([_type_match(qtype, index.text(i)) for i in range(n)], dtype=np.float64)
    quoted = np.array([p.quoted for p in index.passages], dtype=np.float64)
    length = np.log1p(np.array([p.end - p.start for p in index.passages], dtype=np.float64))
    std = float(dense.std()) or 1.0
    return np.column_stack([
        dense,
        (dense - dense.mean()) / std,
        lex,
        np.log1p(lex_raw),
        coverage,
        _paragraph_max(dense, index.paragraph_of),
        _paragraph_max(lex, index.paragraph_of),
        np.fmax(np.nan_to_num(prev_d, nan=-1), np.nan_to_num(next_d, nan=-1)),
        np.fmax(np.nan_to_num(prev_l, nan=0), np.nan_to_num(next_l, nan=0)),
        centered,
        length,
        type_match,
        quoted * (qtype == "said"),
        quoted,
    ])  # fmt: skip


def _type_match(qtype: str | None, text: str) -> float:
    if qtype == "when":
        return float(bool(_YEAR_OR_DATE.search(text)))
    if qtype == "number":
        return float(bool(_NUMBER.search(text)))
    if qtype == "who":
        return float(len(_NAME.findall(text)) > 0)
    if qtype == "why":
        return float(bool(_CAUSE.search(text)))
    return 0.0


WEIGHTS = np.array([1.0, 0, 0.3, 0, 0, 0.15, 0, 0.05, 0, 0, 0, 0, 0, 0])


def rank(index: Index, question: str, question_vector: Vectors, top: int = 10) -> list[Ranked]:
    """The best passages for the question, best first, with a fused score."""
    if len(index) == 0:
        return []
    x = features(index, question, question_vector)
    score = x @ WEIGHTS
    order = np.argsort(-score)[:top]
    best = float(x[:, 0].max())
    confidence = 1 / (1 + np.exp(-12 * (best - 0.35)))
    return [Ranked(int(i), int(i), float(score[i]), float(confidence)) for i in order]


__all__ = ["FEATURES", "Ranked", "features", "rank", "words"]
