"""Passages: exact offsets, quotations and their speakers, boilerplate left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.documents import read_document
from assistant.passages import opens_list_item, split_passages
from tests.conftest import ROOT

ARTICLE = ROOT / "knowledge" / "kaspersky-twitter-article.md"


def _passages(path: Path) -> dict[str, tuple[str | None, bool, int]]:
    doc = read_document(path)
    return {
        doc.text[p.start : p.end]: (p.speaker, p.quoted, p.paragraph) for p in split_passages(doc)
    }


def _write(tmp_path: Path, text: str, name: str = "doc.md") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_offsets_are_exact_and_passages_are_sentences() -> None:
    doc = read_document(ARTICLE)
    with open(ARTICLE, encoding="utf-8") as f:
        raw = f.read()
    passages = split_passages(doc)
    assert len(passages) >= 15
    for p in passages:
        text = raw[p.start : p.end]
        assert text == text.strip()
        # a quotation mark at either end has its partner inside the passage
        assert text[0] != "“" or "”" in text[1:]
        assert text[-1] != "”" or "“" in text[:-1]
    assert any(raw[p.start : p.end] == "We fight monopolies and win." for p in passages)


def test_letter_quotes_are_attributed_to_the_letter_writer() -> None:
    passages = _passages(ARTICLE)
    assert passages["When we see injustice – we fight it."][:2] == ("Eugene Kaspersky", True)
    assert passages["They do a lot to fight censorship online."][:2] == ("Eugene Kaspersky", True)
    no_more_ads = next(t for t in passages if t.startswith("No matter how this situation develops"))
    assert passages[no_more_ads][:2] == ("Eugene Kaspersky", True)


def test_narration_has_no_speaker() -> None:
    passages = _passages(ARTICLE)
    feels = next(t for t in passages if t.startswith("Kaspersky feels that Twitter"))
    assert passages[feels][:2] == (None, False)
    # a short embedded quotation does not turn the narrator's sentence into a quote
    copy = next(t for t in passages if "the copy of the same boilerplate text" in t)
    assert passages[copy][:2] == (None, False)


def test_site_boilerplate_is_never_a_passage() -> None:
    text = " ".join(_passages(ARTICLE))
    for phrase in (
        "Sign up for Newsletters",
        "Subscribe to our newsletter",
        "sponsored content",
        "Claim the Offer",
        "55%",
    ):
        assert phrase not in text


def test_attribution_cues_name_the_speaker(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "The council met on Monday. “We will publish the budget in full next week,” said Maria Lopez.\n\n"
        "Maria Lopez is the treasurer. She later told reporters: “Nothing will be hidden from the public.”\n\n"
        "According to the memo, the office closes early. “Staff may leave at three on Fridays,” the memo reads.\n",
    )
    passages = _passages(path)
    assert passages["“We will publish the budget in full next week,” said Maria Lopez."][:2] == (
        "Maria Lopez",
        True,
    )
    # "She ... told": the pronoun is the person named before
    assert passages["Nothing will be hidden from the public."][:2] == ("Maria Lopez", True)
    assert passages["“Staff may leave at three on Fridays,” the memo reads."][:2] == (
        "the memo",
        True,
    )
    assert passages["The council met on Monday."][:2] == (None, False)


def test_metadata_names_the_default_speaker_and_the_documents_own_voice(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "---\ntitle: Letter\nspeaker: Ada Byron\nquote_speaker: The Board\n---\n"
        "I write to you about the new rules. The rules say “all doors must be locked at night”, and I agree.\n"
        "\n“Visitors must sign in at the front desk at all times.”\n",
    )
    passages = _passages(path)
    assert passages["I write to you about the new rules."][0] == "Ada Byron"
    assert passages["Visitors must sign in at the front desk at all times."][:2] == (
        "The Board",
        True,
    )


def test_markdown_structure_headings_lists_and_code(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "# Handbook\n\n## Holidays\n\nStaff get 25 days of leave. Unused days expire in March.\n\n"
        "- Requests go to your manager.\n- Approval takes two days.\n\n```\ncode = 'not prose'\n```\n",
    )
    doc = read_document(path)
    found = {doc.text[p.start : p.end]: p for p in split_passages(doc)}
    assert set(found) == {
        "Staff get 25 days of leave.",
        "Unused days expire in March.",
        "Requests go to your manager.",
        "Approval takes two days.",
    }
    assert found["Staff get 25 days of leave."].section == "Holidays"
    assert found["Approval takes two days."].paragraph == 3


@pytest.mark.parametrize(
    ("markdown", "sections"),
    [
        (  # a heading of several words keeps its spaces, without its marks or numbering
            "# Leave  policy\n\nStaff get 25 days.\n\n### 2. Sick leave ###\n\nCall in by ten.\n\n"
            "Remote work\n\nUp to three days a week from home.\n",
            {
                "Staff get 25 days.": "Leave policy",
                "Call in by ten.": "Sick leave",
                "Up to three days a week from home.": "Remote work",
            },
        ),
        (  # a table's rows are passages of their own; its header row goes with each of them
            "## Limits\n\n| Item | Limit |\n|------|-------|\n| Hotel | £120 per night |\n"
            "| Dinner | £30 |\n\nSee the portal for forms.\n",
            {
                "| Hotel | £120 per night |": "Limits",
                "| Dinner | £30 |": "Limits",
                "See the portal for forms.": "Limits",
            },
        ),
        (  # a numbered item is its sentences, not "1." and then its text
            "## Steps\n\n1. Book by Friday.\n2) Ask your manager. Then wait.\n",
            {"Book by Friday.": "Steps", "Ask your manager.": "Steps", "Then wait.": "Steps"},
        ),
    ],
)
def test_passages_and_their_sections(
    tmp_path: Path, markdown: str, sections: dict[str, str]
) -> None:
    doc = read_document(_write(tmp_path, markdown))
    assert {doc.text[p.start : p.end]: p.section for p in split_passages(doc)} == sections


def test_abbreviations_and_initials_do_not_end_sentences(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "Dr. Smith met J. R. Jones in the U.S. on Jan. 5. They signed the deal, e.g. the lease.",
    )
    assert list(_passages(path)) == [
        "Dr. Smith met J. R. Jones in the U.S. on Jan. 5.",
        "They signed the deal, e.g. the lease.",
    ]


def test_windows_line_endings_and_bom_keep_offsets_exact(tmp_path: Path) -> None:
    path = tmp_path / "win.txt"
    path.write_bytes("\ufeffFirst rule applies.\r\n\r\nSecond rule “quoted here.”\r\n".encode())
    doc = read_document(path)
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    texts = [raw[p.start : p.end] for p in split_passages(doc)]
    assert texts == ["First rule applies.", "Second rule “quoted here.”"]


def test_every_table_row_carries_its_header_row_even_at_the_end(tmp_path: Path) -> None:
    """The last row ("| Sales | …") was once dropped as a site's call to action."""
    doc = read_document(
        _write(
            tmp_path,
            "# Equipment\n\nWhat each team gets:\n\n| Role | Laptop | Monitors |\n"
            "|---|---|---|\n| Engineers | Dell XPS 15 | Two 27-inch |\n| Sales | MacBook Air | One |\n",
        )
    )
    rows = {
        doc.text[p.start : p.end]: doc.text[p.header[0] : p.header[1]]
        for p in split_passages(doc)
        if p.header
    }
    assert rows == {
        "| Engineers | Dell XPS 15 | Two 27-inch |": "| Role | Laptop | Monitors |",
        "| Sales | MacBook Air | One |": "| Role | Laptop | Monitors |",
    }


