"""The on-disk index cache: a restart re-embeds nothing, a changed document re-embeds only itself,
nothing read back can run code, and nothing in it, however damaged, stops the assistant."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import pickle
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant, ConfigurationError
from assistant import snapshot as snapshots
from assistant.cache import PIPELINE_VERSION, Cache
from assistant.documents import load_documents
from assistant.embedding import OnnxEmbedder
from tests.conftest import ROOT

QUESTION = "Why was Kaspersky banned?"


@pytest.fixture(scope="module")
def expected(assistant: Assistant) -> str:
    return assistant.answer(QUESTION).citations[0].quote


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


def test_the_cache_folder_and_its_files_are_the_users_alone(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    Assistant.load(cache_dir=cache)
    for path in [cache, *cache.rglob("*")]:
        assert path.stat().st_mode & 0o077 == 0, path


def test_an_upgrade_removes_the_cache_files_of_older_versions(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    Assistant.load(cache_dir=cache)
    (current,) = cache.rglob("*.npz")
    older = current.with_name(current.name.replace(f"-v{PIPELINE_VERSION}.", "-v1."))
    shutil.copy(current, older)
    current.unlink()
    unrelated = current.with_name("notes.txt")
    unrelated.write_text("kept", encoding="utf-8")
    again = Assistant.load(cache_dir=cache)
    assert again.index.stats.embedded == again.index.stats.passages
    assert not older.exists() and current.exists() and unrelated.exists()


class _Sentinel:
    """Unpickling this creates a file: proof that loading ran code it was handed."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Callable[..., object], tuple[str]]:
        return (os.system, (f"touch {self.path}",))


def _npz_with_a_pickle(payload: object) -> bytes:
    """An .npz whose every array is an object array: a pickle inside NumPy's own format."""
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=True, meta=np.array([payload], dtype=object))
    return buffer.getvalue()


def test_a_planted_snapshot_never_runs(tmp_path: Path, expected: str) -> None:
    folder, cache = tmp_path / "knowledge", tmp_path / "cache"
    shutil.copytree(ROOT / "knowledge", folder)
    sentinel = tmp_path / "pwned"
    documents = load_documents(folder)
    model = OnnxEmbedder.model_id
    store = Cache(cache, model)
    payload = pickle.dumps(_Sentinel(sentinel))
    # Where ed7528b looked for a snapshot of every folder, whatever its size: a pickle it loaded.
    old_key = hashlib.sha256(
        "\n".join(
            ["9.3", model, *(hashlib.sha256(d.text.encode()).hexdigest() for d in documents)]
        ).encode()
    ).hexdigest()
    (store.folder / f"index-{old_key}.pickle").write_bytes(payload)
    # Where snapshots are now, and every document's cache file: NumPy's format with a pickle.
    planted = [snapshots.Snapshots(store)._path(documents)]
    planted += [store.folder / f"{d.fingerprint}-v{PIPELINE_VERSION}.npz" for d in documents]
    for path in planted:
        path.write_bytes(_npz_with_a_pickle(_Sentinel(sentinel)))
    answer = Assistant.load(folder, cache_dir=cache).answer(QUESTION)
    assert not sentinel.exists()
    assert answer.citations[0].quote == expected


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _flip_a_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10
    path.write_bytes(bytes(data))


def _rewrite(path: Path, change: Callable[[dict[str, np.ndarray]], None]) -> None:
    """A cache file that still opens, with its arrays changed."""
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    change(arrays)
    with path.open("wb") as f:
        np.savez(f, **arrays)


def _five_vectors(path: Path) -> None:
    _rewrite(path, lambda a: a.update(vectors=a["vectors"][:5]))


def _offsets_past_the_end(path: Path) -> None:
    def change(arrays: dict[str, np.ndarray]) -> None:
        meta = json.loads(str(arrays["meta"]))
        meta["passages"][-1][1] += 100_000
        arrays["meta"] = np.array(json.dumps(meta))

    _rewrite(path, change)


def _front_matter_quoted(path: Path) -> None:
    def change(arrays: dict[str, np.ndarray]) -> None:
        meta = json.loads(str(arrays["meta"]))
        meta["passages"][0][0] = 0  # the first passage now starts inside the front matter
        arrays["meta"] = np.array(json.dumps(meta))

    _rewrite(path, change)


def _negative_header(path: Path) -> None:
    def change(arrays: dict[str, np.ndarray]) -> None:
        meta = json.loads(str(arrays["meta"]))
        meta["passages"][-1][8] = [-5, 3]  # a table header before the text
        arrays["meta"] = np.array(json.dumps(meta))

    _rewrite(path, change)


def _vectors_scaled(path: Path) -> None:
    _rewrite(path, lambda a: a.update(vectors=a["vectors"] * 3))


def _not_a_zip(path: Path) -> None:
    path.write_bytes(b"not a cache file")


