"""Result rows, the printed table and the JSON file under benchmarks/results/."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Row:
    """One figure of ours beside the same figure of the alternative named by its section."""

    section: str
    label: str
    ours: float
    alternative: float | None
    unit: str
    target: str = ""
    met: bool | None = None  # None: no target for this row
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return self.ours / self.alternative if self.alternative else None


@dataclass
class Section:
    title: str
    against: str  # the alternative every row of the section is compared with
    better: str = "lower"  # which way the ratio ours/alternative should go
    rows: list[Row] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    when_empty: str = ""  # why a section may measure nothing (printed instead of an empty table)


def percentiles(values: list[float], *qs: float) -> list[float]:
    return [float(np.percentile(values, q)) for q in qs]


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit in ("ms", "MB", "passages/s"):
        return f"{value:,.0f} {unit}" if value >= 100 else f"{value:,.1f} {unit}"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "fraction":  # a share from 0 to 1, shown bare
        return f"{value:.3f}"
    return f"{value:,.0f} {unit}".strip()


def render(sections: list[Section]) -> str:
    header = ("figure", "ours", "alternative", "ours/alt", "target", "")
    lines: list[str] = []
    for section in sections:
        if not section.rows and section.when_empty:
            lines += ["", section.title, f"  nothing measured: {section.when_empty}"]
            continue
        table = [header]
        for r in section.rows:
            verdict = {True: "ok", False: "MISS", None: ""}[r.met]
            ratio = f"{r.ratio:.2f}x" if r.ratio is not None else ""
            table.append(
                (
                    r.label,
                    _fmt(r.ours, r.unit),
                    _fmt(r.alternative, r.unit),
                    ratio,
                    r.target,
                    f"{verdict} {r.note}".strip(),
                )
            )
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        lines += [
            "",
            f"{section.title}",
            f"  vs {section.against} ({section.better} ratio is better)",
        ]
        for i, row in enumerate(table):
            cells = [
                c.ljust(w) if j == 0 else c.rjust(w)
                for j, (c, w) in enumerate(zip(row, widths, strict=True))
            ]
            lines.append("  " + "  ".join(cells[:4]) + "  " + "  ".join(cells[4:]))
            if i == 0:
                lines.append("  " + "-" * (sum(widths) + 2 * (len(widths) - 1)))
    return "\n".join(lines).lstrip("\n")


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], capture_output=True, text=True, cwd=RESULTS.parent)
    return done.stdout.strip()


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "dirty_core": _git("status", "--porcelain", "assistant", "adapters"),
    }


def save(sections: list[Section], args: dict[str, Any], facts: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    data = {
        "when": stamp,
        "args": args,
        "machine": facts,
        "sections": [
            {
                "title": s.title,
                "against": s.against,
                "raw": s.raw,
                "rows": [asdict(r) | {"ratio": r.ratio} for r in s.rows],
            }
            for s in sections
        ],
    }
    path = RESULTS / f"bench-{stamp}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    (RESULTS / "latest.json").write_text(path.read_text())
    return path
