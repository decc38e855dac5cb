"""`policy-qa report`: problem questions grouped by meaning with the real model, shares, votes,
citations; the HTML page as headless Chromium shows it."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.report import COLOURS, since
from assistant import Assistant
from assistant.embedding import Embedder, default_embedder
from assistant.records import open_recorder
from assistant.records.base import AnswerRecord, CitedPassage, quote_digest
from assistant.records.report import GROUP_SIMILARITY, build_report, fold, group_questions
from assistant.records.sql import SQLStore
from tests.conftest import ROOT
from tests.missing import missing
from tests.test_records import empty_postgres

pytest_plugins = ["tests.postgres_server"]

DOG = "Can I bring my dog to work?"
DOG_AGAIN = "can i bring my dog to work"  # the same question, other case, no question mark
BANNED = "Why was Kaspersky banned?"


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return default_embedder()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SQLStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/records.sqlite3"
    else:
        url = empty_postgres(request.getfixturevalue("postgres_url"))
    opened = SQLStore.open(url)
    yield opened
    opened.close()


def asked(question: str, outcome: str = "refused", minutes_ago: int = 5) -> AnswerRecord:
    return AnswerRecord(
        uuid.uuid4().hex,
        datetime.now(UTC) - timedelta(minutes=minutes_ago),
        "slack",
        None,
        question,
        outcome,  # type: ignore[arg-type]
        None,
        None,
        (),
    )


def test_the_same_question_reworded_groups_and_a_different_one_does_not(
    embedder: Embedder,
) -> None:
    questions = [
        DOG,
        "Can I bring my cat to work?",  # 0.78 to DOG: another question
        DOG_AGAIN,
        "Hi! Could you please tell me if I can bring my dog to work? Thanks!",
        "May I bring my dog to work?",  # 0.96
        "Why did Twitter ban Kaspersky?",
        BANNED,  # 0.87 to the one above
        "When was Kaspersky founded?",  # 0.79 to BANNED: another question
    ]
    groups = group_questions(questions, embedder.embed, GROUP_SIMILARITY)
    assert [[questions[i] for i in g] for g in groups] == [
        [DOG, DOG_AGAIN, questions[3], questions[4]],
        ["Can I bring my cat to work?"],
        ["Why did Twitter ban Kaspersky?", BANNED],
        ["When was Kaspersky founded?"],
    ]
    assert fold("Hi! CAN I bring my dog  to work??") == fold(DOG_AGAIN) == DOG_AGAIN


def test_a_refused_question_asked_twice_is_one_group_of_two(
    store: SQLStore, embedder: Embedder
) -> None:
    plain = asked(BANNED, "answered")
    store.write([asked(DOG), asked(DOG_AGAIN, minutes_ago=1), plain, asked("Hello!", "other")])
    report = build_report(store, datetime.now(UTC) - timedelta(days=7), lambda: embedder)
    (group,) = report.problem_groups
    assert group.count == 2 and group.refused == 2
    assert set(group.examples) == {DOG, DOG_AGAIN}
    assert report.outcomes == {"answered": 1, "unsure": 0, "refused": 2, "other": 1}
    assert report.share("refused") == pytest.approx(2 / 3)  # greetings are not questions


def test_groups_come_most_asked_first_with_at_most_three_examples(
    store: SQLStore, embedder: Embedder
) -> None:
    wordings = [DOG, DOG_AGAIN, "May I bring my dog to work?", "CAN I BRING MY DOG TO WORK?!"]
    many = [asked(w, minutes_ago=i) for i, w in enumerate(wordings * 2 + [DOG])]
    unsure = [asked("When was Kaspersky founded?", "unsure", minutes_ago=i) for i in range(3)]
    store.write([*unsure, *many])
    report = build_report(store, datetime.now(UTC) - timedelta(days=1), lambda: embedder)
    first, second = report.problem_groups
    assert first.count == 9 and len(first.examples) == 3 and set(first.examples) < set(wordings)
    assert first.examples[0] == DOG  # asked 3 times; the others twice
    assert (second.count, second.unsure, second.refused) == (3, 3, 0)


class Counting:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.model_id, self.texts = inner, inner.model_id, 0

    def embed(self, texts: Any, progress: Any = None) -> Any:
        self.texts += len(texts)
        return self.inner.embed(texts)


def test_a_wording_is_embedded_once_across_reports(store: SQLStore, embedder: Embedder) -> None:
    store.write([asked(DOG), asked(DOG_AGAIN), asked("Can I bring my cat to work?")])
    week = datetime.now(UTC) - timedelta(days=7)
    counting = Counting(embedder)
    first = build_report(store, week, lambda: counting)
    assert counting.texts == 2  # two questions: the dog's two wordings fold to one
    store.write([asked("Can I bring my cat to work?"), asked("May I bring my dog to work?")])
    second = build_report(store, week, lambda: counting)
    assert counting.texts == 3  # only the new wording
    assert [g.count for g in first.problem_groups] == [2, 1]
    assert [g.count for g in second.problem_groups] == [3, 2]


def test_a_store_that_cannot_keep_vectors_still_gets_its_report(
    store: SQLStore, embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    class ReadOnly:
        def __getattr__(self, name: str) -> Any:
            return getattr(store, name)

        def cache_vectors(self, vectors: Any) -> None:
            raise PermissionError("read-only")

    store.write([asked(DOG), asked(DOG_AGAIN)])
    caplog.set_level(logging.INFO, logger="assistant.records")
    report = build_report(ReadOnly(), datetime.now(UTC) - timedelta(days=7), lambda: embedder)
    assert [g.count for g in report.problem_groups] == [2]
    assert "Could not keep the question vectors" in caplog.text


def test_no_problems_loads_no_model(store: SQLStore) -> None:
    store.write([asked(BANNED, "answered")])

    def no_model() -> Embedder:
        raise AssertionError("the model was loaded with nothing to group")

    report = build_report(store, datetime.now(UTC) - timedelta(days=1), no_model)
    assert report.problem_groups == [] and report.outcomes["answered"] == 1


def test_a_passage_is_quoted_only_while_its_file_still_holds_it(
    store: SQLStore, tmp_path: Path
) -> None:
    document = tmp_path / "policy.md"
    document.write_text("# Pets\n\nDogs are welcome on Fridays.\n", encoding="utf-8")
    start = document.read_text(encoding="utf-8").index("Dogs")
    quote = "Dogs are welcome on Fridays."
    cited = CitedPassage(str(document), start, start + len(quote), 0.9, quote_digest(quote))
    record = asked("Can dogs come in?", "answered")
    store.write([replace(record, citations=(cited,))])
    week = datetime.now(UTC) - timedelta(days=7)
    (passage,) = build_report(store, week, default_embedder).cited_passages
    assert passage.quote == quote and passage.answers == 1
    document.write_text("# Pets\n\nCats are welcome on Fridays.\n", encoding="utf-8")
    (passage,) = build_report(store, week, default_embedder).cited_passages
    assert passage.quote is None


def test_since_reads_times_ago_and_dates() -> None:
    now = datetime.now(UTC)
    assert abs(since("7d") - (now - timedelta(days=7))) < timedelta(seconds=5)
    assert abs(since("24h") - (now - timedelta(hours=24))) < timedelta(seconds=5)
    assert abs(since("2w") - (now - timedelta(days=14))) < timedelta(seconds=5)
    assert since("2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    assert since("2026-11-01T10:00+02:00") == datetime(2026, 11, 1, 8, tzinfo=UTC)
    for bad in ("yesterday", "7", "d7", "2026-13-01", ""):
        with pytest.raises(argparse.ArgumentTypeError, match="must be a time ago"):
            since(bad)


# The command, end to end: real answers recorded by the real recorder, read by a subprocess.


@pytest.fixture(scope="module")
def recorded(assistant: Assistant, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An environment whose default database holds real answers: a refused question asked
    twice, a question answered plainly, a greeting and a question that tries to be HTML."""
    data = tmp_path_factory.mktemp("xdg-data")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("POLICY_QA_")},
        "XDG_DATA_HOME": str(data),
        "PYTHONPATH": str(ROOT),
    }
    recorder = open_recorder(env)
    answers = [assistant.answer(q) for q in (DOG, DOG_AGAIN, BANNED, "hi", HOSTILE)]
    assert [a.answered for a in answers] == [False, False, True, False, False]
    ids = [recorder.record_answer(a, platform="slack", user_id="U1") for a in answers]
    recorder.record_vote(ids[2], platform="slack", user_id="U2", up=True)
    assert recorder.flush(timeout=60)
    recorder.close()
    return env


