"""`policy-qa text PATH`, through a real subprocess: it prints a document exactly as citations
index it, so `text[start:end] == quote` holds for `ask --json`'s citations (PDF, Word and HTML:
tests/test_formats_cli.py)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_helpers import run


def test_text_prints_the_document_exactly_as_citations_index_it(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "win.txt"
    path.write_bytes("\ufeffFirst rule.\r\n\r\nSecond rule: “ok”.\r\n".encode())
    result = run(env, "text", str(path))
    assert result.returncode == 0 and result.stderr == b""
    with open(path, encoding="utf-8") as f:
        assert result.stdout.decode("utf-8") == f.read()
    article = run(env, "ask", "--json", "Why was Kaspersky banned?")
    c = json.loads(article.stdout)["citations"][0]
    text = run(env, "text", c["path"]).stdout.decode("utf-8")
    assert text[c["start"] : c["end"]] == c["quote"]
    missing = run(env, "text", str(tmp_path / "nope.md"))
    assert missing.returncode == 2 and b"cannot read" in missing.stderr and not missing.stdout
