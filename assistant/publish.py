"""A published index: built once by `policy-qa index --into DIR`, loaded read-only by any number
of answering processes, which embed nothing.

DIR/<model>/manifest.json names the current version's file (index-<version>.npz) and its SHA-256;
that file holds the whole index (the snapshot's arrays) and every document's text and metadata,
so a worker needs nothing else to answer. Each quote is still checked against the file in the
knowledge folder before it is sent: a document changed since the version was published is not
quoted until the indexer publishes it again, which the workers pick up without a restart.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.cache import PIPELINE_VERSION, Cache, DamagedFile, digest
from assistant.document import Document
from assistant.index import Index, IndexStats, Parts
from assistant.snapshot import LAYOUT, get_array, index_arrays, read_parts

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
KEEP = 2  # versions kept: the current one, and the one a slow worker may still be loading
_VERSION_FILE = re.compile(r"index-[0-9a-f]{16}\.npz")
_FIELDS = ("title", "publisher", "author", "date", "url", "speaker", "quote_speaker")


@dataclass(frozen=True)
class Published:
    version: str
    index: Index


def _documents_arrays(documents: Sequence[Document], root: Path) -> dict[str, npt.NDArray[Any]]:
    texts = [d.text.encode("utf-8") for d in documents]
    bounds = np.cumsum([0, *(len(t) for t in texts)], dtype=np.int64)
    described = [
        {
            "path": d.path.relative_to(root).as_posix(),
            "fingerprint": d.fingerprint,
            "body_start": d.body_start,
            "metadata": d.metadata,
            **{name: getattr(d, name) for name in _FIELDS},
        }
        for d in documents
    ]
    return {
        "documents": np.array(json.dumps(described)),
        "texts": np.frombuffer(b"".join(texts), dtype=np.uint8),
        "text_bounds": bounds,
    }


def publish(index: Index, model_id: str, root: Path, into: Path) -> str:
    """Write `index` (of the documents below `root`) as the current version in `into`; returns
    the version. Raises OSError when it cannot be written."""
    store = Cache(into, model_id)
    if not store.writable:
        raise OSError(f"cannot write to {into}")
    version = digest(
        f"{PIPELINE_VERSION}.{LAYOUT}", model_id, *(d.fingerprint for d in index.documents)
    )[:16]
    name = f"index-{version}.npz"
    path = store.folder / name
    arrays = {**index_arrays(index, model_id), **_documents_arrays(index.documents, root)}
    if not store.write(path, **arrays):
        raise OSError(f"cannot write {path}")
    manifest = {
        "version": version,
        "file": name,
        "sha256": _sha256(path),
        "model": model_id,
        "pipeline": PIPELINE_VERSION,
        "layout": LAYOUT,
        "documents": len(index.documents),
        "passages": len(index),
        "published": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if not store.write_bytes(store.folder / MANIFEST, json.dumps(manifest, indent=1).encode()):
        raise OSError(f"cannot write the manifest in {store.folder}")
    for old in sorted(store.folder.glob("index-*.npz"), key=lambda p: p.stat().st_mtime)[:-KEEP]:
        if old.name != name:
            old.unlink(missing_ok=True)
    return version


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def current_version(into: Path, model_id: str) -> str | None:
    """The version the manifest names now (None if there is none to read)."""
    try:
        manifest = json.loads(Cache(into, model_id).read_bytes(into / model_id / MANIFEST))
    except (OSError, ValueError):
        return None
    version = manifest.get("version") if isinstance(manifest, dict) else None
    return version if isinstance(version, str) else None


def _documents(data: Any, root: Path) -> list[Document]:
    described = json.loads(str(get_array(data, "documents", np.str_, 0)))
    blob = get_array(data, "texts", np.uint8, 1).tobytes()
    bounds = get_array(data, "text_bounds", np.int64, 1)
    if not isinstance(described, list) or len(bounds) != len(described) + 1:
        raise DamagedFile("its documents and texts do not match")
    if bounds[0] != 0 or bounds[-1] != len(blob) or np.any(np.diff(bounds) < 0):
        raise DamagedFile("its texts' bounds are out of order")
    documents = []
    for d, row in enumerate(described):
        if not isinstance(row, dict):
            raise DamagedFile("a document's description is not a mapping")
        relative = Path(str(row.get("path", "")))
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise DamagedFile(f"a document's path {relative} leads outside the knowledge folder")
        fields = {name: row.get(name) for name in _FIELDS}
        if not all(v is None or isinstance(v, str) for v in fields.values()) or not fields["title"]:
            raise DamagedFile("a document's metadata is not text")
        metadata, body_start = row.get("metadata"), row.get("body_start")
        if not isinstance(metadata, dict) or type(body_start) is not int:
            raise DamagedFile("a document's metadata is malformed")
        text = blob[bounds[d] : bounds[d + 1]].decode("utf-8")
        if not 0 <= body_start <= len(text):
            raise DamagedFile("a document's body starts outside its text")
        documents.append(
            Document(
                path=root / relative,
                text=text,
                body_start=body_start,
                metadata={str(k): str(v) for k, v in metadata.items()},
                fingerprint=str(row.get("fingerprint", "")),
                **fields,  # type: ignore[arg-type]
            )
        )
    return documents


def load_published(into: Path, root: Path, model_id: str) -> Published:
    """The current version in `into`, checked: the manifest's file must have the SHA-256 it
    names, and every array the shape and range an index needs. Raises DamagedFile (a ValueError)
    or OSError, with the reason."""
    store = Cache(into, model_id)
    manifest = json.loads(store.read_bytes(store.folder / MANIFEST))
    if not isinstance(manifest, dict):
        raise DamagedFile("the manifest is not a mapping")
    claimed = [manifest.get(k) for k in ("model", "pipeline", "layout")]
    if claimed != [model_id, PIPELINE_VERSION, LAYOUT]:
        raise DamagedFile(
            f"it was published for {claimed[0]}, pipeline {claimed[1]}, layout {claimed[2]}: "
            "publish it again with this version of policy-qa"
        )
    name = manifest.get("file")
    if not isinstance(name, str) or not _VERSION_FILE.fullmatch(name):
        raise DamagedFile("the manifest names no index file")
    sha256 = manifest.get("sha256")
    if not isinstance(sha256, str):
        raise DamagedFile("the manifest names no SHA-256")
    with store.read(store.folder / name, sha256) as data:
        documents = _documents(data, root)
        parts = Parts(**read_parts(data, documents, model_id))
    stats = IndexStats(len(documents), len(parts.passages), 0)
    return Published(str(manifest.get("version")), Index(documents, parts, stats))
