"""Answer quality guards: fail when ranking or refusal gets worse than what we measured.

tests/data/held-out.jsonl (about the bundled article) and tests/data/library-held-out.jsonl
(about tests/data/library/) were written for this project and are never used to fit anything
(benchmarks/fit_ranker.py leaves them out, and the policies of
tests/data/policyqa-dev-sample.json). Thresholds sit a little under the figures
measured when they were set (see the comments), so noise passes and a real drop fails.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assistant.embedding import Embedder, default_embedder
from assistant.evaluation import Question, Tally, evaluate
from tests.conftest import DATA


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return default_embedder()


def _run(
    name: str, embedder: Embedder, cache_dir: Path, knowledge: str | None = None
) -> dict[str, Tally]:
    folder = DATA / knowledge if knowledge else None
    return evaluate(DATA / name, folder, embedder=embedder, cache_dir=cache_dir)


def _figures(tally: Tally) -> dict[str, float]:
    return {k: float(v) for k, v in tally.figures().items() if v is not None}


@pytest.mark.parametrize(
    ("name", "minimums"),
    [
        # never fitted on (35 + 18 questions); measured at the commit that gave every held-out set
        # the plain-search prior, answer types and the lower threshold (issue 18): hit@1 0.886,
        # hit@3 0.971, answered 1.000, refused 0.333 (0.444 before: a refusal under 0.5 is now a
        # caveat from 0.3), answered sure 0.886, refused or unsure 0.667; each threshold is one
        # question under
        (
            "held-out.jsonl",
            {
                "hit@1": 0.85,
                "hit@3": 0.94,
                "answered": 0.97,
                "refused": 0.27,
                "answered sure": 0.85,
                "refused or unsure": 0.61,
            },
        ),  # fmt: skip
        # fitted on (benchmarks/fit_ranker.py); measured: hit@1 0.600, hit@3 0.800, answered 1.000,
        # refused 0.667, refused or unsure 0.833
        ("kaspersky-dev.jsonl", {"hit@1": 0.53, "hit@3": 0.73, "answered": 0.93, "refused": 0.5}),
    ],
)
def test_article_questions(
    name: str, minimums: dict[str, float], embedder: Embedder, cache_dir: Path
) -> None:
    figures = _figures(_run(name, embedder, cache_dir)["policy-qa"])
    assert figures["violations"] == 0
    for figure, minimum in minimums.items():
        assert figures[figure] >= minimum, f"{name}: {figure} {figures[figure]} < {minimum}"


def test_unsure_answers_are_counted_apart_for_a_system_that_tells_them() -> None:
    answerable, unanswerable = Question("How fast?", ("14 days",)), Question("Why?", None)
    ours, baseline = Tally(), Tally()
    for sure in (True, False):
        ours.add(answerable, ["within 14 days"], answered=True, sure=sure)
        ours.add(unanswerable, ["a quote"], answered=True, sure=sure)
        baseline.add(answerable, ["within 14 days"], answered=True)
    figures = ours.figures()
    assert (figures["answered"], figures["answered sure"]) == (1.0, 0.5)
    assert (figures["refused"], figures["refused or unsure"]) == (0.0, 0.5)
    assert baseline.figures()["answered sure"] is None
    merged = Tally()
    merged.merge(ours)
    assert merged.figures() == figures


def _slip(question: str) -> str:
    """Two letters of the question's longest word swapped ("Kaspersky" as "Kaspesrky")."""
    if longest := max(re.findall(r"[A-Za-z]{6,}", question), key=len, default=None):
        i = len(longest) // 2
        slip = longest[: i - 1] + longest[i] + longest[i - 1] + longest[i + 1 :]
        question = question.replace(longest, slip, 1)
    return question


TYPED = {
    "a typo": _slip,
    "greeting and thanks": lambda q: f"Hi! {q} Thanks a lot!",
    "a request": lambda q: f"Could you please tell me {q[0].lower()}{q[1:]}",
    "capitals": str.upper,
}


