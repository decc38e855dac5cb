"""The on-disk index cache: a restart re-embeds nothing, a changed document re-embeds only itself."""

from __future__ import annotations

import shutil
from pathlib import Path

from assistant import Assistant
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


def test_a_damaged_cache_file_is_ignored_and_rebuilt(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    Assistant.load(cache_dir=cache)
    for path in cache.rglob("*.npz"):
        path.write_bytes(b"not a cache file")
    rebuilt = Assistant.load(cache_dir=cache)
    assert rebuilt.index.stats.embedded == rebuilt.index.stats.passages
    assert rebuilt.answer("Why was Kaspersky banned?").answered
