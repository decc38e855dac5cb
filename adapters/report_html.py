"""`policy-qa report --html FILE`: one self-contained page (inline CSS and an SVG chart, no script,
nothing fetched) that reads at a glance."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from adapters.report import (
    COLOURS,
    LABELS,
    MAX_GROUPS_SHOWN,
    SHOWN_OUTCOMES,
    outcomes_by_day,
    percent,
    period,
    problem_kinds,
    shorten,
    shown_path,
)

if TYPE_CHECKING:
    from assistant.records.report import Report

# The chart's geometry, in CSS pixels.
CHART_WIDTH, CHART_HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 44, 10, 24, 40


def _chart(report: Report) -> str:
    """Shares of answered, caveat and refused per day as 100% stacked bars, answered from the
    bottom and refused from the top so both read from an edge; the day's count above each bar
    and a tooltip (an SVG title) on each part."""
    days = outcomes_by_day(report)
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
            tip = f"{day}: {LABELS[outcome]} {counts[outcome]} of {total} ({percent(counts[outcome], total)})"  # fmt: skip
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
        f"<title>policy-qa report, {e(period(report))}</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>What people asked policy-qa</h1>",
        f'<p class="period">{e(period(report))}</p>',
        '<div class="headline">',
        f'<div class="figure" id="questions"><b>{asked:,}</b>questions</div>',
    ]
    for outcome in SHOWN_OUTCOMES:
        parts.append(
            f'<div class="figure" id="share-{outcome}"><b>{percent(report.outcomes[outcome], asked)}</b>'
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
            how = ", ".join(f"{n} {what}" for n, what in problem_kinds(group) if n)
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
        parts += _table(
            "Votes per document",
            "document-votes",
            ["document", "up", "down"],
            [[e(shown_path(v.path)), str(v.up), str(v.down)] for v in report.document_votes],
        )
    if report.cited_documents:
        parts += _table(
            "Documents cited most",
            "cited-documents",
            ["document", "answers"],
            [[e(shown_path(c.path)), str(c.answers)] for c in report.cited_documents],
        )
    if report.cited_passages:
        parts += _table(
            "Passages cited most",
            "cited-passages",
            ["passage", "answers"],
            [
                [e(f"{shown_path(c.path)}:{c.start}-{c.end}") + _passage(c.quote), str(c.answers)]
                for c in report.cited_passages
            ],
        )
    parts.append("</body></html>")
    return "\n".join(parts)


def _table(title: str, table_id: str, headers: list[str], rows: list[list[str]]) -> list[str]:
    """A titled table of escaped cells: the first column text, the others counts (right-aligned)."""
    head = "".join(
        f"<th>{h}</th>" if i == 0 else f'<th class="n">{h}</th>' for i, h in enumerate(headers)
    )
    lines = [f'<h2>{title}</h2><table id="{table_id}"><tr>{head}</tr>']
    for row in rows:
        cells = "".join(
            f"<td>{c}</td>" if i == 0 else f'<td class="n">{c}</td>' for i, c in enumerate(row)
        )
        lines.append(f"<tr>{cells}</tr>")
    return [*lines, "</table>"]


def _passage(quote: str | None) -> str:
    """A cited passage's text under its place, or that the file no longer holds it."""
    if quote:
        return f'<div class="quote">“{html.escape(shorten(quote))}”</div>'
    return '<div class="gone">The file no longer holds this passage.</div>'
