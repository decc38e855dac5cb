"""A .docx package read safely: sizes checked before inflating, XML parsed without entities."""

from __future__ import annotations

import io
import posixpath
import zipfile
import zlib
from typing import Any

from lxml import etree

from assistant.document import one_line

# The parts read (document, styles, numbering, notes, properties) may inflate to this much in all.
# A real policy's document.xml is a few MB (an 8,000-block, 2.2 M-character test file: 13 MB);
# the zip bomb in tests/data/formats/bomb.docx declares 537 MB in a 67 KB file.
MAX_UNZIPPED_BYTES = 100_000_000
_CHUNK = 1 << 20  # parts are inflated 1 MiB at a time, so a lying size header costs no memory

_PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CORE = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
}
_CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a legacy .doc, or an encrypted .docx

_PARSER = etree.XMLParser(
    resolve_entities=False,  # no entity expansion: no "billion laughs", no external entities
    no_network=True,
    load_dtd=False,
    huge_tree=False,  # lxml's own limits on depth and text size stay on
    remove_comments=True,
    remove_pis=True,
)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.0f} MB"


class Package:
    """The zip file, read within MAX_UNZIPPED_BYTES, its XML parts parsed safely."""

    def __init__(self, data: bytes) -> None:
        if data.startswith(_OLE_MAGIC):
            raise ValueError(
                "it is encrypted (a password is needed) or an old Word 97-2003 file "
                "(save it as .docx)"
            )
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError):
            raise ValueError("it is not a Word file (not a zip)") from None
        self.unzipped = 0

    def xml(self, name: str) -> Any | None:
        """The parsed part `name`, or None when the package has none."""
        try:
            info = self.zip.getinfo(name)
        except KeyError:
            return None
        if self.unzipped + info.file_size > MAX_UNZIPPED_BYTES:
            raise ValueError(
                f"its content would be {_megabytes(self.unzipped + info.file_size)} once "
                f"unzipped, over the {_megabytes(MAX_UNZIPPED_BYTES)} limit"
            )
        try:
            raw = self._inflate(info)
            return etree.fromstring(raw, _PARSER)
        except etree.XMLSyntaxError as e:
            raise ValueError(f"it is damaged ({name} is not well-formed XML: {e})") from None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as e:
            raise ValueError(f"it is damaged ({name}: {e})") from None
        except RuntimeError as e:  # zipfile: "File ... is encrypted, password required"
            raise ValueError(f"it is encrypted or damaged ({e})") from None

    def _inflate(self, info: zipfile.ZipInfo) -> bytes:
        # zipfile stops at the size the header declares and then checks the CRC, so a header
        # that lies about the size raises BadZipFile here instead of inflating more (measured on
        # a 256 MB bomb declaring 100 kB: 0.08 s, 21 MB).
        chunks: list[bytes] = []
        with self.zip.open(info) as part:
            while chunk := part.read(_CHUNK):
                chunks.append(chunk)
                self.unzipped += len(chunk)
                if self.unzipped > MAX_UNZIPPED_BYTES:
                    raise ValueError(
                        f"its content is over {_megabytes(MAX_UNZIPPED_BYTES)} once unzipped"
                    )
        return b"".join(chunks)

    def relationships(self, part: str) -> dict[str, str]:
        """Relationship type (its last path segment, "styles") -> the target part's name."""
        folder, name = posixpath.split(part)
        rels = self.xml(posixpath.join(folder, "_rels", f"{name}.rels"))
        targets: dict[str, str] = {}
        if rels is None:
            return targets
        for rel in rels.iter(f"{{{_PACKAGE_RELATIONSHIPS}}}Relationship"):
            kind = str(rel.get("Type") or "").rsplit("/", 1)[-1]
            target = str(rel.get("Target") or "")
            if rel.get("TargetMode") == "External" or not target or kind in targets:
                continue
            resolved = (
                target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            )
            targets[kind] = posixpath.normpath(resolved)
        return targets


def local_name(element: Any) -> str:
    """An element's tag without its namespace ("p"); "" for a comment or processing instruction."""
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def namespace(element: Any) -> str:
    """An element's namespace URI; "" for none."""
    tag = element.tag
    return etree.QName(tag).namespace or "" if isinstance(tag, str) else ""


def main_part(package: Package) -> str:
    """The name of the package's main document part ("word/document.xml")."""
    parts = package.relationships("")
    if not parts and package.xml("_rels/.rels") is None:
        raise ValueError("it is not a Word file (a zip without a document in it)")
    main = parts.get("officeDocument")
    if main is None:
        raise ValueError("it is not a Word file (a zip without a document in it)")
    return main


def document_properties(package: Package) -> dict[str, str]:
    """The document's own metadata: docProps/core.xml (title, creator, created, modified) and
    the custom properties pandoc and Word users set (publisher, url, quote_speaker...)."""
    found: dict[str, str] = {}
    core = package.xml("docProps/core.xml")
    if core is not None:
        for key, path in (
            ("title", "dc:title"),
            ("author", "dc:creator"),
            ("created", "dcterms:created"),
            ("modified", "dcterms:modified"),
        ):
            element = core.find(path, _CORE)
            if element is not None and (value := one_line(element.text or "")):
                found[key] = value
    custom = package.xml("docProps/custom.xml")
    if custom is not None:
        for prop in custom.iter(f"{{{_CUSTOM}}}property"):
            name = one_line(str(prop.get("name") or "")).lower()
            value = one_line("".join(prop.itertext()))
            if name and value and not (name == "title" and "title" in found):
                found[name] = value
    return found
