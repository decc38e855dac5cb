"""Index once, serve many: an index published by `policy-qa index --into` is loaded read-only,
checked, and answered from without embedding a passage; a new version is picked up live."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant, KnowledgeError
from assistant.embedding import Vectors
from tests.conftest import ROOT

QUESTION = "What is the mileage rate for using my own car?"


class CountingEmbedder:
    """The real model, counting the texts it is asked to embed."""

    def __init__(self, inner: object) -> None:
        self.inner, self.texts = inner, 0
        self.model_id = inner.model_id  # type: ignore[attr-defined]

    def embed(self, texts: list[str], progress: object = None) -> Vectors:
        self.texts += len(texts)
        vectors: Vectors = self.inner.embed(texts, progress)  # type: ignore[attr-defined]
        return vectors


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    folder = tmp_path / "knowledge"
    folder.mkdir()
    (folder / "travel.md").write_text(
        "# Travel\n\nStaff who drive their own car for work are paid 45p per mile.\n\n"
        "Hotels must be booked through the travel desk.\n",
        encoding="utf-8",
    )
    (folder / "leave.md").write_text(
        "# Leave\n\nFull-time staff get 28 days of paid holiday a year.\n", encoding="utf-8"
    )
    return folder


def _publish(knowledge: Path, into: Path, cache: Path) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICY_QA_")}
    return subprocess.run(
        [sys.executable, "-m", "adapters.cli", "--knowledge", str(knowledge), "index", "--into",
         str(into)],
        capture_output=True,
        env={**env, "POLICY_QA_CACHE": str(cache), "PYTHONPATH": str(ROOT)},
        timeout=120,
    )  # fmt: skip


def test_a_published_index_answers_without_embedding_a_passage(
    knowledge: Path, tmp_path: Path, assistant: Assistant
) -> None:
    into = tmp_path / "published"
    result = _publish(knowledge, into, tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    assert b"published version" in result.stderr
    (manifest,) = into.rglob("manifest.json")
    assert json.loads(manifest.read_text())["passages"] == 3
    embedder = CountingEmbedder(assistant.embedder)
    worker = Assistant.load(knowledge, embedder=embedder, index_dir=into)  # type: ignore[arg-type]
    assert embedder.texts == 0 and worker.index.stats.embedded == 0
    answer = worker.answer(QUESTION)
    assert embedder.texts <= 3  # the question's own vectors, never a passage
    built = Assistant.load(knowledge, cache_dir=tmp_path / "cache")
    assert answer.answered and answer == built.answer(QUESTION)
    assert np.array_equal(worker.index.vectors, built.index.vectors)


def test_a_damaged_or_missing_published_index_is_a_clear_error(
    knowledge: Path, tmp_path: Path
) -> None:
    into = tmp_path / "published"
    with pytest.raises(KnowledgeError, match="Nothing is published"):
        Assistant.load(knowledge, index_dir=into)
    assert _publish(knowledge, into, tmp_path / "cache").returncode == 0
    (path,) = into.rglob("index-*.npz")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(KnowledgeError, match="SHA-256"):
        Assistant.load(knowledge, index_dir=into)


def test_workers_never_quote_a_changed_file_and_pick_up_the_next_version(
    knowledge: Path, tmp_path: Path
) -> None:
    into, cache = tmp_path / "published", tmp_path / "cache"
    assert _publish(knowledge, into, cache).returncode == 0
    worker = Assistant.load(knowledge, index_dir=into)
    worker.watch()
    try:
        assert "45p" in worker.answer(QUESTION).citations[0].quote
        travel = knowledge / "travel.md"
        travel.write_text(travel.read_text().replace("45p", "55p"), encoding="utf-8")
        stale = worker.answer(QUESTION)  # the indexer has not published it yet
        assert not any("45p" in c.quote or "55p" in c.quote for c in stale.citations)
        assert _publish(knowledge, into, cache).returncode == 0
        deadline = time.monotonic() + 10
        while "55p" not in " ".join(c.quote for c in worker.answer(QUESTION).citations):
            assert time.monotonic() < deadline, "the new version was not picked up"
            time.sleep(0.1)
        assert worker.index.stats.embedded == 0
    finally:
        worker.close()


def test_ask_answers_from_the_index_named_by_the_environment(
    knowledge: Path, tmp_path: Path
) -> None:
    into = tmp_path / "published"
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICY_QA_")}
    env |= {"POLICY_QA_INDEX_DIR": str(into), "PYTHONPATH": str(ROOT)}
    env |= {"POLICY_QA_CACHE": str(tmp_path / "cache")}

    def ask() -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "adapters.cli", "--knowledge", str(knowledge), "ask", "--json",
             QUESTION],
            capture_output=True, env=env, timeout=120,
        )  # fmt: skip

    missing = ask()
    assert missing.returncode == 3 and b"policy-qa index --into" in missing.stderr
    assert _publish(knowledge, into, tmp_path / "cache").returncode == 0
    answered = ask()
    assert answered.returncode == 0 and json.loads(answered.stdout)["answered"]
