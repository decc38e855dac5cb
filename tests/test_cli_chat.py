"""`policy-qa chat`, through a real subprocess: it answers until end of input, and reads a
follow-up with the question before it until /new."""

from __future__ import annotations

from tests.cli_helpers import run
from tests.conftest import ROOT


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
