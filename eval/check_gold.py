"""Checks that every gold phrase in the held-out sets occurs in its documents.

Run from the repository root: python eval/check_gold.py
Folds case, whitespace, curly quotes and dashes, as the eval does. Exit 1 on any miss.
"""

import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
FOLDERS = {
    "workplace": ROOT / "eval" / "workplace",
    "article": ROOT / "knowledge",
    "office": ROOT / "eval" / "office",
    "harbour": ROOT / "eval" / "harbour",
}
SETS = [
    ("workplace-held-out.jsonl", "workplace"),
    ("article-held-out-2.jsonl", "article"),
    ("dialogues.jsonl", None),
    ("office-held-out.jsonl", "office"),
    ("article-held-out-3.jsonl", "article"),
    ("harbour-held-out.jsonl", "harbour"),
    ("article-held-out-4.jsonl", "article"),
]
QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
    }
)
DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"})


def fold(text):
    return re.sub(r"\s+", " ", text.lower().translate(QUOTES).translate(DASHES)).strip()


def body(text):
    """The text without its YAML front matter, which is never quoted."""
    match = re.match(r"---\n.*?\n---\n", text, re.S)
    return text[match.end() :] if match else text


def folder_text(folder):
    return [
        fold(body(p.read_text(encoding="utf-8")))
        for p in sorted(folder.rglob("*"))
        if p.suffix in (".md", ".markdown", ".txt")
    ]


def main():
    texts = {name: folder_text(path) for name, path in FOLDERS.items()}
    misses = 0
    for filename, knowledge in SETS:
        answerable = refused = 0
        lines = (ROOT / "eval" / filename).read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines, 1):
            row = json.loads(line)
            gold = row["gold"]
            if gold is None:
                refused += 1
                continue
            answerable += 1
            for phrase in gold:
                if not 3 <= len(fold(phrase).split()) <= 8:
                    print(f"{filename}:{n}: not 3-8 words: {phrase!r}")
                    misses += 1
                if not any(fold(phrase) in t for t in texts[knowledge or row["knowledge"]]):
                    print(f"{filename}:{n}: gold phrase not found: {phrase!r}")
                    misses += 1
        print(f"{filename}: {answerable} answerable + {refused} unanswerable")
    print("all gold phrases found" if not misses else f"{misses} problem(s)")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
