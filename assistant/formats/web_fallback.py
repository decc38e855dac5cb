"""A web page's metadata, and our own main-content heuristic with lxml for the pages trafilatura
reads badly: very large ones (it takes about 4 s per MB; this about 1 s per MB: a 50 MB page in
10.5 s and 830 MB) and very short ones (where it keeps the navigation).

The heuristic: the page's semantic container (<main>, role=main, <article>), else its densest
container of paragraph text; from it, everything that is site chrome by tag, ARIA role or class
and id (navigation, banners, cookie notices, share lines, newsletter boxes, footers) is removed;
the rest is walked into blocks. On the fixture pages it gave the same blocks as trafilatura.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from assistant.document import CODE, HEADER, HEADING, ITEM, PARAGRAPH, ROW, one_line
from assistant.formats.extracted import CELL_SEPARATOR, Piece, code, inline

_DROP_TAGS = frozenset(
    {"script", "style", "noscript", "template", "svg", "nav", "aside", "footer", "form", "button",
     "iframe", "object", "embed", "select", "input", "textarea", "dialog", "head", "menu"}
)  # fmt: skip
_DROP_ROLES = frozenset(
    {"navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alertdialog",
     "menu", "menubar"}
)  # fmt: skip
# Class and id words of site chrome (matched as whole words of "site-nav", "cookie_banner"...).
_CHROME = re.compile(
    r"(?:^|[-_ ])(?:nav|navbar|navigation|menu|breadcrumbs?|crumbs|cookies?|consent|gdpr|share|"
    r"sharing|social|newsletter|subscribe|signup|related|recommended|comments?|sidebar|widget|"
    r"footer|site-header|masthead|advert|ads?|sponsor(?:ed)?|promo|popup|modal|tags|byline|"
    r"author-bio|skip-link|skip)(?:$|[-_ ])",
    re.IGNORECASE,
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_BLOCK_TAGS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "pre", "blockquote", "tr", "dt", "dd",
     "figcaption", "caption", "div", "section", "article", "ul", "ol", "table", "main"}
)  # fmt: skip
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# A container needs this much text to be a page's main content rather than a teaser or a menu.
_MIN_CONTAINER = 200


def _encoding(data: bytes) -> str:
    """The page's encoding: its byte-order mark, its <meta charset>, else UTF-8 when the bytes
    are UTF-8, else Windows-1252 (what browsers assume for an undeclared Western page)."""
    for bom, name in (
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if data.startswith(bom):
            return name
    declared = _CHARSET.search(data[:4096])
    if declared:
        name = declared.group(1).decode("ascii").lower()
        try:
            "".encode(name)
            return name
        except LookupError:
            pass
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1252"


def parse(data: bytes) -> Any:
    """The page's element tree (lxml.html), comments and processing instructions left out."""
    parser = lxml_html.HTMLParser(
        encoding=_encoding(data), remove_comments=True, remove_pis=True, no_network=True
    )
    try:
        root = lxml_html.document_fromstring(data, parser=parser)
    except (etree.ParserError, ValueError) as e:
        raise ValueError(f"it is not a web page ({e})") from None
    return root


def _norm(text: str) -> str:
    return inline(text)


def _first(root: Any, *paths: str) -> str | None:
    for path in paths:
        for value in root.xpath(path):
            text = one_line(str(value))
            if text:
                return text
    return None


@dataclass(frozen=True)
class PageMetadata:
    """What a page says about itself in its <head> (and its first <h1>)."""

    title: str | None  # og:title
    html_title: str | None  # <title>, often with the site's name after it
    h1: str | None
    author: str | None
    date: str | None
    url: str | None  # <link rel=canonical>, else og:url
    site: str | None  # og:site_name


def page_metadata(root: Any) -> PageMetadata:
    h1 = next((_norm(h.text_content()) for h in root.iter("h1") if _norm(h.text_content())), None)
    date = _first(
        root,
        "//meta[@property='article:published_time']/@content",
        "//meta[@name='date']/@content",
        "//meta[@name='dc.date' or @name='DC.date' or @name='dcterms.date']/@content",
        "//time[@datetime][1]/@datetime",
    )
    return PageMetadata(
        title=_first(root, "//meta[@property='og:title']/@content"),
        html_title=_first(root, "//title//text()"),
        h1=h1,
        author=_first(
            root,
            "//meta[@name='author']/@content",
            "//meta[@property='article:author']/@content",
        ),
        date=date[:10] if date and re.match(r"\d{4}-\d\d-\d\d", date) else date,
        url=_first(
            root,
            "//link[@rel='canonical']/@href",
            "//meta[@property='og:url']/@content",
        ),
        site=_first(root, "//meta[@property='og:site_name']/@content"),
    )


def _text_length(element: Any) -> int:
    return len(_norm(element.text_content()))


def _main(root: Any) -> Any:
    """The page's main content: <main>, role=main or <article> (the longest), else the
    container (div, section, td) with the most paragraph text not in links."""
    for path in ("//main", "//*[@role='main']", "//article"):
        found = root.xpath(path)
        if found:
            return max(found, key=_text_length)
    body = root.find("body")
    best, score = (body if body is not None else root), -1
    for element in root.iter("div", "section", "td"):
        if _text_length(element) < _MIN_CONTAINER:
            continue
        paragraphs = sum(_text_length(p) for p in element.iter("p"))
        links = sum(_text_length(a) for a in element.iter("a"))
        if paragraphs - 2 * links > score:
            best, score = element, paragraphs - 2 * links
    return best


