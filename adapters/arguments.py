"""The `policy-qa` command's arguments: each subcommand's own options, the environment it reads
and the exit codes, as its --help shows them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from adapters import report
from assistant.core import ANSWER_THRESHOLD, probability

EXIT_CODES = (
    'exit codes: 0 done (also "the documents don\'t cover this"), 1 internal error (a bug), '
    "2 bad usage or question, 3 knowledge folder unusable, 4 setting or token rejected"
)

# The environment each command reads, named in its --help.
_DOCUMENTS = [
    (
        "POLICY_QA_KNOWLEDGE",
        "the folder of documents (--knowledge); default: the bundled knowledge/",
    ),
    ("POLICY_QA_CACHE", "the index cache, yours alone; default: ~/.cache/policy-qa"),
    ("POLICY_QA_MAX_FILE_MB", "files larger than this are skipped with a warning; default: 20"),
    ("POLICY_QA_EMBEDDER", "onnx (default) or sentence-transformers: the same model"),
    ("POLICY_QA_INDEX_DIR", "an index published by `index --into`: answer from it, embed nothing"),
]
_ANSWERS = [
    (
        "POLICY_QA_MIN_CONFIDENCE",
        f"how sure it must be before quoting (--min-confidence); default: {ANSWER_THRESHOLD}",
    ),
]
_SERVE = [
    ("DISCORD_TOKEN", "discord: the bot's token (required)"),
    ("DISCORD_GUILD_ID", "discord: a server to register /ask in at once (optional)"),
    ("SLACK_BOT_TOKEN", "slack: the bot token, xoxb-… (required)"),
    ("SLACK_SIGNING_SECRET", "slack over HTTP: verifies requests come from Slack (required)"),
    ("SLACK_APP_TOKEN", "slack --socket: the app-level token, xapp-… (required)"),
    ("PORT", "slack over HTTP: the port (--port); default: 3000"),
    ("SLACK_API_URL", "slack: the Web API's address; default: https://slack.com/api/"),
    (
        "POLICY_QA_REDIS_URL",
        "redis://host:6379/0: what the workers share: events seen, limits, follow-ups",
    ),
    ("POLICY_QA_REDIS_PREFIX", "the Redis keys' prefix; default: policy-qa:"),
    ("POLICY_QA_CONFIG", "knowledge sets per channel (--config); default: ./policy-qa.toml if any"),
]


def _epilog(*variables: list[tuple[str, str]]) -> str:
    width = max(len(name) for group in variables for name, _ in group)
    lines = [f"  {name:<{width}}  {what}" for group in variables for name, what in group]
    return "environment:\n" + "\n".join(lines) + "\n\n" + EXIT_CODES + "\n"


def _knowledge_option(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument(
        "--knowledge",
        metavar="DIR",
        default=default,
        help="folder of documents to answer from (.md, .txt); default: $POLICY_QA_KNOWLEDGE or the bundled knowledge/",
    )


def _probability(text: str) -> float:
    try:
        return probability(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _confidence_option(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument(
        "--min-confidence",
        metavar="P",
        type=_probability,
        default=default,
        help="how sure (0-1) the assistant must be that the documents answer before it quotes "
        f"them; lower answers more and refuses less; default: $POLICY_QA_MIN_CONFIDENCE or "
        f"{ANSWER_THRESHOLD}",
    )


def _full_option(parser: argparse.ArgumentParser, more: str = "") -> None:
    parser.add_argument(
        "--full",
        action="store_true",
        help="show every quote whole, each with its full source (default: the first whole, the "
        f"others shortened to the words around their answers){more}",
    )


def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit() and 0 < int(text) < 65536):
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535, not {text!r}")
    return int(text)


def _workers(text: str) -> int:
    if not (text.isascii() and text.isdigit() and 0 < int(text) <= 64):
        raise argparse.ArgumentTypeError(
            f"must be a number of processes from 1 to 64, not {text!r}"
        )
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="policy-qa",
        description="Answer questions about a folder of documents with verbatim, cited quotes.",
        epilog=_epilog(_DOCUMENTS, _ANSWERS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _knowledge_option(parser, None)
    _confidence_option(parser, None)
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more (-vv for debug)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(
        name: str, help_text: str, *variables: list[tuple[str, str]], answers: bool = True
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=_epilog(_DOCUMENTS, *([_ANSWERS] if answers else []), *variables),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _knowledge_option(sub, argparse.SUPPRESS)
        if answers:
            _confidence_option(sub, argparse.SUPPRESS)
        else:
            sub.set_defaults(min_confidence=None)
        return sub

    ask = command("ask", "answer one question, or one per line of standard input with '-'")
    ask.add_argument("question", help="the question, or - to read questions from standard input")
    ask.add_argument("--json", action="store_true", help="print one JSON object per question")
    _full_option(ask, "; with --as slack, what the Show full quotes button posts")
    ask.add_argument(
        "--as",
        dest="platform",
        choices=["discord", "slack"],
        help="print, as JSON, the exact message payloads that platform's bot would send (no token, no network)",
    )
    command(
        "chat",
        "ask questions interactively; each follows the one before until /new "
        "(Ctrl-D or 'quit' to leave)",
    )
    text = commands.add_parser(
        "text",
        help="print a document's text exactly as quoted: citations' offsets index into it",
        description="Print a document's text exactly as policy-qa reads it, UTF-8, nothing else: "
        "for a citation of it, text[start:end] == quote. For .md and .txt that is the file as "
        "open(path, encoding='utf-8').read() gives it; for other formats, the text extracted "
        "from it, which is the same for the same file.",
        epilog=_epilog([_DOCUMENTS[2]]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    text.add_argument("path", type=Path, help="the document")
    index = command(
        "index",
        "build or refresh the index cache and say what was indexed; with --into, publish it "
        "for other processes to answer from",
        answers=False,
    )
    index.add_argument(
        "--into",
        metavar="DIR",
        help="publish the index in DIR, where `serve`, `ask` and `chat` load it without "
        "embedding anything when $POLICY_QA_INDEX_DIR names it; default: $POLICY_QA_INDEX_DIR",
    )
    index.add_argument(
        "--watch",
        action="store_true",
        help="with --into: keep following the documents and publish again when they change",
    )
    evaluate = command(
        "eval", "measure answer quality on a question file (JSON lines or SQuAD JSON)"
    )
    evaluate.add_argument(
        "file", type=Path, help="questions: {'q', 'gold'} JSON lines, or SQuAD-format JSON"
    )
    evaluate.add_argument("--json", action="store_true", help="print the figures as JSON")
    evaluate.add_argument(
        "--misses", action="store_true", help="list the questions each system got wrong"
    )
    serve = command(
        "serve",
        "run a chat bot: discord (DISCORD_TOKEN) or slack (SLACK_BOT_TOKEN, ...); it follows "
        "the knowledge folder, answering from each document as it now reads",
        _SERVE,
    )
    serve.add_argument("platform", choices=["discord", "slack"])
    serve.add_argument(
        "--socket",
        action="store_true",
        help="slack: use Socket Mode (SLACK_APP_TOKEN) instead of HTTP",
    )
    serve.add_argument(
        "--host",
        default=None,
        help="slack over HTTP: the address to listen on; default: every interface",
    )
    serve.add_argument(
        "--port",
        type=_port,
        default=None,
        help="slack over HTTP: the port to listen on; default: $PORT, else 3000",
    )
    serve.add_argument(
        "--workers",
        type=_workers,
        default=1,
        metavar="N",
        help="slack over HTTP: N processes answering on the one port (default 1); set "
        "POLICY_QA_REDIS_URL so that they share events seen, limits and follow-ups' context",
    )
    serve.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help="knowledge sets: [sets.NAME] folder = DIR and [channels] ID = NAME, each channel "
        "answered from its set (README, Knowledge sets); default: $POLICY_QA_CONFIG, else "
        "./policy-qa.toml if it exists",
    )
    summary = "what the bots' recorded questions say: problem questions by meaning, answered and refused per day, votes, citations"  # fmt: skip
    report.add_arguments(
        commands.add_parser(
            "report",
            help=summary,
            description=f"{summary}. Reads the records database (needs no bot running).",
            epilog=_epilog(report.ENVIRONMENT),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )
    return parser
