"""`policy-qa ask`'s contract, through a real subprocess: the readable answer and its JSON (the
fields, quotes verbatim at their offsets, paths, a table row's header row, control characters
escaped on the terminal only), --full, --as previews of the Discord and Slack payloads, questions
streamed on stdin, --min-confidence, and exit code 2 for an unusable question."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import run
from tests.conftest import ROOT

KASPERSKY = "Why was Kaspersky banned?"
FIELDS = {"question", "answered", "text", "citations", "caveat"}
FIELDS |= {"understood_as", "context"}  # added: how a follow-up was read, and what it was read as
CITATION_FIELDS = {
    *("quote", "path", "start", "end", "source", "locator", "speaker", "score"),
    *("page", "header"),  # added: the page of a PDF's quote, a table row's header row
    "quoted",  # added: a quotation in the document, not its own words (speaker is then its voice)
}


def test_ask_json_is_one_object_with_the_contract_fields(env: dict[str, str]) -> None:
    result = run(env, "ask", "--json", "Why was Kaspersky banned?")
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.decode().splitlines()
    answer = json.loads(line)
    assert set(answer) == FIELDS and answer["answered"] is True
    assert 1 <= len(answer["citations"]) <= 3
    for c in answer["citations"]:
        assert set(c) == CITATION_FIELDS
        assert c["path"] == "knowledge/kaspersky-twitter-article.md"  # relative to the cwd
        with open(ROOT / c["path"], encoding="utf-8") as f:
            assert f.read()[c["start"] : c["end"]] == c["quote"]
        assert isinstance(c["score"], float) and c["speaker"] in (None, "Eugene Kaspersky")


def test_ask_prints_a_readable_answer(env: dict[str, str]) -> None:
    result = run(env, "ask", "Why was Kaspersky banned?")
    assert result.returncode == 0
    out = result.stdout.decode()
    assert out.startswith("From the documents:") and "paragraph" in out and "TechGenyz" in out


def test_ask_is_compact_and_full_shows_every_quote_whole(env: dict[str, str]) -> None:
    compact = run(env, "ask", KASPERSKY).stdout.decode()
    full = run(env, "ask", "--full", KASPERSKY).stdout.decode()
    answer = json.loads(run(env, "ask", "--json", KASPERSKY).stdout)
    quotes = [c["quote"] for c in answer["citations"]]
    assert len(quotes) == 3 and compact == answer["text"] + "\n"  # the JSON's text is what it shows
    assert quotes[0] in compact.replace("**", "")  # the first quote whole, the others shortened
    assert all(q not in compact.replace("**", "") for q in quotes[1:])
    source = (
        "TechGenyz, “Eugene Kaspersky Writes an Open Letter to Twitter's Jack Dorsey Over Ad Ban”"
    )
    assert compact.count(source) == 1 and compact.endswith(
        f"Source: {source}, Oindrila Banerjee, 2018-04-20\n"
    )
    assert all(q in full.replace("**", "") for q in quotes) and full.count(source) == 3


def test_the_headline_answer_is_one_discord_message_and_one_slack_section_per_quote(
    env: dict[str, str],
) -> None:
    [discord] = json.loads(run(env, "ask", "--as", "discord", KASPERSKY).stdout)
    content = discord["content"]
    assert len(content) < 2000 and discord["flags"] == 4  # no link previews
    assert content.index("**kindly be specific as to the reasoning behind this ban**") < 400
    [slack] = json.loads(run(env, "ask", "--as", "slack", KASPERSKY).stdout)
    sections = [b["text"]["text"] for b in slack["blocks"] if b["type"] == "section"]
    assert len(sections) == 3 and "*kindly be specific as to the reasoning" in sections[0]
    assert slack["blocks"][-1]["elements"][0]["text"]["text"] == "Show full quotes"
    [full] = json.loads(run(env, "ask", "--as", "slack", "--full", KASPERSKY).stdout)
    assert "actions" not in [b["type"] for b in full["blocks"]]


def test_ask_as_a_platform_prints_payloads_without_a_token(env: dict[str, str]) -> None:
    clean = {k: v for k, v in env.items() if "TOKEN" not in k and "SECRET" not in k}
    for platform in ("discord", "slack"):
        result = run(clean, "ask", "--as", platform, "Why was Kaspersky banned?")
        assert result.returncode == 0, result.stderr
        payloads = json.loads(result.stdout)
        assert isinstance(payloads, list) and payloads


def test_paths_outside_the_working_directory_are_absolute(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = run(env, "ask", "--json", "Why was Kaspersky banned?", cwd=tmp_path)
    paths = {c["path"] for c in json.loads(result.stdout)["citations"]}
    assert paths == {str(ROOT / "knowledge" / "kaspersky-twitter-article.md")}


def test_control_characters_are_shown_in_the_terminal_and_kept_verbatim_in_json(
    env: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "knowledge"
    folder.mkdir()
    (folder / "odd\nname.md").write_text(
        "# Parking\n\nThe car park \x1b[2Jopens at seven in the morning.\n", encoding="utf-8"
    )
    question = "When does the car park open?"
    text = run(env, "--knowledge", str(folder), "ask", question, cwd=tmp_path).stdout.decode()
    assert "\x1b" not in text and "\\x1b[2Jopens at seven" in text and "odd\\nname.md:" in text
    raw = run(env, "--knowledge", str(folder), "ask", "--json", question, cwd=tmp_path)
    (citation,) = json.loads(raw.stdout)["citations"]
    assert "\x1b[2Jopens" in citation["quote"] and citation["path"] == "knowledge/odd\nname.md"
    with open(tmp_path / citation["path"], encoding="utf-8") as f:
        assert f.read()[citation["start"] : citation["end"]] == citation["quote"]


def test_a_quoted_table_row_carries_its_header_row(env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "knowledge"
    folder.mkdir()
    (folder / "equipment.md").write_text(
        "# Equipment\n\nEvery new starter gets a laptop and monitors by role.\n\n"
        "| Role | Laptop | Monitors |\n|---|---|---|\n"
        "| Engineers | Dell XPS 15 with 32 GB RAM | Two 27-inch monitors |\n"
        "| Sales | MacBook Air | One 24-inch monitor |\n",
        encoding="utf-8",
    )
    question = "Which laptop do engineers get?"
    raw = run(env, "--knowledge", str(folder), "ask", "--json", question, cwd=tmp_path)
    first = json.loads(raw.stdout)["citations"][0]
    assert first["quote"] == "| Engineers | Dell XPS 15 with 32 GB RAM | Two 27-inch monitors |"
    header = first["header"]
    assert header["quote"] == "| Role | Laptop | Monitors |"
    text = (folder / "equipment.md").read_text(encoding="utf-8")
    assert text[header["start"] : header["end"]] == header["quote"]
    shown = run(env, "--knowledge", str(folder), "ask", question, cwd=tmp_path).stdout.decode()
    assert "1. | Role | Laptop | Monitors |\n   | Engineers | Dell XPS 15" in shown


def test_stdin_stream_gives_one_json_line_per_line(env: dict[str, str]) -> None:
    lines = [
        b"Why was Kaspersky banned?",
        b"",
        b"What is the weather in Moscow?",
        b"bad \xff\xfe bytes and \x00 control \x1b[31m chars",
        b"x" * 100_000,
        "\u202eمرحبا 🤖".encode(),
    ]
    result = run(env, "ask", "--json", "-", stdin=b"\n".join(lines) + b"\n")
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(answers) == len(lines)
    assert all(set(a) == FIELDS for a in answers)
    assert answers[0]["answered"] and not answers[1]["answered"] and not answers[2]["answered"]
    assert answers[2]["citations"] == [] and "don't cover" in answers[2]["text"]
    assert "100,000 characters" in answers[4]["text"]
    assert b"Traceback" not in result.stderr


def test_stdin_answers_are_flushed_one_by_one(env: dict[str, str]) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "adapters.cli", "ask", "--json", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    ) as proc:
        assert proc.stdin and proc.stdout
        try:
            proc.stdin.write(b"Why was Kaspersky banned?\n")
            proc.stdin.flush()
            first = json.loads(proc.stdout.readline())  # arrives while stdin is still open
            assert first["answered"]
        finally:
            proc.stdin.close()
            proc.wait(timeout=60)


@pytest.mark.parametrize("question", ["", "   ", "y" * 100_000])
def test_unusable_question_is_a_clear_error_not_a_traceback(
    env: dict[str, str], question: str
) -> None:
    result = run(env, "ask", question)
    assert result.returncode == 2
    assert result.stderr.decode().startswith("policy-qa: ") and b"Traceback" not in result.stderr
    as_json = run(env, "ask", "--json", question)
    assert as_json.returncode == 2 and json.loads(as_json.stdout)["answered"] is False


def test_min_confidence_answers_more_and_a_bad_value_is_named(env: dict[str, str]) -> None:
    offtopic = "What is the capital of France?"
    strict = json.loads(run(env, "ask", "--json", offtopic).stdout)
    eager = json.loads(run(env, "--min-confidence", "0", "ask", "--json", offtopic).stdout)
    assert not strict["answered"] and eager["answered"] and eager["citations"]
    from_env = run({**env, "POLICY_QA_MIN_CONFIDENCE": "0"}, "ask", "--json", offtopic)
    assert json.loads(from_env.stdout)["answered"]

    out_of_range = run(env, "ask", "--min-confidence", "2", offtopic)
    assert out_of_range.returncode == 2
    assert b"--min-confidence: must be a number from 0 to 1, not '2'" in out_of_range.stderr
    bad_env = run({**env, "POLICY_QA_MIN_CONFIDENCE": "high"}, "ask", offtopic)
    assert bad_env.returncode == 4 and b"Traceback" not in bad_env.stderr
    assert b"POLICY_QA_MIN_CONFIDENCE must be a number from 0 to 1, not 'high'" in bad_env.stderr
