"""The bundled article saved as DOCX (pandoc), PDF (LibreOffice) and HTML (pandoc with a site's
template) answers the dev questions as well as the Markdown file, within one question, with every
citation verifiable in the extracted text and no site chrome or call to action quoted."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.embedding import Embedder, default_embedder
from assistant.evaluation import Tally, read_eval_file, verbatim_violations
from tests.conftest import DATA, ROOT

FORMATS = DATA / "formats"
ARTICLE = {
    "md": ROOT / "knowledge" / "kaspersky-twitter-article.md",
    "docx": FORMATS / "article.docx",
    "pdf": FORMATS / "article.pdf",
    "html": FORMATS / "article.site.html",
}
# What must never be quoted: the site template's chrome, and the article's own trailing calls
# to action (copied from the original page into the Markdown file too).
NEVER_QUOTED = [
    "cookies", "Share this", "Related articles", "All rights reserved", "Sign up",
    "Subscribe", "Claim the Offer", "sponsored content", "holiday season",
]  # fmt: skip


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return default_embedder()


def _run(folder: Path, cache: Path, embedder: Embedder) -> tuple[Tally, list[str]]:
    (eval_set,) = read_eval_file(DATA / "kaspersky-dev.jsonl", folder, folder)
    assistant = Assistant.load(folder, embedder=embedder, cache_dir=cache)
    tally, quotes = Tally(), []
    texts: dict[str, str | None] = {}
    for question in eval_set.questions:
        answer = assistant.answer(question.text)
        tally.violations += verbatim_violations(answer, texts)  # as `policy-qa text` reads it
        tally.add(question, [c.quote for c in answer.citations], answer.answered, answer.sure)
        quotes += [c.quote for c in answer.citations]
    assistant.close()
    return tally, quotes


def test_the_article_in_every_format_answers_as_well_as_markdown(
    tmp_path: Path, embedder: Embedder
) -> None:
    results = {}
    for name, source in ARTICLE.items():
        folder = tmp_path / name
        folder.mkdir()
        shutil.copy(source, folder / source.name)
        results[name] = _run(folder, tmp_path / "cache", embedder)
    markdown, _ = results["md"]
    assert markdown.in_scope == 15 and markdown.hit3 >= 9  # the baseline is itself sane
    for name, (tally, quotes) in results.items():
        assert abs(tally.hit1 - markdown.hit1) <= 1, (name, tally.figures())
        assert abs(tally.hit3 - markdown.hit3) <= 1, (name, tally.figures())
        assert tally.violations == 0, name
        assert not [w for w in NEVER_QUOTED if any(w.lower() in q.lower() for q in quotes)], name
