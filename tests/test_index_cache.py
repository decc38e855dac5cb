"""The on-disk index cache: a restart re-embeds nothing, a changed document re-embeds only itself."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.index import PIPELINE_VERSION, _Snapshots
from tests.conftest import ROOT


def test_restart_reuses_the_cache_and_a_change_re_embeds_one_document(tmp_path: Path) -> None:
    folder, cache = tmp_path / "knowledge", tmp_path / "cache"
    shutil.copytree(ROOT / "knowledge", folder)
    (folder / "leave.md").write_text(
        "---\ntitle: Leave policy\n---\nStaff get 25 days of paid leave a year. Unused days expire in March.\n",
        encoding="utf-8",
    )
    first = Assistant.load(folder, cache_dir=cache)
    assert first.index.stats.embedded == first.index.stats.passages > 20

    again = Assistant.load(folder, cache_dir=cache)
    assert again.index.stats.embedded == 0

    (folder / "leave.md").write_text(
        "---\ntitle: Leave policy\n---\nStaff get 30 days of paid leave a year. Unused days expire in April. "
        "Carry-over needs approval.\n",
        encoding="utf-8",
    )
    changed = Assistant.load(folder, cache_dir=cache)
    assert (
        changed.index.stats.embedded == 3
    )  # the three sentences of the changed file, nothing else
    answer = changed.answer("How many days of paid leave do staff get?")
    assert answer.answered and "30 days" in answer.citations[0].quote


def test_an_upgrade_removes_the_cache_files_of_older_versions(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    Assistant.load(cache_dir=cache)
    (current,) = cache.rglob("*.npz")
    older = current.with_name(current.name.replace(f"-v{PIPELINE_VERSION}.", "-v1."))
    current.rename(older)
    unrelated = current.with_name("notes.txt")
    unrelated.write_text("kept", encoding="utf-8")
    again = Assistant.load(cache_dir=cache)
    assert again.index.stats.embedded == again.index.stats.passages
    assert not older.exists() and current.exists() and unrelated.exists()


def test_a_damaged_cache_file_is_ignored_and_rebuilt(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    Assistant.load(cache_dir=cache)
    for path in cache.rglob("*.npz"):
        path.write_bytes(b"not a cache file")
    rebuilt = Assistant.load(cache_dir=cache)
    assert rebuilt.index.stats.embedded == rebuilt.index.stats.passages
    assert rebuilt.answer("Why was Kaspersky banned?").answered


def test_a_large_index_restarts_from_its_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_Snapshots, "MIN_PASSAGES", 1)  # the bundled article counts as large here
    folder, cache = tmp_path / "knowledge", tmp_path / "cache"
    shutil.copytree(ROOT / "knowledge", folder)
    first = Assistant.load(folder, cache_dir=cache)
    (snapshot,) = cache.rglob("index-*.pickle")
    assert snapshot.stat().st_mode & 0o077 == 0  # private to the user: it is a pickle
    again = Assistant.load(folder, cache_dir=cache)
    assert again.index.stats.embedded == 0
    question = "Why was Kaspersky banned?"
    assert again.answer(question) == first.answer(question)

    (folder / "note.md").write_text("The office closes at six on Fridays.", encoding="utf-8")
    changed = Assistant.load(folder, cache_dir=cache)  # other documents: another snapshot
    assert changed.index.stats.embedded == 1
    assert changed.answer("When does the office close on Fridays?").answered

    snapshot.write_bytes(b"damaged")
    (folder / "note.md").unlink()
    assert Assistant.load(folder, cache_dir=cache).answer(question) == first.answer(question)