HOSTILE = "<img src=x onerror=\"document.title='owned'\"> Can I bring my <b>dog</b>?"


def report(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "adapters.cli", "report", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def test_report_json_lists_the_refused_question_asked_twice_as_one_group(
    recorded: dict[str, str],
) -> None:
    result = report(recorded, "--json", "--since", "24h")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    groups = {tuple(sorted(g["examples"])): g for g in out["problem_groups"]}
    dog = groups[tuple(sorted([DOG, DOG_AGAIN]))]
    assert (dog["count"], dog["refused"]) == (2, 2)
    assert not any(BANNED in g["examples"] for g in out["problem_groups"])  # answered plainly
    assert out["outcomes"] == {"answered": 1, "unsure": 0, "refused": 3, "other": 1}
    assert out["votes"] == {"up": 1, "down": 0}
    (document,) = out["cited_documents"]
    assert document["path"].endswith("knowledge/kaspersky-twitter-article.md")
    article = (ROOT / "knowledge" / "kaspersky-twitter-article.md").read_text(encoding="utf-8")
    for passage in out["cited_passages"]:
        assert article[passage["start"] : passage["end"]] == passage["quote"]
    assert out["days"][-1]["refused"] == 3


def test_report_text_by_default(recorded: dict[str, str]) -> None:
    result = report(recorded)
    assert result.returncode == 0, result.stderr
    assert "Questions: 4: answered 1 (25%), answered with a caveat 0 (0%), refused 3 (75%)." in (
        result.stdout
    )
    assert f"asked 2x (2 refused)\n        “{DOG}”\n        “{DOG_AGAIN}”" in result.stdout
    assert "knowledge/kaspersky-twitter-article.md" in result.stdout


def test_report_help_names_the_default_database_and_the_environment(
    recorded: dict[str, str],
) -> None:
    result = report(recorded, "--help")
    path = Path(recorded["XDG_DATA_HOME"]) / "policy-qa" / "records.sqlite3"
    assert result.returncode == 0 and f"default: {path}" in result.stdout
    for name in ("POLICY_QA_DATABASE_URL", "POLICY_QA_RECORD", "POLICY_QA_RETENTION_DAYS"):
        assert name in result.stdout


def test_report_without_records_says_so(tmp_path: Path, recorded: dict[str, str]) -> None:
    env = {**recorded, "XDG_DATA_HOME": str(tmp_path)}
    result = report(env, "--json")
    assert result.returncode == 0 and json.loads(result.stdout)["questions"] == 0
    assert "nothing recorded yet" in result.stderr
    assert list(tmp_path.iterdir()) == []  # reading made no database


@pytest.mark.parametrize(
    ("setting", "code", "message"),
    [
        (
            {"POLICY_QA_RETENTION_DAYS": "soon"},
            4,
            "POLICY_QA_RETENTION_DAYS must be a whole number",
        ),
        ({"POLICY_QA_DATABASE_URL": "mysql://x/y"}, 4, "must be sqlite:///PATH or postgresql"),
        (
            {"POLICY_QA_DATABASE_URL": "postgresql://u:secret@127.0.0.1:1/x"},
            4,
            "Cannot read the records in postgresql+psycopg://u:***@127.0.0.1:1/x",
        ),
    ],
)
def test_report_with_a_setting_it_cannot_use_says_why_in_one_line(
    recorded: dict[str, str], setting: dict[str, str], code: int, message: str
) -> None:
    result = report({**recorded, **setting})
    assert result.returncode == code and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "secret" not in result.stderr


def test_report_rejects_a_since_it_cannot_read(recorded: dict[str, str]) -> None:
    result = report(recorded, "--since", "last tuesday")
    assert result.returncode == 2 and "must be a time ago" in result.stderr


# The HTML page in a real browser.


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    missing("Chromium not found (the HTML report is checked in it)", "chromium")


def browse(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        chromium(),
        *("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"),
        *("--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"),
        f"--user-data-dir={profile}",
        *args,
        page.as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_the_html_report_is_one_private_file_a_browser_shows_at_a_glance(
    recorded: dict[str, str], tmp_path: Path
) -> None:
    from PIL import Image

    page = tmp_path / "report.html"
    result = report(recorded, "--html", str(page))
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(page.stat().st_mode) == 0o600  # it quotes people's questions
    source = page.read_text(encoding="utf-8")
    # Self-contained: nothing to fetch, nothing to run (the SVG namespace is a name, not a fetch).
    tags = (
        r"<(script|link|img|iframe|object|embed|style[^>]*src)\b|<[^>]*\s(src|href)=|url\(|@import"
    )
    assert not re.search(tags, source, re.I)

    dom = browse(page, tmp_path / "profile", "--dump-dom")
    assert dom.returncode == 0, dom.stderr
    text = re.sub(r"<[^>]+>", " ", dom.stdout)
    assert "asked 2×" in text and DOG in text and DOG_AGAIN in text
    # The hostile question is shown as the text it is, and did nothing.
    assert "&lt;img src=x onerror=" in dom.stdout and "owned" not in dom.stdout.split("</title>")[0]
    assert dom.stdout.count("<img") == 0 and "<b>dog</b>" not in dom.stdout
    today = datetime.now(UTC).date().isoformat()
    bars = re.findall(
        rf'<rect class="bar (\w+)" data-day="{today}"[^>]*height="([\d.]+)"', dom.stdout
    )
    heights = {outcome: float(h) for outcome, h in bars}
    assert set(heights) == {"answered", "refused"}
    assert heights["refused"] == pytest.approx(3 * heights["answered"], rel=0.01)  # 3 to 1

    shot = tmp_path / "report.png"
    result = browse(page, tmp_path / "profile", "--window-size=1000,1200", f"--screenshot={shot}")
    assert result.returncode == 0 and shot.exists(), result.stderr
    image = Image.open(shot).convert("RGB")
    counts = {colour: n for n, colour in image.getcolors(maxcolors=1 << 20) or []}

    def pixels(hex_colour: str) -> int:
        return int(counts.get(tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)), 0))

    # Today's bar is drawn: refused three times the area of answered, as the figures say.
    refused, answered = pixels(COLOURS["refused"]), pixels(COLOURS["answered"])
    assert answered > 500 and refused > 3 * 500
    assert 2.0 < refused / answered < 4.0
    assert pixels(COLOURS["unsure"]) < 400  # its swatches only: nothing answered with a caveat
