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
from adapters.arguments import build_parser
from assistant import Answer, Assistant, PolicyQAError
from assistant.answers import full_text, normalize_question
from assistant.errors import ConfigurationError, KnowledgeError, QuestionError
from assistant.status import Status, plural
from assistant.text import printable

log = logging.getLogger(__name__)

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_KNOWLEDGE, EXIT_CONFIG = 0, 1, 2, 3, 4


def _load(
    args: argparse.Namespace,
    status: Status | None = None,
    folder: Path | None = None,
    embedder: Any = None,
) -> Assistant:
    # A progress bar on a terminal; off one, a progress line in the log every few seconds.
    # A published index is loaded by those that answer; `index` builds (and publishes) one.
    # `folder`: a knowledge set's (serve --config), with the model of the first set loaded.
    return Assistant.load(
        folder or args.knowledge,
        embedder=embedder,
        show_progress=sys.stderr.isatty(),
        min_confidence=args.min_confidence,
        status=status,
        index_dir=None if args.command == "index" or folder else _published_dir(),
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

    def load(folder: Path | None = None, embedder: Any = None) -> Assistant:
        assistant = _load(args, status, folder, embedder)
        assistant.watch()  # answers follow the documents as they change
        status.announce()
        return assistant

    if args.workers > 1 and (args.platform == "discord" or args.socket):
        print("policy-qa: --workers is for Slack over HTTP; Discord and Socket Mode run one "
              "process (see README, Running at scale)", file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    if args.platform == "discord":
        from adapters import discord_bot

        return discord_bot.serve(load, config=args.config)
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
        config=args.config,
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