def _is_chrome(element: Any, main: Any) -> bool:
    if element.tag in _DROP_TAGS or element.get("role") in _DROP_ROLES:
        return True
    if element.get("hidden") is not None or element.get("aria-hidden") == "true":
        return True
    if _HIDDEN_STYLE.search(element.get("style") or ""):
        return True
    names = " ".join(filter(None, [element.get("class"), element.get("id")]))
    if names and _CHROME.search(names):
        return True
    # A <header> inside the content is chrome unless it holds the headline.
    return bool(element.tag == "header" and element is not main and not element.xpath(".//h1"))


def _strip_chrome(main: Any) -> None:
    for element in list(main.iter()):
        if element is main or element.getparent() is None:
            continue
        if not isinstance(element.tag, str) or _is_chrome(element, main):
            element.drop_tree()
    for backlink in main.xpath(".//a[contains(concat(' ', @class, ' '), ' footnote-back ')]"):
        backlink.drop_tree()


class _Walker:
    def __init__(self) -> None:
        self.pieces: list[Piece] = []

    def add(self, kind: str, text: str, level: int = 0) -> None:
        if text.strip():
            self.pieces.append(Piece(kind, text, level))

    def walk(self, parent: Any, depth: int = 0) -> None:
        for child in parent:
            tag = child.tag
            if not isinstance(tag, str):
                continue
            if re.fullmatch(r"h[1-6]", tag):
                self.add(HEADING, _norm(child.text_content()), int(tag[1]))
            elif tag == "pre":
                self.add(CODE, code(child.text_content()))
            elif tag in ("ul", "ol"):
                self.items(child, depth)
            elif tag == "table":
                self.table(child)
            elif tag in ("p", "blockquote", "dt", "dd", "figcaption", "caption", "address"):
                if any(isinstance(c.tag, str) and c.tag in _BLOCK_TAGS for c in child):
                    self.walk(child, depth)
                else:
                    self.add(PARAGRAPH, _norm(child.text_content()))
            elif (child.text or "").strip() and not any(
                isinstance(c.tag, str) and c.tag in _BLOCK_TAGS for c in child
            ):
                self.add(PARAGRAPH, _norm(child.text_content()))  # text straight in a div
            else:
                self.walk(child, depth)

    def items(self, listing: Any, depth: int) -> None:
        start = listing.get("start") or "1"
        number = int(start) if start.isdigit() else 1
        for item in (c for c in listing if c.tag == "li"):
            label = f"{number}." if listing.tag == "ol" else "•"
            number += 1
            own = [item.text or ""]
            for child in item:
                if isinstance(child.tag, str) and child.tag not in _BLOCK_TAGS:
                    own.append(child.text_content())
                own.append(child.tail or "")
            text = _norm("".join(own))
            if text:
                self.add(ITEM, f"{label} {text}", depth)
            nested = [c for c in item if isinstance(c.tag, str) and c.tag in _BLOCK_TAGS]
            if not text and nested and nested[0].tag == "p":
                self.add(ITEM, f"{label} {_norm(nested[0].text_content())}", depth)
                nested = nested[1:]
            for child in nested:
                if child.tag in ("ul", "ol"):
                    self.items(child, depth + 1)
                else:
                    self.walk([child], depth + 1)

    def table(self, table: Any) -> None:
        rows = [r for r in table.iter("tr")]
        cells = [[c for c in r if c.tag in ("td", "th")] for r in rows]
        texts = [[_norm(c.text_content()) for c in row] for row in cells]
        kept = [i for i, row in enumerate(texts) if any(row)]
        if len(kept) < 2 or max(len(texts[i]) for i in kept) < 2:
            for i in kept:  # a layout table: its text, as paragraphs
                for cell in cells[i]:
                    self.walk([cell])
            return
        for n, i in enumerate(kept):
            heads = all(c.tag == "th" for c in cells[i]) or rows[i].getparent().tag == "thead"
            kind = HEADER if n == 0 or heads else ROW
            self.pieces.append(Piece(kind, CELL_SEPARATOR.join(texts[i])))


def extract(root: Any, title: str | None = None) -> list[Piece]:
    """The main content's blocks. Changes `root` (site chrome is cut out of it). `title`: the
    page's own title, which names the headline when it stands outside the content."""
    main = _main(root)
    first = next((h for h in root.iter("h1") if _norm(h.text_content())), None)
    # Div soup: the headline often stands just before the content's container.
    headline = (
        _norm(first.text_content())
        if first is not None
        and main.tag != "body"
        and first not in main.iterdescendants()
        and (title or "").startswith(_norm(first.text_content()))
        else None
    )
    _strip_chrome(main)
    walker = _Walker()
    if headline:
        walker.add(HEADING, headline, 1)
    walker.walk([main] if main.tag in ("p", "pre", "table", "ul", "ol") else main)
    return walker.pieces
