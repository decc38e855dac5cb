"""`policy-qa report`: what the recorded questions say, as text, JSON or one self-contained HTML
file (inline CSS and SVG, no script, nothing fetched). Needs the records database, not the bots.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.records.settings import default_database_path
from assistant.text import printable

if TYPE_CHECKING:  # the CLI imports this module to build its parser: nothing heavy at import
    from assistant.records.base import Outcome
    from assistant.records.report import ProblemGroup, Report

# The environment `report` reads, for its --help (the default path as it is for this user).
ENVIRONMENT = [
    (
        "POLICY_QA_DATABASE_URL",
        f"the records: sqlite:///PATH or postgresql://…; default: {default_database_path()}",
    ),
    ("POLICY_QA_RECORD", "off: the bots record nothing (the report still reads what is there)"),
    ("POLICY_QA_RETENTION_DAYS", "the bots delete records older than this; default: 90"),
    ("POLICY_QA_EMBEDDER", "onnx (default) or sentence-transformers: groups questions by meaning"),
    ("XDG_DATA_HOME", "the data folder the default database is in; default: ~/.local/share"),
]
SHOWN_OUTCOMES: tuple[Outcome, ...] = ("answered", "unsure", "refused")
LABELS = {"answered": "answered", "unsure": "answered with a caveat", "refused": "refused"}
# Okabe-Ito colours: told apart with every common colour blindness, and each labelled anyway.
COLOURS = {"answered": "#009E73", "unsure": "#E69F00", "refused": "#D55E00"}
MAX_GROUPS_SHOWN = 20  # in text and HTML; --json has them all
MAX_QUOTE_SHOWN = 300
_RELATIVE = re.compile(r"(\d+)\s*([hdw])")


def since(text: str) -> datetime:
    """--since: "7d", "24h", "2w" before now, or a day or moment (UTC unless it says)."""
    value = text.strip().lower()
    if match := _RELATIVE.fullmatch(value):
        amount, unit = int(match[1]), match[2]
        hours = amount * {"h": 1, "d": 24, "w": 24 * 7}[unit]
        return datetime.now(UTC) - timedelta(hours=hours)
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(), UTC)
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a time ago (7d, 24h, 2w) or a date (2026-11-01), not {text!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since",
        type=since,
        default="7d",
        metavar="WHEN",
        help="questions asked since: 7d, 24h, 2w ago, or a date, 2026-11-01 (UTC); default: 7d",
    )
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    parser.add_argument(
        "--html",
        type=Path,
        metavar="FILE",
        help="write the report as one self-contained HTML page (readable by you alone)",
    )


def run(args: argparse.Namespace) -> int:
    """Build the report from the records the environment names and print or write it."""
    from adapters import report_html  # imports this module: loaded only when a report is made
    from assistant.embedding import default_embedder
    from assistant.errors import ConfigurationError
    from assistant.records import open_store
    from assistant.records.report import build_report
    from assistant.records.sql import DatabaseMissing, SQLStore, shown

    try:
        store = open_store(create=False)
    except DatabaseMissing as missing:
        print(f"policy-qa: nothing recorded yet (no database at {missing})", file=sys.stderr)
        store = SQLStore.open("sqlite://")  # an empty report, in the format asked for
    except ConfigurationError:
        raise
    except Exception as e:
        from assistant.records.recorder import error_summary
        from assistant.records.settings import RecordSettings

        where = shown(RecordSettings.from_environment().url)
        raise ConfigurationError(f"Cannot read the records in {where}: {error_summary(e)}") from e
    try:
        report = build_report(store, args.since, default_embedder)
    finally:
        store.close()
    if args.json:
        print(json.dumps(as_json(report), ensure_ascii=False, indent=2))
    if args.html:
        write_private(args.html, report_html.as_html(report))
        if not args.json:
            print(
                f"Wrote {printable(args.html)}: {report.questions:,} questions, "
                f"{len(report.problem_groups):,} groups of problem questions."
            )
    if not args.json and not args.html:
        print(as_text(report))
    return 0


def write_private(path: Path, text: str) -> None:
    # The report quotes people's questions: readable by its owner alone, like the database.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def shown_path(path: str) -> str:
    """Relative to the current folder when below it (as citations are), escaped for a terminal."""
    try:
        return printable(str(Path(path).relative_to(Path.cwd())))
    except ValueError:
        return printable(path)


def outcomes_by_day(report: Report) -> list[tuple[date, dict[Outcome, int]]]:
    """Every UTC day of the period, those without a question too: a gap shows."""
    first, last = report.since.astimezone(UTC).date(), report.until.astimezone(UTC).date()
    empty: dict[Outcome, int] = {"answered": 0, "unsure": 0, "refused": 0, "other": 0}
    return [
        (day, report.by_day.get(day, empty))
        for day in (first + timedelta(days=n) for n in range((last - first).days + 1))
    ]


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def period(report: Report) -> str:
    def moment(m: datetime) -> str:
        return m.astimezone(UTC).strftime("%Y-%m-%d %H:%M")

    return f"{moment(report.since)} to {moment(report.until)} UTC"


def as_json(report: Report) -> dict[str, Any]:
    return {
        "since": report.since.isoformat(),
        "until": report.until.isoformat(),
        "questions": report.questions,
        "outcomes": report.outcomes,
        "shares": {o: round(report.share(o), 4) for o in SHOWN_OUTCOMES},
        "days": [{"day": day.isoformat(), **counts} for day, counts in outcomes_by_day(report)],
        "problem_questions": report.problems,
        "problem_groups": [
            {
                "count": g.count,
                "examples": list(g.examples),
                "refused": g.refused,
                "unsure": g.unsure,
                "voted_down": g.voted_down,
                "comments": list(g.comments),
                "last_asked": g.last_asked.isoformat(),
            }
            for g in report.problem_groups
        ],
        "votes": {"up": report.votes_up, "down": report.votes_down},
        "document_votes": [
            {"path": v.path, "up": v.up, "down": v.down} for v in report.document_votes
        ],
        "cited_documents": [{"path": c.path, "answers": c.answers} for c in report.cited_documents],
        "cited_passages": [
            {"path": c.path, "start": c.start, "end": c.end, "answers": c.answers, "quote": c.quote}
            for c in report.cited_passages
        ],
    }


def shorten(text: str) -> str:
    from adapters.render import shorten

    return shorten(" ".join(text.split()), MAX_QUOTE_SHOWN)


def as_text(report: Report) -> str:
    asked = report.questions - report.outcomes["other"]
    lines = [f"policy-qa report, {period(report)}", ""]
    if not report.questions:
        return "\n".join([*lines, "No questions were recorded in this period."])
    shares = ", ".join(
        f"{LABELS[o]} {report.outcomes[o]:,} ({percent(report.outcomes[o], asked)})"
        for o in SHOWN_OUTCOMES
    )
    lines += [f"Questions: {asked:,}: {shares}."]
    if report.outcomes["other"]:
        lines += [f"Messages that asked nothing (greetings, empty, too long): {report.outcomes['other']:,}."]  # fmt: skip
    lines += [f"Votes: {report.votes_up:,} up, {report.votes_down:,} down.", ""]
    lines += ["Problem questions (refused, answered with a caveat, or voted down), by meaning:"]
    if not report.problem_groups:
        lines += ["  none"]
    for number, group in enumerate(report.problem_groups[:MAX_GROUPS_SHOWN], 1):
        how = [f"{n} {what}" for n, what in problem_kinds(group) if n]
        lines.append(f"{number:>4}. asked {group.count}x ({', '.join(how)})")
        lines += [f"        “{printable(e)}”" for e in group.examples]
        lines += [f"        comment: “{printable(c)}”" for c in group.comments]
    if len(report.problem_groups) > MAX_GROUPS_SHOWN:
        more = len(report.problem_groups) - MAX_GROUPS_SHOWN
        lines.append(f"      … and {more:,} more groups (--json lists them all)")
    lines += ["", "Per day (UTC): questions, then answered / with a caveat / refused:"]
    for day, counts in outcomes_by_day(report):
        total = sum(counts[o] for o in SHOWN_OUTCOMES)
        parts = " / ".join(f"{percent(counts[o], total):>4}" for o in SHOWN_OUTCOMES)
        lines.append(f"  {day}  {total:>5,}  {parts if total else ''}".rstrip())
    if report.document_votes:
        lines += ["", "Votes per document (on answers citing it): up, down"]
        lines += [f"  {v.up:>4} {v.down:>4}  {shown_path(v.path)}" for v in report.document_votes]
    if report.cited_documents:
        lines += ["", "Documents cited most (answers):"]
        lines += [f"  {c.answers:>5,}  {shown_path(c.path)}" for c in report.cited_documents]
    if report.cited_passages:
        lines += ["", "Passages cited most (answers):"]
        for c in report.cited_passages:
            lines.append(f"  {c.answers:>5,}  {shown_path(c.path)}:{c.start}-{c.end}")
            quote = shorten(c.quote) if c.quote else "(the file no longer holds this passage)"
            lines.append(f"         “{printable(quote)}”" if c.quote else f"         {quote}")
    return "\n".join(lines)


def problem_kinds(group: ProblemGroup) -> list[tuple[int, str]]:
    return [(group.refused, "refused"), (group.unsure, "with a caveat"), (group.voted_down, "voted down")]  # fmt: skip