@pytest.mark.parametrize(
    "code",
    [
        "```bash\nsudo vpn-setup --user alice.\n```\n",
        "~~~\nexport TOKEN=abc. Then run it.\n~~~\n",
        "````\n```\nnested fence. Still code.\n```\n````\n",
        "> ```\n> quoted code line. Still code.\n> ```\n",
        "    indented code line. Still code.\n    second line.\n",
        "```\nan unclosed fence runs to the end. Still code.\n",
    ],
)
def test_code_is_never_quoted(tmp_path: Path, code: str) -> None:
    doc = read_document(_write(tmp_path, f"# Setup\n\nRun this first:\n\n{code}\nThen restart.\n"))
    texts = [doc.text[p.start : p.end] for p in split_passages(doc)]
    assert not any("code" in t or "TOKEN" in t or "sudo" in t for t in texts), texts
    assert texts[0] == "Run this first:"


def test_an_indented_paragraph_after_a_list_item_continues_it(tmp_path: Path) -> None:
    doc = read_document(
        _write(tmp_path, "1. Book the trip.\n\n    Use the portal for this. It is quick.\n")
    )
    assert "Use the portal for this." in [doc.text[p.start : p.end] for p in split_passages(doc)]


def test_list_items_and_table_rows_are_told_from_sentences() -> None:
    text = "Rules:\n\n1. Book early. Pack light.\n- Bring a map.\n| Fee | £5 |\nPlain line.\n"
    opening = {word: opens_list_item(text, text.index(word)) for word in
               ("Rules", "Book", "Pack", "Bring", "Fee", "Plain")}  # fmt: skip
    assert opening == {
        "Rules": False, "Book": True, "Pack": False, "Bring": True, "Fee": True, "Plain": False,
    }  # fmt: skip