# The held-out questions typed another way. Measured before each was read away: hit@1 0.771 ->
# 0.486, answered 0.971 -> 0.600 (a typo); hit@1 0.829 -> 0.686 (greeting and thanks), 0.686 (a
# request), 0.657 and answered 0.743 (capitals).
@pytest.mark.parametrize("how", TYPED)
def test_how_a_question_is_typed_costs_nothing(
    how: str, embedder: Embedder, cache_dir: Path, tmp_path: Path
) -> None:
    lines = []
    for line in (DATA / "held-out.jsonl").read_text(encoding="utf-8").splitlines():
        question = json.loads(line)
        question["q"] = TYPED[how](question["q"])
        lines.append(json.dumps(question))
    typed = tmp_path / "held-out-typed.jsonl"
    typed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    figures = _figures(evaluate(typed, None, embedder=embedder, cache_dir=cache_dir)["policy-qa"])
    clean = _figures(_run("held-out.jsonl", embedder, cache_dir)["policy-qa"])
    assert typed.read_text() != (DATA / "held-out.jsonl").read_text()
    for figure in ("hit@1", "hit@3", "answered", "refused"):
        assert figures[figure] >= clean[figure] - 0.03, f"{how}, {figure}: {figures} vs {clean}"


def test_privacy_policies_lead_over_plain_dense_retrieval(
    embedder: Embedder, cache_dir: Path
) -> None:
    tallies = _run("policyqa-dev-sample.json", embedder, cache_dir)
    ours, dense = _figures(tallies["policy-qa"]), _figures(tallies["plain dense"])
    assert ours["violations"] == 0
    # These three policies are kept out of every fit (benchmarks/fit_ranker.py), so this is a
    # lead on policies the adapter never saw. Measured: 0.354 vs 0.152 (2.33x), 0.543 vs 0.289
    # (1.88x); on all of PolicyQA dev, cross-validated: 1.59x and 1.52x.
    assert ours["hit@1"] >= 1.9 * dense["hit@1"]
    assert ours["hit@3"] >= 1.5 * dense["hit@3"]


def test_plain_rules_no_fit_has_seen(embedder: Embedder, cache_dir: Path) -> None:
    # Library lending rules: short and plainly worded like our own documents in the fit, but
    # never fitted on (24 + 10 questions). Measured: hit@1 0.792, hit@3 0.875, answered 0.917,
    # refused 0.300, refused or unsure 1.000 (issue 18's first round: 0.750 / 0.833 / 0.875 /
    # 0.400 / 1.000; before it: 0.583 / 0.625 / 0.625 / 0.800 / 1.000); plain dense 0.708 / 0.958.
    # Each threshold one question under; the first quote is right at least as often as plain
    # dense's (its top three, not yet).
    tallies = _run("library-held-out.jsonl", embedder, cache_dir, "library")
    figures, dense = _figures(tallies["policy-qa"]), _figures(tallies["plain dense"])
    assert figures["violations"] == 0
    assert figures["hit@1"] >= dense["hit@1"]
    minimums = {"hit@1": 0.75, "hit@3": 0.83, "answered": 0.87, "refused or unsure": 0.9}
    for figure, minimum in minimums.items():
        assert figures[figure] >= minimum, f"library: {figure} {figures[figure]} < {minimum}"


OWN = Path(__file__).resolve().parent.parent / "benchmarks" / "own"