def _a_link(path: Path) -> None:
    target = path.with_name("elsewhere.npz")
    path.rename(target)
    path.symlink_to(target)


def _another_users(path: Path) -> None:
    os.chown(path, 4242, 4242)


def _writable_by_others(path: Path) -> None:
    path.chmod(0o666)


@pytest.mark.parametrize(
    "damage",
    [
        _truncate,
        _empty,
        _flip_a_bit,
        _not_a_zip,
        _five_vectors,
        _offsets_past_the_end,
        _front_matter_quoted,
        _negative_header,
        _vectors_scaled,
        _a_link,
        pytest.param(
            _another_users,
            marks=pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root"),
        ),
        _writable_by_others,
    ],
)
def test_a_damaged_or_untrusted_cache_file_is_discarded_once_and_rebuilt(
    tmp_path: Path,
    damage: Callable[[Path], None],
    expected: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache = tmp_path / "cache"
    Assistant.load(cache_dir=cache)
    (path,) = cache.rglob("*.npz")
    damage(path)
    caplog.set_level(logging.WARNING)
    rebuilt = Assistant.load(cache_dir=cache)
    assert rebuilt.index.stats.embedded == rebuilt.index.stats.passages
    assert rebuilt.answer(QUESTION).citations[0].quote == expected
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "Discarded the index cache file" in warnings[0].getMessage()
    assert "Traceback" not in caplog.text
    caplog.clear()
    again = Assistant.load(cache_dir=cache)  # rebuilt for good: read back without a word
    assert again.index.stats.embedded == 0 and not caplog.records


def test_a_cache_folder_others_can_write_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    cache = tmp_path / "shared"
    cache.mkdir(mode=0o777)
    cache.chmod(0o777)
    with pytest.raises(ConfigurationError, match="other users can write to it.*POLICY_QA_CACHE"):
        Assistant.load(cache_dir=cache)


@pytest.fixture
def large(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshots, "MIN_PASSAGES", 1)  # the bundled article counts as large here


def test_a_large_index_restarts_from_its_snapshot(tmp_path: Path, large: None) -> None:
    folder, cache = tmp_path / "knowledge", tmp_path / "cache"
    shutil.copytree(ROOT / "knowledge", folder)
    first = Assistant.load(folder, cache_dir=cache)
    (snapshot,) = cache.rglob("index-*.npz")
    assert zipfile.is_zipfile(snapshot) and snapshot.stat().st_mode & 0o077 == 0
    aside = tmp_path / "aside"
    aside.mkdir()
    for path in cache.rglob("*-v*.npz"):
        path.rename(aside / path.name)  # nothing but the snapshot to restart from
    again = Assistant.load(folder, cache_dir=cache)
    assert again.index.stats.embedded == 0
    assert again.answer(QUESTION) == first.answer(QUESTION)
    for name in ("bm25", "paragraph_bm25"):  # the BM25 indexes read back score as built
        built, read = getattr(first.index, name), getattr(again.index, name)
        tokens = ["kaspersky", "twitter", "ban"]
        assert np.array_equal(built.get_scores(tokens), read.get_scores(tokens))
    for path in aside.iterdir():
        path.rename(snapshot.parent / path.name)

    (folder / "note.md").write_text("The office closes at six on Fridays.", encoding="utf-8")
    changed = Assistant.load(folder, cache_dir=cache)  # other documents: another snapshot
    assert changed.index.stats.embedded == 1
    assert changed.answer("When does the office close on Fridays?").answered


@pytest.mark.parametrize("damage", [_flip_a_bit, _truncate, _empty])
def test_a_damaged_snapshot_is_rebuilt(
    tmp_path: Path, large: None, damage: Callable[[Path], None], expected: str
) -> None:
    cache = tmp_path / "cache"
    Assistant.load(cache_dir=cache)
    (snapshot,) = cache.rglob("index-*.npz")
    damage(snapshot)
    assert Assistant.load(cache_dir=cache).answer(QUESTION).citations[0].quote == expected


def test_a_snapshot_of_other_documents_is_never_used(
    tmp_path: Path, large: None, expected: str
) -> None:
    """A snapshot copied under another folder's name (its key) still names its own documents."""
    folder, cache = tmp_path / "knowledge", tmp_path / "cache"
    shutil.copytree(ROOT / "knowledge", folder)
    (folder / "note.md").write_text("The office closes at six on Fridays.", encoding="utf-8")
    Assistant.load(folder, cache_dir=cache)
    (other,) = cache.rglob("index-*.npz")
    (folder / "note.md").unlink()
    store = Cache(cache, OnnxEmbedder.model_id)
    shutil.copy(other, snapshots.Snapshots(store)._path(load_documents(folder)))
    assert Assistant.load(folder, cache_dir=cache).answer(QUESTION).citations[0].quote == expected
