"""Verbatim still means verifiable for PDF, Word and HTML: `policy-qa text PATH` prints the
extracted text citations index (UTF-8, nothing else), so `text[start:end] == quote` holds for
every citation of `ask --json`, and for a table row's header too."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from assistant.documents import read_document
from tests.cli_helpers import run
from tests.conftest import DATA

FORMATS = DATA / "formats"
FILES = ["article.docx", "twocol.pdf", "table-pagebreak.pdf", "structured.site.html"]
QUESTIONS = [
    "What did Twitter say about Kaspersky's business model?",
    "How often are firewall rules reviewed under C-040?",
    "What is the simplest mechanism for a transfer?",
    "How long must a password be?",
]


def test_every_citation_of_every_format_is_verifiable_through_policy_qa_text(
    env: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "knowledge"
    folder.mkdir()
    for name in FILES:
        shutil.copy(FORMATS / name, folder / name)
    stdin = "\n".join(QUESTIONS).encode()
    asked = run(env, "--knowledge", str(folder), "ask", "--json", "-", stdin=stdin, cwd=tmp_path)
    assert asked.returncode == 0, asked.stderr
    answers = [json.loads(line) for line in asked.stdout.decode().splitlines()]
    citations = [c for answer in answers for c in answer["citations"]]
    cited = {Path(c["path"]).suffix for c in citations}
    assert cited == {".docx", ".pdf", ".html"}
    texts: dict[str, str] = {}
    for c in citations:
        if c["path"] not in texts:
            printed = run(env, "text", c["path"], cwd=tmp_path)
            assert printed.returncode == 0 and printed.stderr == b""
            texts[c["path"]] = printed.stdout.decode("utf-8")
            # exactly the extracted text: nothing before or after it on standard output
            assert texts[c["path"]] == read_document((tmp_path / c["path"]).absolute()).text
        text = texts[c["path"]]
        assert text[c["start"] : c["end"]] == c["quote"]
        if c["header"] is not None:
            header = c["header"]
            assert text[header["start"] : header["end"]] == header["quote"]
    row = answers[1]["citations"][0]
    assert row["quote"] == "C-040 | Review firewall rules every 3 months. | HR"
    assert row["page"] == 2 and row["header"]["quote"] == "Control ID | Requirement | Owner"
    assert row["locator"] == "“Control register”, page 2"