def test_questions_naming_what_the_documents_never_mention(
    embedder: Embedder, cache_dir: Path
) -> None:
    # Our four documents asked about with names of the asker's own ("Can I get a Labrador?"),
    # 4 x (6 + 2) questions that no fit reads (it reads *-train.jsonl). Measured: hit@1 0.833,
    # hit@3 0.917, answered 1.000, refused or unsure 1.000 (0.792 / 0.792 / 0.917 / 1.000 before
    # issue 18; before such questions were answered with the caveat naming what is missing:
    # hit@3 0.250, answered 0.292); each threshold one question under, over the 24 answerable
    # and 8 unanswerable questions together.
    total = Tally()
    for questions in sorted(OWN.glob("*-names.jsonl")):
        folder = OWN / questions.name.removesuffix("-names.jsonl")
        tallies = evaluate(questions, folder, embedder=embedder, cache_dir=cache_dir)
        total.merge(tallies["policy-qa"])
    figures = _figures(total)
    assert (figures["in_scope"], figures["out_of_scope"]) == (24, 8)
    minimums = {"hit@1": 0.79, "hit@3": 0.87, "answered": 0.95, "refused or unsure": 0.87}
    for figure, minimum in minimums.items():
        assert figures[figure] >= minimum, f"names: {figure} {figures[figure]} < {minimum}"


EVAL = Path(__file__).resolve().parent.parent / "eval"


@pytest.mark.parametrize(
    ("name", "knowledge", "minimums"),
    [
        # eval/README.md: written 2026-11-29, never fitted on. Measured at a025a61 (issue 18's
        # second round): workplace 0.725 / 0.925, answered 1.000, refused or unsure 0.500 (plain
        # dense 0.700 / 0.850, plain BM25 0.475 / 0.575); article 2 0.700 / 0.900, answered 1.000,
        # refused or unsure 0.200 (plain BM25 0.333 / 0.500); office 0.792 / 0.917, answered
        # 1.000, refused or unsure 0.625 (plain dense 0.708 / 0.875); article 3 0.600 / 0.900,
        # answered 0.967, refused or unsure 0.300 (plain BM25 0.533 / 0.733). Harbour and article 4
        # (written for the third round, first measured at 675b675): harbour 0.875 / 1.000, answered
        # 1.000, refused or unsure 0.375 (plain dense 0.708 / 0.917); article 4 0.600 / 0.833,
        # answered 0.967, refused or unsure 0.400 (plain BM25 0.400 / 0.600). Each threshold one
        # question under.
        (
            "workplace-held-out.jsonl",
            "workplace",
            {"hit@1": 0.7, "hit@3": 0.9, "answered": 0.97, "refused or unsure": 0.41},
        ),
        (
            "article-held-out-2.jsonl",
            None,
            {"hit@1": 0.66, "hit@3": 0.86, "answered": 0.96, "refused or unsure": 0.1},
        ),
        (
            "office-held-out.jsonl",
            "office",
            {"hit@1": 0.75, "hit@3": 0.875, "answered": 0.95, "refused or unsure": 0.5},
        ),
        (
            "article-held-out-3.jsonl",
            None,
            {"hit@1": 0.56, "hit@3": 0.86, "answered": 0.93, "refused or unsure": 0.2},
        ),
        (
            "harbour-held-out.jsonl",
            "harbour",
            {"hit@1": 0.83, "hit@3": 0.95, "answered": 0.95, "refused or unsure": 0.25},
        ),
        (
            "article-held-out-4.jsonl",
            None,
            {"hit@1": 0.56, "hit@3": 0.8, "answered": 0.93, "refused or unsure": 0.3},
        ),
    ],
)
def test_held_out_sets_lead_plain_search(
    name: str,
    knowledge: str | None,
    minimums: dict[str, float],
    embedder: Embedder,
    cache_dir: Path,
) -> None:
    # Issue 18, part 1: the first quote right at least as often as plain BM25's and plain dense's.
    folder = EVAL / knowledge if knowledge else None
    tallies = evaluate(EVAL / name, folder, embedder=embedder, cache_dir=cache_dir)
    figures = _figures(tallies["policy-qa"])
    assert figures["violations"] == 0
    for baseline in ("plain BM25", "plain dense"):
        plain = _figures(tallies[baseline])
        for figure in ("hit@1", "hit@3"):
            assert figures[figure] >= plain[figure], f"{name}: {figure} behind {baseline}"
    for figure, minimum in minimums.items():
        assert figures[figure] >= minimum, f"{name}: {figure} {figures[figure]} < {minimum}"
