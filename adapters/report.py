"""`policy-qa report`: what the recorded questions say, as text, JSON or one self-contained HTML
file (inline CSS and SVG, no script, nothing fetched). Needs the records database, not the bots.
"""

from __future__ import annotations

import argparse
import html
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
        write_private(args.html, as_html(report))
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


def _days(report: Report) -> list[tuple[date, dict[Outcome, int]]]:
    """Every UTC day of the period, those without a question too: a gap shows."""
    first, last = report.since.astimezone(UTC).date(), report.until.astimezone(UTC).date()
    empty: dict[Outcome, int] = {"answered": 0, "unsure": 0, "refused": 0, "other": 0}
    return [
        (day, report.by_day.get(day, empty))
        for day in (first + timedelta(days=n) for n in range((last - first).days + 1))
    ]


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def _period(report: Report) -> str:
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
        "days": [{"day": day.isoformat(), **counts} for day, counts in _days(report)],
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


def _shorten(text: str) -> str:
    from adapters.render import shorten

    return shorten(" ".join(text.split()), MAX_QUOTE_SHOWN)


def as_text(report: Report) -> str:
    asked = report.questions - report.outcomes["other"]
    lines = [f"policy-qa report, {_period(report)}", ""]
    if not report.questions:
        return "\n".join([*lines, "No questions were recorded in this period."])
    shares = ", ".join(
        f"{LABELS[o]} {report.outcomes[o]:,} ({_percent(report.outcomes[o], asked)})"
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
        how = [f"{n} {what}" for n, what in _how(group) if n]
        lines.append(f"{number:>4}. asked {group.count}x ({', '.join(how)})")
        lines += [f"        “{printable(e)}”" for e in group.examples]
        lines += [f"        comment: “{printable(c)}”" for c in group.comments]
    if len(report.problem_groups) > MAX_GROUPS_SHOWN:
        more = len(report.problem_groups) - MAX_GROUPS_SHOWN
        lines.append(f"      … and {more:,} more groups (--json lists them all)")
    lines += ["", "Per day (UTC): questions, then answered / with a caveat / refused:"]
    for day, counts in _days(report):
        total = sum(counts[o] for o in SHOWN_OUTCOMES)
        parts = " / ".join(f"{_percent(counts[o], total):>4}" for o in SHOWN_OUTCOMES)
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
            quote = _shorten(c.quote) if c.quote else "(the file no longer holds this passage)"
            lines.append(f"         “{printable(quote)}”" if c.quote else f"         {quote}")
    return "\n".join(lines)


def _how(group: ProblemGroup) -> list[tuple[int, str]]:
    return [(group.refused, "refused"), (group.unsure, "with a caveat"), (group.voted_down, "voted down")]  # fmt: skip


# The chart's geometry, in CSS pixels.
CHART_WIDTH, CHART_HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 44, 10, 24, 40


def _chart(report: Report) -> str:
    """Shares of answered, caveat and refused per day as 100% stacked bars, answered from the
    bottom and refused from the top so both read from an edge; the day's count above each bar
    and a tooltip (an SVG title) on each part."""
    days = _days(report)
    plot_w, plot_h = CHART_WIDTH - LEFT - RIGHT, CHART_HEIGHT - TOP - BOTTOM
    step = plot_w / len(days)
    bar = max(min(step * 0.8, 48), 1)
    label_every = max(1, round(len(days) / 12))  # at most about a dozen dates fit
    out = [
        f'<svg class="chart" role="img" aria-labelledby="chart-title" width="{CHART_WIDTH}" '
        f'height="{CHART_HEIGHT}" viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" '
        'xmlns="http://www.w3.org/2000/svg">',
        '<title id="chart-title">Share of questions answered, answered with a caveat and '
        "refused, per day</title>",
    ]
    for tick in (0, 25, 50, 75, 100):
        y = TOP + plot_h * (1 - tick / 100)
        out.append(
            f'<line class="grid" x1="{LEFT}" x2="{CHART_WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}%</text>'
        )
    for n, (day, counts) in enumerate(days):
        x = LEFT + n * step + (step - bar) / 2
        total = sum(counts[o] for o in SHOWN_OUTCOMES)
        y = TOP + plot_h
        for outcome in SHOWN_OUTCOMES:
            if not total or not counts[outcome]:
                continue
            height = plot_h * counts[outcome] / total
            y -= height
            tip = f"{day}: {LABELS[outcome]} {counts[outcome]} of {total} ({_percent(counts[outcome], total)})"  # fmt: skip
            out.append(
                f'<rect class="bar {outcome}" data-day="{day}" x="{x:.1f}" y="{y:.1f}" '
                f'width="{bar:.1f}" height="{height:.1f}" fill="{COLOURS[outcome]}">'
                f"<title>{html.escape(tip)}</title></rect>"
            )
        centre = x + bar / 2
        if total and step >= 18:
            out.append(
                f'<text class="count" x="{centre:.1f}" y="{TOP - 6}" text-anchor="middle">{total}</text>'
            )
        if n % label_every == 0:
            out.append(
                f'<text class="axis" x="{centre:.1f}" y="{CHART_HEIGHT - BOTTOM + 16}" '
                f'text-anchor="middle">{day.strftime("%d %b")}</text>'
            )
    out.append("</svg>")
    return "".join(out)


CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
       max-width: 960px; margin: 24px auto; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 2px; } h2 { font-size: 17px; margin-top: 28px; }
