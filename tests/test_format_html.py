"""Web pages: pages made by pandoc with a site's templates (semantic and div soup) keep their main
content only, with its structure; the page's own metadata names it; a page trafilatura reads
badly (a tiny one, a huge one) goes to our heuristic, which keeps the chrome out as well."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.document import CODE, HEADER, HEADING, ITEM, PARAGRAPH, ROW, Document
from assistant.formats import web
from assistant.formats.web import read_html
from assistant.passages import split_passages
from tests.conftest import DATA

FORMATS = DATA / "formats"
SITES = ["site", "divsite"]
# Words only the site's template has: cookie banner, navigation, search, breadcrumbs, byline,
# share lines, tags, newsletter box, related articles, footer.
CHROME = [
    "We use cookies", "Accept all", "Cookie settings", "Startups", "Search Example News", "›",
    "3 min read", "Share this", "Tweet", "Tags:", "Sign up for our newsletter",
    "Your e-mail address", "Related articles", "moves data processing to Switzerland",
    "All rights reserved", "Follow us on", "Terms of use", "Privacy policy", "Example News",
]  # fmt: skip


def _read(name: str) -> Document:
    path = FORMATS / name
    return read_html(path, path.read_bytes())


def _blocks(doc: Document, kind: str) -> list[str]:
    return [doc.text[b.start : b.end] for b in doc.blocks if b.kind == kind]


@pytest.mark.parametrize("site", SITES)
@pytest.mark.parametrize("page", ["article", "structured"])
def test_navigation_cookie_banner_share_lines_and_footer_are_never_in_the_text(
    page: str, site: str
) -> None:
    doc = _read(f"{page}.{site}.html")
    assert not [words for words in CHROME if words in doc.text]
    assert doc.url is not None and doc.url.startswith("https://")  # <link rel=canonical>
    assert doc.publisher == "Example News"  # og:site_name, as a source names it


@pytest.mark.parametrize("site", SITES)
def test_the_whole_article_is_kept_word_for_word(site: str) -> None:
    doc = _read(f"article.{site}.html")
    article = (DATA.parent.parent / "knowledge" / "kaspersky-twitter-article.md").read_text()
    body = article.split("---\n", 2)[2]
    paragraphs = [" ".join(p.split()) for p in body.split("\n\n") if p.strip()]
    assert paragraphs and all(p in doc.text for p in paragraphs)
    assert (
        doc.title == "Eugene Kaspersky Writes an Open Letter to Twitter’s Jack Dorsey Over Ad Ban"
    )
    assert (doc.author, doc.date, doc.url) == (
        "Oindrila Banerjee",
        "2018-04-20",
        "https://www.techgenyz.com/2018/04/20/eugene-kaspersky-writes-an-open-letter-to-twitters/",
    )


def test_the_articles_own_calls_to_action_are_never_quoted() -> None:
    doc = _read("article.site.html")
    passages = " ".join(doc.text[p.start : p.end] for p in split_passages(doc))
    for words in ("Sign up for Newsletters", "Claim the Offer", "sponsored content"):
        assert words in doc.text and words not in passages


@pytest.mark.parametrize("site", SITES)
def test_headings_lists_tables_and_code_keep_their_structure(site: str) -> None:
    doc = _read(f"structured.{site}.html")
    headings = [(doc.text[b.start : b.end], b.level) for b in doc.blocks if b.kind == HEADING]
    assert headings[:5] == [
        ("Acceptable Use Policy", 1),
        ("Purpose", 1),
        ("Scope", 1),
        ("Covered systems", 2),
        ("Exclusions", 2),
    ]
    items = _blocks(doc, ITEM)
    assert items[2:4] == [
        "• Phones owned by the organisation",
        "• Personal phones that read work e-mail",
    ]
    assert [(doc.text[b.start : b.end], b.level) for b in doc.blocks if b.kind == ITEM][8:10] == [
        ("1. the high-performance computing cluster;", 1),
        ("2. the genomics sequencing lab.", 1),
    ]
    (header,) = [b for b in doc.blocks if b.kind == HEADER]
    assert doc.text[header.start : header.end] == "Class | Examples | Handling"
    rows = [b for b in doc.blocks if b.kind == ROW]
    assert len(rows) == 4 and all(r.header == (header.start, header.end) for r in rows)
    assert _blocks(doc, CODE) == ["passwd --expire jdoe\nchage --maxdays 90 jdoe"]
    assert "↩" not in doc.text  # a footnote's back-link
    passages = [doc.text[p.start : p.end] for p in split_passages(doc)]
    assert "passwd --expire jdoe" not in " ".join(passages)  # code is never quoted


def test_a_plain_pandoc_page_keeps_its_title_as_a_heading_and_drops_its_byline() -> None:
    doc = _read("article.standalone.html")
    first = doc.blocks[0]
    assert first.kind == HEADING and doc.text[first.start : first.end] == doc.title
    assert not [b for b in doc.blocks if doc.text[b.start : b.end] in ("2018-04-20", doc.author)]
    assert doc.url is None  # the page names none, and none is made up


def test_a_tiny_page_is_read_by_the_heuristic_without_its_menu(tmp_path: Path) -> None:
    page = (
        b"<html><head><title>Smoking</title></head><body>"
        b"<div class=menu><a href=/>Home</a> <a href=/about>About</a></div>"
        b"<div class=content><h1>Smoking</h1><p>Short policy: no smoking indoors.</p></div>"
        b"<footer>(c) ACME</footer></body></html>"
    )
    doc = read_html(tmp_path / "smoking.html", page)
    assert doc.text == "Smoking\n\nShort policy: no smoking indoors."
    assert [b.kind for b in doc.blocks] == [HEADING, PARAGRAPH]


def test_a_page_over_the_cap_goes_to_the_heuristic_within_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "handbook.html"
    generator = FORMATS / "src" / "gen_big_html.py"
    subprocess.run([sys.executable, generator, path, "1"], check=True)
    monkeypatch.setattr(web, "FALLBACK_BYTES", 500_000)  # 1 MB is over it: no trafilatura
    monkeypatch.setattr(web, "_trafilatura", _never)
    started = time.monotonic()
    doc = read_html(path, path.read_bytes())
    assert time.monotonic() - started < 30
    assert doc.url == "https://example.org/handbook/" and doc.author == "Security Office"
    assert doc.text.startswith("Information Security Handbook\n\nSection 1\n\n")
    for chrome in ("We use cookies", "Accept all", "Policies", "Sign up for our newsletter", "©"):
        assert chrome not in doc.text
    assert len([b for b in doc.blocks if b.kind == HEADER]) == doc.text.count("Item | Owner")


def _never(data: bytes) -> None:
    raise AssertionError("trafilatura was asked to read a page over the cap")


def test_the_same_page_always_gives_the_same_text() -> None:
    first = _read("structured.divsite.html")
    again = _read("structured.divsite.html")
    assert first == again and first.blocks == again.blocks


def test_a_page_with_no_text_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no text found in it"):
        read_html(tmp_path / "app.html", b"<html><body><div id=app></div><script>x()</script>")
