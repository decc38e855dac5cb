"""`policy-qa eval FILE`, through a real subprocess: it scores a question file, warns of gold
phrases the documents lack, and names a malformed line (exit code 2) rather than guess at it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_helpers import run


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ('{"q": "Why?"}', '"gold" is missing'),  # would silently become "must refuse"
        ('{"q": "Why?", "gold": "ban"}', "list of phrases"),  # would match letter by letter
        ('{"q": "Why?", "gold": []}', "list of phrases"),
        ('{"q": 7, "gold": null}', '"q" must be'),
        ("not json", "not an eval line"),
    ],
)
def test_a_malformed_eval_line_is_named_not_guessed(
    env: dict[str, str], tmp_path: Path, line: str, complaint: str
) -> None:
    questions = tmp_path / "questions.jsonl"
    questions.write_text('{"q": "Who wrote the letter?", "gold": null}\n' + line + "\n")
    result = run(env, "eval", str(questions))
    assert result.returncode == 2 and b"Traceback" not in result.stderr
    assert b"questions.jsonl:2: not an eval line" in result.stderr
    assert complaint.encode() in result.stderr


def test_eval_scores_a_file_and_warns_of_gold_phrases_the_documents_lack(
    env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "refunds.md").write_text(
        "Refunds are paid within 14 days of a return.\n\nShipping is free above 50 euros.\n"
    )
    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        '{"q": "How fast are refunds paid?", "gold": ["within 14 days"]}\n'
        '{"q": "Is shipping free?", "gold": ["free above 5O euros"]}\n'  # letter O, not zero
        '{"q": "What is the capital of France?", "gold": null}\n'
    )
    result = run(env, "--knowledge", str(tmp_path / "docs"), "eval", "--json", str(questions))
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)["policy-qa"]
    assert (figures["in_scope"], figures["out_of_scope"]) == (2, 1)
    assert figures["gold_not_in_documents"] == 1 and figures["hit@1"] == 0.5
    warning = result.stderr.decode()
    assert "1 answerable question(s) have no gold phrase" in warning
    assert "Is shipping free?" in warning and "How fast" not in warning
