"""`policy-qa --help` and each command's --help, through a real subprocess: the commands, each
one's own options, the settings `serve` reads, and one line of exit codes."""

from __future__ import annotations

import re

import pytest

from tests.cli_helpers import run


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
