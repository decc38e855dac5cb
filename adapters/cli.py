"""The `policy-qa` command: ask, chat, index, eval and serve, through the same core as the bots."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from adapters import report
from assistant import Answer, Assistant, PolicyQAError
from assistant.answers import full_text, normalize_question
from assistant.core import probability
from assistant.errors import ConfigurationError, KnowledgeError, QuestionError
from assistant.status import Status, plural
from assistant.text import printable

log = logging.getLogger(__name__)

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_KNOWLEDGE, EXIT_CONFIG = 0, 1, 2, 3, 4

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
        "how sure it must be before quoting (--min-confidence); default: 0.5",
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
    ("POLICY_QA_REDIS_URL", "redis://host:6379/0: events seen and limits shared by every worker"),
    ("POLICY_QA_REDIS_PREFIX", "the Redis keys' prefix; default: policy-qa:"),
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
        "them; lower answers more and refuses less; default: $POLICY_QA_MIN_CONFIDENCE or 0.5",
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
        "POLICY_QA_REDIS_URL so that they share events seen and limits",
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


def _load(args: argparse.Namespace, status: Status | None = None) -> Assistant:
    # A progress bar on a terminal; off one, a progress line in the log every few seconds.
    # A published index is loaded by those that answer; `index` builds (and publishes) one.
    return Assistant.load(
        args.knowledge,
        show_progress=sys.stderr.isatty(),
        min_confidence=args.min_confidence,
        status=status,
        index_dir=None if args.command == "index" else _published_dir(),
    )


def answer_json(answer: Answer) -> str:
    return json.dumps(asdict(answer), ensure_ascii=False)


def _platform_payloads(
    platform: str, answer: Answer, assistant: Assistant, full: bool
) -> list[dict[str, Any]]:
    if platform == "discord":
        from adapters import discord_bot

        return discord_bot.render_payloads(answer, assistant, full=full)
    from adapters import slack_app

    return slack_app.render_payloads(answer, assistant, full=full)


def _emit(answer: Answer, args: argparse.Namespace, assistant: Assistant, out: TextIO) -> None:
    if args.platform:
        payloads = _platform_payloads(args.platform, answer, assistant, args.full)
        out.write(json.dumps(payloads, ensure_ascii=False, indent=None if args.json else 2) + "\n")
    elif args.json:
        out.write(answer_json(answer) + "\n")
    else:
        out.write((full_text(answer) if args.full else answer.text) + "\n")
    out.flush()


def _ask(args: argparse.Namespace) -> int:
    if args.question != "-":
        try:
            normalize_question(args.question)
        except QuestionError as e:
            if args.json:
                print(answer_json(Answer(args.question, False, str(e), ())))
            else:
                print(f"policy-qa: {e}", file=sys.stderr)
            return EXIT_USAGE
    assistant = _load(args)
    if args.question != "-":
        _emit(assistant.answer(args.question), args, assistant, sys.stdout)
        return EXIT_OK
    assistant.watch()  # a stream of questions answers from the documents as they now read
    # Bad bytes must not end a stream of questions: replace them and answer the rest.
    stdin = sys.stdin
    if hasattr(stdin, "reconfigure"):
        stdin.reconfigure(encoding="utf-8", errors="replace")
    for line in stdin:
        _emit(assistant.answer(line.rstrip("\r\n")), args, assistant, sys.stdout)
    return EXIT_OK


def _chat(args: argparse.Namespace) -> int:
    if sys.stdin.isatty():
        # Line editing and this session's history (arrows, Ctrl-R) for input(); never saved.
        import readline  # noqa: F401
    assistant = _load(args)
    assistant.watch()
    print(
        f"Ask about the {plural(len(assistant.documents), 'document')} in "
        f"{printable(assistant.knowledge_dir)}. Each question follows the one before "
        "(/new starts afresh). Ctrl-D or 'quit' to leave."
    )
    context: str | None = None  # the conversation so far, as the last answer read it
    while True:
        try:
            line = input("\n? ")
        except (EOFError, KeyboardInterrupt):
            print()
            return EXIT_OK
        if line.strip().lower() in {"quit", "exit", ":q"}:
            return EXIT_OK
        if line.strip().lower() == "/new":
            context = None
            print("New conversation.")
        elif line.strip():
            answer = assistant.answer(line, previous=context)
            context = answer.context or context
            print(answer.text)


def _text(args: argparse.Namespace) -> int:
    from assistant.documents import read_document

    path: Path = args.path
    try:
        document = read_document(path.absolute())
    except (OSError, ValueError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else e
        print(f"policy-qa: cannot read {printable(path)}: {reason}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.buffer.write(document.text.encode("utf-8"))
    sys.stdout.flush()
    return EXIT_OK


def _index(args: argparse.Namespace) -> int:
    from adapters import indexer

    assistant = _load(args)
    indexer.report(assistant)
    into = args.into or _published_dir()
    if into is None:
        return EXIT_OK
    try:
        indexer.publish_into(assistant, Path(into))
    except OSError as e:
        print(f"policy-qa: cannot publish the index in {printable(into)}: {e}", file=sys.stderr)
        return EXIT_CONFIG
    if args.watch:
        indexer.follow(assistant, Path(into))
    return EXIT_OK


def _published_dir() -> str | None:
    return os.environ.get("POLICY_QA_INDEX_DIR", "").strip() or None


def _eval(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from assistant.evaluation import count_questions, evaluate, format_table

    total = count_questions(args.file)
    knowledge = Path(args.knowledge) if args.knowledge else None  # None: the core's default
    with tqdm(
        total=total, desc="Questions", unit="q", disable=None, file=sys.stderr, leave=False
    ) as bar:
        tallies = evaluate(
            args.file,
            knowledge,
            on_question=lambda: bar.update(1),
            min_confidence=args.min_confidence,
        )
    if args.json:
        print(json.dumps({name: t.figures() for name, t in tallies.items()}, indent=2))
    else:
        print(format_table(args.file, tallies))
    if args.misses:
        for name, tally in tallies.items():
            for miss in tally.misses:
                print(f"{name}: {miss}")
    if unfindable := next(iter(tallies.values())).unfindable:
        print(
            f"policy-qa: warning: {len(unfindable)} answerable question(s) have no gold phrase "
            "that occurs in the documents, so no quote can count as a hit (a typo in the file?):",
            *(f"  {q}" for q in unfindable[:10]),
            *([f"  ... and {len(unfindable) - 10} more"] if len(unfindable) > 10 else []),
            sep="\n",
            file=sys.stderr,
        )
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    status = Status()

    def load() -> Assistant:
        assistant = _load(args, status)
        assistant.watch()  # answers follow the documents as they change
        status.announce()
        return assistant

    if args.workers > 1 and (args.platform == "discord" or args.socket):
        print("policy-qa: --workers is for Slack over HTTP; Discord and Socket Mode run one "
              "process (see README, Running at scale)", file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    if args.platform == "discord":
        from adapters import discord_bot

        return discord_bot.serve(load)
    from adapters import slack_app

    if args.workers > 1 and not os.environ.get("POLICY_QA_REDIS_URL", "").strip():
        log.warning("%d workers without POLICY_QA_REDIS_URL: each deduplicates events and limits "
                    "users on its own", args.workers)  # fmt: skip
    return slack_app.serve(
        load,
        socket_mode=args.socket,
        host=args.host,
        port=args.port,
        status=status,
        workers=args.workers,
    )


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "ask": _ask, "chat": _chat, "index": _index, "eval": _eval, "serve": _serve, "text": _text,
    "report": report.run,
}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # What the assistant is doing (indexing progress, ready, reloads) is shown by default.
    logging.getLogger("assistant.status").setLevel(logging.INFO)
    try:
        return COMMANDS[args.command](args)
    except KnowledgeError as e:
        print(f"policy-qa: {e}", file=sys.stderr)
        return EXIT_KNOWLEDGE
    except ConfigurationError as e:
        print(f"policy-qa: {e}", file=sys.stderr)
        return EXIT_CONFIG
    except PolicyQAError as e:
        print(f"policy-qa: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK  # the reader went away (| head): nothing left to say
    except Exception:
        log.exception("Unexpected error")
        print(
            "policy-qa: an unexpected error occurred; the log above has the details.",
            file=sys.stderr,
        )
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
