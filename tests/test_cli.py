"""The `policy-qa` command's contract, through a real subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

KASPERSKY = "Why was Kaspersky banned?"
FIELDS = {"question", "answered", "text", "citations", "caveat"}
FIELDS |= {"understood_as", "context"}  # added: how a follow-up was read, and what it was read as
CITATION_FIELDS = {
    *("quote", "path", "start", "end", "source", "locator", "speaker", "score"),
    *("page", "header"),  # added: the page of a PDF's quote, a table row's header row
    "quoted",  # added: a quotation in the document, not its own words (speaker is then its voice)
}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    cache = tmp_path_factory.mktemp("cli-cache")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("POLICY_QA_")}
    return {**clean, "POLICY_QA_CACHE": str(cache)}


def run(
    env: dict[str, str], *args: str, stdin: bytes | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "adapters.cli", *args],
        input=stdin,
        capture_output=True,
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=cwd,
        timeout=120,
    )


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


def test_paths_outside_the_working_directory_are_absolute(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = run(env, "ask", "--json", "Why was Kaspersky banned?", cwd=tmp_path)
    paths = {c["path"] for c in json.loads(result.stdout)["citations"]}
    assert paths == {str(ROOT / "knowledge" / "kaspersky-twitter-article.md")}


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


def test_knowledge_folder_problems_are_exit_code_3(env: dict[str, str], tmp_path: Path) -> None:
    missing = run(env, "ask", "--knowledge", str(tmp_path / "nope"), "Why?")
    assert missing.returncode == 3 and b"does not exist" in missing.stderr
    empty = run(env, "ask", "--knowledge", str(tmp_path), "Why?")
    assert empty.returncode == 3 and b"no readable documents" in empty.stderr
    from_env = run({**env, "POLICY_QA_KNOWLEDGE": str(tmp_path / "nope")}, "ask", "Why?")
    assert from_env.returncode == 3
    for result in (missing, empty, from_env):
        assert b"Traceback" not in result.stderr


def test_a_binary_file_is_skipped_and_the_rest_answered(
    env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "policy.md").write_text(
        "Refunds are paid within 14 days of a return.", encoding="utf-8"
    )
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\x00\x00")
    result = run(env, "ask", "--json", "--knowledge", str(tmp_path), "How long do refunds take?")
    assert result.returncode == 0
    assert b"Skipped" in result.stderr and b"image.txt" in result.stderr
    assert (
        json.loads(result.stdout)["citations"][0]["quote"]
        == "Refunds are paid within 14 days of a return."
    )


def test_index_says_what_it_indexed(env: dict[str, str]) -> None:
    result = run(env, "index")
    assert result.returncode == 0
    out = result.stdout.decode()
    assert out.startswith("Indexed 1 document in ") and "20 passages;" in out
    assert "  kaspersky-twitter-article.md: 20 passages — TechGenyz" in out


def test_index_escapes_control_characters_in_file_names(
    env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "leave\npolicy.md").write_text("Staff get 25 days of leave.", encoding="utf-8")
    result = run(env, "--knowledge", str(tmp_path), "index")
    lines = result.stdout.decode().splitlines()
    assert result.returncode == 0 and len(lines) == 2
    assert lines[1].startswith("  leave\\npolicy.md: 1 passage — “Leave\\npolicy”")


def test_help_documents_commands_and_exit_codes(env: dict[str, str]) -> None:
    out = run(env, "--help").stdout.decode()
    for word in ("ask", "chat", "index", "eval", "serve", "exit codes", "POLICY_QA_KNOWLEDGE"):
        assert word in out
    assert run(env, "ask", "--help").returncode == 0
    assert run(env, "frobnicate").returncode == 2


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("ask", {"--knowledge", "--min-confidence", "--json", "--full", "--as"}),
        ("chat", {"--knowledge", "--min-confidence"}),
        ("index", {"--knowledge", "--into", "--watch"}),  # nothing is answered: no --min-confidence
        ("eval", {"--knowledge", "--min-confidence", "--json", "--misses"}),
        (
            "serve",
            {
                "--knowledge",
                "--min-confidence",
                "--socket",
                "--host",
                "--port",
                "--workers",
                "--config",
            },
        ),  # fmt: skip
        ("text", set()),
    ],
)
def test_each_command_s_help_lists_its_own_options_and_one_line_of_exit_codes(
    env: dict[str, str], command: str, options: set[str]
) -> None:
    result = run(env, command, "--help")
    out = result.stdout.decode()
    assert result.returncode == 0 and out.startswith(f"usage: policy-qa {command} ")
    listed = out.split("\noptions:\n", 1)[1].split("\n\n", 1)[0]
    assert set(re.findall(r"^  (--[a-z-]+)", listed, re.MULTILINE)) - {"--help"} == options
    [exit_codes] = [line for line in out.splitlines() if "exit codes" in line]
    assert all(f"{code} " in exit_codes for code in "01234")


def test_serve_help_lists_every_setting_each_mode_reads(env: dict[str, str]) -> None:
    out = run(env, "serve", "--help").stdout.decode()
    for word in (
        "DISCORD_TOKEN",
        "DISCORD_GUILD_ID",
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "PORT",
        "POLICY_QA_KNOWLEDGE",
        "POLICY_QA_CACHE",
        "POLICY_QA_MAX_FILE_MB",
        "POLICY_QA_MIN_CONFIDENCE",
        "--host",
        "--port",
        "exit codes:",
    ):
        assert word in out, word
    index_help = run(env, "index", "--help").stdout.decode()
    assert "--min-confidence" not in index_help and "DISCORD_TOKEN" not in index_help
    assert index_help.count("exit codes") == 1


def test_chat_answers_until_end_of_input(env: dict[str, str]) -> None:
    result = run(env, "chat", stdin=b"Why was Kaspersky banned?\n\nquit\n")
    assert result.returncode == 0
    assert "From the documents:" in result.stdout.decode()


def test_chat_reads_a_follow_up_with_the_question_before_until_new(env: dict[str, str]) -> None:
    handbook = str(ROOT / "benchmarks" / "own" / "handbook")
    turns = b"What is overtime paid at?\nwho has to agree it?\n/new\nwho has to agree it?\n"
    out = run(env, "--knowledge", handbook, "chat", stdin=turns).stdout.decode()
    first, after_new = out.split("New conversation.")
    assert "Taking this as: “What is overtime paid at?” — “who has to agree it?”" in first
    assert "agreed in advance by your line manager" in first
    assert "Taking this as" not in after_new


def test_ask_as_a_platform_prints_payloads_without_a_token(env: dict[str, str]) -> None:
    clean = {k: v for k, v in env.items() if "TOKEN" not in k and "SECRET" not in k}
    for platform in ("discord", "slack"):
        result = run(clean, "ask", "--as", platform, "Why was Kaspersky banned?")
        assert result.returncode == 0, result.stderr
        payloads = json.loads(result.stdout)
        assert isinstance(payloads, list) and payloads


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


def test_text_prints_the_document_exactly_as_citations_index_it(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "win.txt"
    path.write_bytes("\ufeffFirst rule.\r\n\r\nSecond rule: “ok”.\r\n".encode())
    result = run(env, "text", str(path))
    assert result.returncode == 0 and result.stderr == b""
    with open(path, encoding="utf-8") as f:
        assert result.stdout.decode("utf-8") == f.read()
    article = run(env, "ask", "--json", "Why was Kaspersky banned?")
    c = json.loads(article.stdout)["citations"][0]
    text = run(env, "text", c["path"]).stdout.decode("utf-8")
    assert text[c["start"] : c["end"]] == c["quote"]
    missing = run(env, "text", str(tmp_path / "nope.md"))
    assert missing.returncode == 2 and b"cannot read" in missing.stderr and not missing.stdout


def test_a_60_mb_file_is_skipped_in_seconds_and_little_memory(
    env: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "knowledge"
    folder.mkdir()
    (folder / "policy.md").write_text("Refunds take 14 days.", encoding="utf-8")
    with (folder / "dump.txt").open("w", encoding="utf-8") as f:
        line = "A line of a log that someone saved into the policies folder by mistake.\n"
        f.write(line * (60_000_000 // len(line)))
    # Reading the folder, timed and measured in a process of its own (the model is not what
    # is measured: loading it takes longer than the 5 s on a busy machine).
    # The peak is the process's own (VmHWM): ru_maxrss survives exec on Linux, so it would be
    # the test runner's.
    measure = (
        "import re, sys, time; from pathlib import Path; "
        "from assistant.documents import load_documents; started = time.monotonic(); "
        "names = [d.path.name for d in load_documents(Path(sys.argv[1]))]; "
        "peak = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1); "
        "print(names, time.monotonic() - started, peak)"
    )
    result = subprocess.run(
        [sys.executable, "-c", measure, str(folder)],
        capture_output=True,
        env={**env, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    names, seconds, peak_kb = result.stdout.decode().rsplit(" ", 2)
    assert names == "['policy.md']" and float(seconds) < 5 and int(peak_kb) < 600_000
    assert "dump.txt: it is 60.0 MB, over the 20.0 MB limit" in result.stderr.decode()
    indexed = run(env, "--knowledge", str(folder), "index")
    assert indexed.returncode == 0 and "Indexed 1 document" in indexed.stdout.decode()


def test_a_damaged_cache_file_still_answers_with_exit_0(
    env: dict[str, str], tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    fresh = {**env, "POLICY_QA_CACHE": str(cache)}
    assert run(fresh, "index").returncode == 0
    (path,) = cache.rglob("*.npz")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10
    path.write_bytes(bytes(data))
    result = run(fresh, "ask", "--json", "Why was Kaspersky banned?")
    assert result.returncode == 0 and json.loads(result.stdout)["answered"]
    assert result.stderr.decode().count("Discarded the index cache file") == 1
    assert run(fresh, "ask", "--json", "Why was Kaspersky banned?").stderr == b""
