"""One reader per document format, behind the suffix map: a new format is one new module here."""

from __future__ import annotations

from assistant.document import Reader
from assistant.formats import pdf, plain, web, word

# Add a format by mapping its suffix to a function that turns a file's bytes into a Document.
READERS: dict[str, Reader] = {
    ".md": plain.read_markdown,
    ".markdown": plain.read_markdown,
    ".txt": plain.read_text,
    ".pdf": pdf.read_pdf,
    ".docx": word.read_docx,
    ".html": web.read_html,
    ".htm": web.read_html,
}