.period { color: #59636e; margin-top: 0; }
.headline { display: flex; gap: 12px; flex-wrap: wrap; margin: 16px 0; }
.figure { border: 1px solid #d1d9e0; border-radius: 8px; padding: 8px 14px; min-width: 120px; }
.figure b { display: block; font-size: 24px; }
.legend { margin: 4px 0; } .key { margin-right: 14px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px;
          margin-right: 6px; vertical-align: -1px; }
.chart .grid { stroke: #d1d9e0; } .chart .axis, .chart .count { font-size: 11px; fill: #59636e; }
ol.groups { padding-left: 28px; } ol.groups li { margin-bottom: 10px; }
.count-badge { font-weight: 600; } .how { color: #59636e; font-size: 13px; }
.example { display: block; } .comment { display: block; color: #59636e; font-style: italic; }
table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: 4px 8px;
        border-bottom: 1px solid #eef1f4; vertical-align: top; } .n { text-align: right; }
.quote { color: #59636e; font-size: 13px; } .gone { color: #9a6700; font-size: 13px; }
"""


def as_html(report: Report) -> str:
    e = html.escape
    asked = report.questions - report.outcomes["other"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # Nothing in this page may load or run anything: questions are anyone's text.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">",
        f"<title>policy-qa report, {e(_period(report))}</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>What people asked policy-qa</h1>",
        f'<p class="period">{e(_period(report))}</p>',
        '<div class="headline">',
        f'<div class="figure" id="questions"><b>{asked:,}</b>questions</div>',
    ]
    for outcome in SHOWN_OUTCOMES:
        parts.append(
            f'<div class="figure" id="share-{outcome}"><b>{_percent(report.outcomes[outcome], asked)}</b>'
            f'<span class="swatch" style="background:{COLOURS[outcome]}"></span>'
            f"{LABELS[outcome]} ({report.outcomes[outcome]:,})</div>"
        )
    parts.append(
        f'<div class="figure" id="votes"><b>{report.votes_up:,} / {report.votes_down:,}</b>'
        "votes up / down</div></div>"
    )
    if not report.questions:
        parts.append("<p>No questions were recorded in this period.</p></body></html>")
        return "".join(parts)
    legend = "".join(
        f'<span class="key"><span class="swatch" style="background:{COLOURS[o]}"></span>'
        f"{LABELS[o]}</span>"
        for o in SHOWN_OUTCOMES
    )
    parts += [
        "<h2>Answered and refused, per day (UTC)</h2>",
        f'<p class="legend">{legend} <span class="how">(questions that day above each bar)</span></p>',
        _chart(report),
    ]
    parts += [
        "<h2>Problem questions, grouped by meaning</h2>",
        '<p class="how">Refused, answered with a caveat, or voted down; most asked first.</p>',
    ]
    if not report.problem_groups:
        parts.append("<p>None.</p>")
    else:
        parts.append('<ol class="groups">')
        for group in report.problem_groups[:MAX_GROUPS_SHOWN]:
            how = ", ".join(f"{n} {what}" for n, what in _how(group) if n)
            parts.append(
                f'<li><span class="count-badge">asked {group.count}×</span> '
                f'<span class="how">{e(how)}</span>'
                + "".join(f'<span class="example">“{e(x)}”</span>' for x in group.examples)
                + "".join(f'<span class="comment">comment: “{e(c)}”</span>' for c in group.comments)
                + "</li>"
            )
        parts.append("</ol>")
        if len(report.problem_groups) > MAX_GROUPS_SHOWN:
            more = len(report.problem_groups) - MAX_GROUPS_SHOWN
            parts.append(f'<p class="how">… and {more:,} more groups (--json lists them all).</p>')
    if report.document_votes:
        parts.append(
            '<h2>Votes per document</h2><table id="document-votes"><tr><th>document</th>'
            '<th class="n">up</th><th class="n">down</th></tr>'
        )
        parts += [
            f'<tr><td>{e(shown_path(v.path))}</td><td class="n">{v.up}</td><td class="n">{v.down}</td></tr>'
            for v in report.document_votes
        ]
        parts.append("</table>")
    if report.cited_documents:
        parts.append(
            '<h2>Documents cited most</h2><table id="cited-documents"><tr><th>document</th>'
            '<th class="n">answers</th></tr>'
        )
        parts += [
            f'<tr><td>{e(shown_path(c.path))}</td><td class="n">{c.answers}</td></tr>'
            for c in report.cited_documents
        ]
        parts.append("</table>")
    if report.cited_passages:
        parts.append(
            '<h2>Passages cited most</h2><table id="cited-passages"><tr><th>passage</th>'
            '<th class="n">answers</th></tr>'
        )
        for c in report.cited_passages:
            quote = (
                f'<div class="quote">“{e(_shorten(c.quote))}”</div>'
                if c.quote
                else '<div class="gone">The file no longer holds this passage.</div>'
            )
            where = f"{shown_path(c.path)}:{c.start}-{c.end}"
            parts.append(f'<tr><td>{e(where)}{quote}</td><td class="n">{c.answers}</td></tr>')
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
