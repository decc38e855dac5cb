"""Benchmark corpora: real privacy-policy sentences (PolicyQA) recombined into N-passage folders.

`benchmarks/corpus/` holds a compact extract of the PolicyQA dev split (MIT, see its LICENSE): one
.txt per policy and the distinct questions. Bigger corpora are generated from its sentences at run
time into the git-ignored `benchmarks/data/`; re-running with the same size reuses them.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
from pathlib import Path

from assistant.documents import load_documents, read_document
from assistant.passages import split_passages

HERE = Path(__file__).resolve().parent
EXTRACT = HERE / "corpus"
POLICIES = EXTRACT / "policies"
QUESTIONS = EXTRACT / "questions.txt"
DATA = HERE / "data"
GENERATOR_VERSION = 1  # bump when the generated text changes, so old corpora are rebuilt

_SENTENCE = re.compile(r"[A-Z0-9\"“(].{28,398}[.!?]")


def extract(dev_json: Path) -> None:
    """Write the compact extract from PolicyQA's SQuAD-format dev.json (run once, then commit)."""
    data = json.loads(dev_json.read_text(encoding="utf-8"))
    if POLICIES.exists():
        shutil.rmtree(POLICIES)
    POLICIES.mkdir(parents=True)
    questions: dict[str, None] = {}
    for policy in data["data"]:
        paragraphs = [p["context"].strip() for p in policy["paragraphs"]]
        name = re.sub(r"[^\w.-]+", "-", policy["title"]).strip("-")
        (POLICIES / f"{name}.txt").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
        for paragraph in policy["paragraphs"]:
            questions.update((" ".join(q["question"].split()), None) for q in paragraph["qas"])
    QUESTIONS.write_text("\n".join(questions) + "\n", encoding="utf-8")
    shutil.copy(dev_json.parent / "LICENSE", EXTRACT / "LICENSE")


def questions() -> list[str]:
    """The distinct PolicyQA questions, in a fixed shuffled order."""
    lines = [q for q in QUESTIONS.read_text(encoding="utf-8").splitlines() if q.strip()]
    random.Random(7).shuffle(lines)
    return lines


def sentence_pool() -> list[str]:
    """Sentences of the policies (as the core splits them) that stay one passage on their own."""
    pool: dict[str, None] = {}
    for doc in load_documents(POLICIES):
        for p in split_passages(doc):
            text = doc.text[p.start : p.end]
            if "\n" not in text and _SENTENCE.fullmatch(text):
                pool[text] = None
    return list(pool)


def _document(rng: random.Random, pool: list[str], number: int, passages: int) -> str:
    paragraphs, left = [], passages
    while left:
        size = min(left, rng.randint(1, 5))
        paragraphs.append(" ".join(rng.choice(pool) for _ in range(size)))
        left -= size
    return f"# Privacy policy {number:05d}\n\n" + "\n\n".join(paragraphs) + "\n"


def generate(folder: Path, passages: int, seed: int = 0) -> int:
    """Write documents of 20-50 passages each, sentences drawn across all policies, until the
    folder holds `passages` passages as the core splits them. Returns the count reached."""
    pool, rng = sentence_pool(), random.Random(seed)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    total, number = 0, 0
    while total < passages:
        want = min(rng.randint(20, 50), passages - total)
        path = folder / f"policy-{number:05d}.md"
        for _ in range(5):  # a rare sentence joins its neighbour: draw again to hit the count
            path.write_text(_document(rng, pool, number, want), encoding="utf-8")
            got = len(split_passages(read_document(path)))
            if got == want:
                break
        total += got
        number += 1
    return total


def corpus(passages: int, seed: int = 0) -> Path:
    """The generated corpus of `passages` passages, made on first use and reused after."""
    folder = DATA / "corpora" / f"p{passages}-s{seed}"
    manifest = folder / ".corpus.json"  # hidden: the core skips dot files
    wanted = {"passages": passages, "seed": seed, "version": GENERATOR_VERSION}
    if manifest.exists() and json.loads(manifest.read_text())["request"] == wanted:
        return folder
    reached = generate(folder, passages, seed)
    manifest.write_text(json.dumps({"request": wanted, "passages": reached}))
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Refresh benchmarks/corpus from PolicyQA's dev.json"
    )
    parser.add_argument("dev_json", type=Path, help="e.g. benchmarks/policyqa/dev.json")
    extract(parser.parse_args().dev_json)


if __name__ == "__main__":
    main()
