"""Measuring answers: hit@1, hit@3, answered and refused shares, against plain BM25 and dense."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.answers import Answer
from assistant.core import SURE_THRESHOLD, Assistant
from assistant.documents import Document, read_document
from assistant.embedding import Embedder, default_embedder
from assistant.errors import PolicyQAError
from assistant.index import Index
from assistant.ranking import Ranker
from assistant.text import fold

ALONE = "asked alone"  # a dialogue's last turn without the turns before it

# Plain baselines refuse only when they have nothing at all, or below this cosine: the usual
# hand-picked threshold a first version of such a bot would ship with.
NAIVE_COSINE_THRESHOLD = 0.35


@dataclass(frozen=True)
class Question:
    text: str
    gold: tuple[str, ...] | None  # None: the documents do not answer it
    # The questions asked before it in the same conversation, in order (a dialogue's turns).
    before: tuple[str, ...] = ()


@dataclass
class EvalSet:
    name: str
    # None: Assistant.load's default ($POLICY_QA_KNOWLEDGE, else the bundled knowledge)
    knowledge_dir: Path | None
    questions: list[Question]


@dataclass
class Tally:
    in_scope: int = 0
    out_of_scope: int = 0
    hit1: int = 0
    hit3: int = 0
    answered: int = 0
    refused: int = 0
    violations: int = 0
    # For a system whose answers say when they may not answer (Answer.sure): answerable questions
    # answered without that caveat, and unanswerable ones refused or answered with it.
    tells_unsure: bool = False
    answered_sure: int = 0
    refused_or_unsure: int = 0
    misses: list[str] = field(default_factory=list)
    # Answerable questions none of whose gold phrases occur in the documents: no quote can ever
    # hit them, so they point at a slip in the eval file (shared by every system in a run).
    unfindable: list[str] = field(default_factory=list)

    def add(
        self, question: Question, quotes: list[str], answered: bool, sure: bool | None = None
    ) -> None:
        """Count one question: `quotes` in rank order (empty when refused); `sure`: whether the
        answer came without a caveat, for a system that says (None otherwise)."""
        self.tells_unsure |= sure is not None
        if question.gold is None:
            self.out_of_scope += 1
            self.refused += not answered
            self.refused_or_unsure += not (answered and sure)
            if answered:
                self.misses.append(f"answered out-of-scope: {question.text}")
            return
        self.in_scope += 1
        self.answered += answered
        self.answered_sure += bool(answered and sure)
        gold = [fold(g) for g in question.gold]
        hits = [any(g in fold(q) for g in gold) for q in quotes[:3]]
        self.hit1 += bool(hits[:1] and hits[0])
        self.hit3 += any(hits)
        if not any(hits):
            self.misses.append(f"missed: {question.text}")

    def merge(self, other: Tally) -> None:
        """Add another run's counts to these (misses are not carried over)."""
        for name in (
            "in_scope", "out_of_scope", "hit1", "hit3", "answered", "refused", "answered_sure",
            "refused_or_unsure",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.tells_unsure |= other.tells_unsure
        self.violations += other.violations
        self.unfindable += other.unfindable

    def figures(self) -> dict[str, float | int | None]:
        def share(n: int, d: int) -> float | None:
            return round(n / d, 4) if d else None

        return {
            "hit@1": share(self.hit1, self.in_scope),
            "hit@3": share(self.hit3, self.in_scope),
            "answered": share(self.answered, self.in_scope),
            "refused": share(self.refused, self.out_of_scope),
            "answered sure": (
                share(self.answered_sure, self.in_scope) if self.tells_unsure else None
            ),
            "refused or unsure": (
                share(self.refused_or_unsure, self.out_of_scope) if self.tells_unsure else None
            ),
            "violations": self.violations,
            "in_scope": self.in_scope,
            "out_of_scope": self.out_of_scope,
            "gold_not_in_documents": len(self.unfindable),
        }


def _question(row: object) -> Question:
    """One JSON line's question. Strict, because a slip fails silently otherwise: a missing
    "gold" would make a question unanswerable, and a string gold would match letter by letter."""
    if not isinstance(row, dict):
        raise ValueError('expected an object like {"q": "...", "gold": [...]}')
    text, gold = row.get("q"), row.get("gold", ...)
    if not isinstance(text, str) or not text.strip():
        raise ValueError('"q" must be a non-empty string')
    if gold is ...:
        raise ValueError('"gold" is missing: give a list of phrases, or null for "must refuse"')
    if gold is None:
        return Question(text, None)
    if not isinstance(gold, list) or not gold:
        raise ValueError('"gold" must be a non-empty list of phrases, or null for "must refuse"')
    if not all(isinstance(g, str) and g.strip() for g in gold):
        raise ValueError('each "gold" phrase must be a non-empty string')
    return Question(text, tuple(gold))


def _dialogue(row: dict[str, object]) -> Question:
    """A dialogue line, {"turns": [...], "gold": ...}: its last turn is the question scored."""
    turns = row.get("turns")
    if not isinstance(turns, list) or len(turns) < 2:
        raise ValueError('"turns" must list at least two questions, the last one scored')
    if not all(isinstance(t, str) and t.strip() for t in turns):
        raise ValueError('each of "turns" must be a non-empty string')
    last = _question({"q": turns[-1], "gold": row.get("gold", ...)})
    return Question(last.text, last.gold, tuple(turns[:-1]))


def _dialogue_knowledge(value: object, path: Path, default: Path | None) -> Path | None:
    """A dialogue's "knowledge": a folder beside the eval file or below the working directory;
    any other name (such as "article") means the default knowledge."""
    if isinstance(value, str) and value.strip():
        for candidate in (path.parent / value, Path(value)):
            if candidate.is_dir():
                return candidate
    return default


def _read_jsonl(path: Path, knowledge_dir: Path | None) -> Iterator[EvalSet]:
    sets: dict[Path | None, list[Question]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if isinstance(row, dict) and "turns" in row:
                folder = _dialogue_knowledge(row.get("knowledge"), path, knowledge_dir)
                sets.setdefault(folder, []).append(_dialogue(row))
            else:
                sets.setdefault(knowledge_dir, []).append(_question(row))
        except ValueError as e:  # json.JSONDecodeError is one
            raise PolicyQAError(f"{path}:{number}: not an eval line ({e})") from None
    if not sets:
        raise PolicyQAError(f"{path} has no questions")
    for folder, questions in sets.items():
        yield EvalSet(path.stem, folder, questions)


def _read_squad(data: dict[str, object], workdir: Path) -> Iterator[EvalSet]:
    """Each title becomes its own knowledge folder: one text file, paragraphs in order."""
    articles = data.get("data")
    if not isinstance(articles, list):
        raise PolicyQAError("SQuAD file has no 'data' list")
    for number, article in enumerate(articles):
        title = str(article.get("title") or f"document {number + 1}")
        folder = workdir / f"{number:03d}"
        folder.mkdir()
        slug = re.sub(r"[^\w.-]+", "-", title).strip("-") or "document"
        paragraphs = [p["context"] for p in article["paragraphs"]]
        (folder / f"{slug}.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")
        questions = [
            Question(qa["question"], tuple(a["text"] for a in qa["answers"]) or None)
            for p in article["paragraphs"]
            for qa in p["qas"]
        ]
        yield EvalSet(title, folder, questions)


def read_eval_file(path: Path, knowledge_dir: Path | None, workdir: Path) -> list[EvalSet]:
    """JSON lines of {"q", "gold"} (asked of `knowledge_dir`) or SQuAD JSON (its own knowledge)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise PolicyQAError(f"Cannot read the eval file {path}: {e}") from None
    try:
        whole = json.loads(text)  # SQuAD is one JSON document; JSON lines (mostly) is not
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict) and "data" in whole:
        try:
            return list(_read_squad(whole, workdir))
        except (KeyError, TypeError, AttributeError) as e:
            raise PolicyQAError(f"{path} is not SQuAD JSON ({e})") from None
    return list(_read_jsonl(path, knowledge_dir))


class PlainBM25:
    """A user's first hybrid-free attempt: bm25s over the same sentences, default tokenizer."""

    def __init__(self, index: Index) -> None:
        import bm25s

        self.retriever = bm25s.BM25()
        self.size = len(index)
        texts = [index.text(i) for i in range(len(index))]
        self.retriever.index(
            bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False
        )

    def top(self, question: str, k: int = 3) -> tuple[list[int], bool]:
        """The k best sentences, and whether it answers (some question word matched)."""
        import bm25s

        tokens = bm25s.tokenize([question], stopwords="en", show_progress=False, return_ids=False)[
            0
        ]
        scores = self.retriever.get_scores(tokens) if tokens else np.zeros(self.size)
        return [int(i) for i in np.argsort(-scores)[:k]], float(np.max(scores)) > 0


def plain_dense_top(
    index: Index, embedder: Embedder, question: str, k: int = 3
) -> tuple[list[int], bool]:
    """The k most similar sentences, and whether the best passes the naive cosine threshold."""
    scores = index.vectors @ embedder.embed([question])[0]
    return [int(i) for i in np.argsort(-scores)[:k]], float(
        np.max(scores)
    ) >= NAIVE_COSINE_THRESHOLD


def verbatim_violations(answer: Answer, texts: dict[str, str | None] | None = None) -> int:
    """Citations whose quote is not `text[start:end]` of the text `policy-qa text PATH` prints:
    the file itself for Markdown and text, the text extracted afresh for PDF, Word and HTML
    (`texts` keeps each document's text between calls)."""
    texts = {} if texts is None else texts
    bad = 0
    for c in answer.citations:
        if c.path not in texts:
            try:
                document = read_document(Path(c.path).absolute())
                texts[c.path] = document.text
            except (OSError, ValueError):
                texts[c.path] = None
        text = texts[c.path]
        bad += text is None or text[c.start : c.end] != c.quote
    return bad


def evaluate(
    path: Path,
    knowledge_dir: Path | None = None,
    embedder: Embedder | None = None,
    on_question: Callable[[], None] | None = None,
    cache_dir: Path | None = None,
    ranker: Ranker | None = None,
    min_confidence: float | None = None,
) -> dict[str, Tally]:
    """Run the assistant (with `ranker`, default the shipped weights, and `min_confidence`, see
    min_confidence_setting) and both baselines over every question of the file."""
    embedder = embedder or default_embedder()
    with tempfile.TemporaryDirectory(prefix="policy-qa-eval-") as tmp:
        eval_sets = read_eval_file(path, knowledge_dir, Path(tmp))
        dialogues = any(q.before for s in eval_sets for q in s.questions)
        tallies = {
            "policy-qa": Tally(),
            # Dialogues: the conversation's gain is over the same last turns asked alone.
            **({ALONE: Tally()} if dialogues else {}),
            "plain BM25": Tally(),
            "plain dense": Tally(),
        }
        for eval_set in eval_sets:
            assistant = Assistant.load(
                eval_set.knowledge_dir,
                embedder=embedder,
                cache_dir=cache_dir,
                ranker=ranker,
                min_confidence=min_confidence,
            )
            bm25 = PlainBM25(assistant.index)
            unfindable = gold_not_in_documents(eval_set.questions, assistant.documents)
            for tally in tallies.values():
                tally.unfindable += unfindable
            texts: dict[str, str | None] = {}  # each cited document's text, read once
            for question in eval_set.questions:
                context = None
                for turn in question.before:
                    context = assistant.answer(turn, previous=context).context
                answer = assistant.answer(question.text, previous=context)
                if dialogues:
                    alone = assistant.answer(question.text)
                    quotes = [c.quote for c in alone.citations]
                    tallies[ALONE].add(question, quotes, alone.answered, alone.sure)
                # Extracted afresh, as `policy-qa text` does: a citation made from a cached
                # extraction must still be what the file's text is.
                tallies["policy-qa"].violations += verbatim_violations(answer, texts)
                tallies["policy-qa"].add(
                    question, [c.quote for c in answer.citations], answer.answered, answer.sure
                )
                for name, (top, answers) in (
                    ("plain BM25", bm25.top(question.text)),
                    ("plain dense", plain_dense_top(assistant.index, embedder, question.text)),
                ):
                    # A baseline's hits count its ranking alone; its refusal rule is reported apart.
                    tallies[name].add(question, [assistant.index.text(i) for i in top], answers)
                if on_question:
                    on_question()
    return tallies


def gold_not_in_documents(questions: list[Question], documents: list[Document]) -> list[str]:
    """The answerable questions none of whose gold phrases occurs in any of the documents."""
    texts = [fold(d.text) for d in documents]
    return [
        q.text
        for q in questions
        if q.gold is not None and not any(fold(g) in t for g in q.gold for t in texts)
    ]


def count_questions(path: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        return sum(len(s.questions) for s in read_eval_file(path, Path(tmp), Path(tmp)))


def format_table(path: Path, tallies: dict[str, Tally]) -> str:
    """The figures side by side, with policy-qa's ratio to each baseline."""
    rows = [
        "hit@1", "hit@3", "answered", "refused", "answered sure", "refused or unsure", "violations"
    ]  # fmt: skip
    names = list(tallies)
    figures = {n: tallies[n].figures() for n in names}
    first = figures[names[0]]
    lines = [
        f"{path.name}: {first['in_scope']} answerable, {first['out_of_scope']} unanswerable questions",
        "",
        f"{'':18}"
        + "".join(f"{n:>14}" for n in names)
        + "".join(f"{'÷ ' + n:>16}" for n in names[1:]),
    ]
    for row in rows:
        values = [figures[n][row] for n in names]
        cells = "".join(
            f"{'—' if v is None else (v if isinstance(v, int) and row == 'violations' else f'{v:.3f}'):>14}"
            for v in values
        )
        ratios = ""
        if row in ("hit@1", "hit@3"):
            for v in values[1:]:
                mine = values[0]
                ratios += f"{(f'{mine / v:.2f}x' if isinstance(mine, float) and v else '—'):>16}"
        lines.append(f"{row:18}{cells}{ratios}")
    lines += [
        "",
        "hit@k: share of answerable questions with a gold phrase in one of the first k quotes",
        "(for policy-qa a refusal is a miss; a baseline's ranking counts whatever its refusal rule says).",
        "answered: share of answerable questions answered; refused: share of unanswerable ones refused.",
        f"answered sure: answered without a caveat (given under a confidence of {SURE_THRESHOLD}, or for a name",
        "the documents never mention); refused or unsure: unanswerable ones refused or answered with one.",
        f"Baselines: plain BM25 (bm25s, default tokenizer) and plain dense (cosine, refusing below "
        f"{NAIVE_COSINE_THRESHOLD}) over the same sentences.",
    ]
    return "\n".join(lines)
