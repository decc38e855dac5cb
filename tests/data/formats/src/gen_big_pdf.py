"""Write an N-page text PDF (default 500) with running header/footer; stdlib only, deterministic.

usage: python3 gen_big_pdf.py OUT.pdf [PAGES [LINES_PER_PAGE [TITLE]]]
"""

import random
import sys
import zlib

WORDS = (
    "access account audit backup breach classification compliance confidential control data "
    "device encryption employee exception firewall incident information laptop monitoring network "
    "password personal policy privileged procedure record retention review risk security service "
    "supplier system transfer vendor the of and to must be is in for with each every by a an"
).split()


def esc(s: str) -> str:
    return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def page_stream(n: int, total: int, rng: random.Random, lines: int = 48) -> bytes:
    ops = ["BT /F1 8 Tf 72 760 Td (ACME Information Security Handbook) Tj ET"]
    ops.append("BT /F1 10 Tf 72 720 Td 13 TL")
    ops.append(f"/F2 12 Tf (Section {n}) Tj T* /F1 10 Tf")
    for line in range(lines):
        words = [rng.choice(WORDS) for _ in range(rng.randint(9, 13))]
        text = f"{n}.{line + 1} " + " ".join(words).capitalize() + "."
        ops.append(f"({esc(text)}) ' ")
    ops.append("ET")
    ops.append(f"BT /F1 8 Tf 280 40 Td (Page {n} of {total}) Tj ET")
    return zlib.compress("\n".join(ops).encode("latin-1"), 6)


def main(out: str, total: int = 500, lines: int = 48, title: str = "Generated handbook") -> None:
    rng = random.Random(20240301)
    objs = {}  # num -> bytes
    # 1 catalog, 2 pages, 3 font F1, 4 font F2, then page/content pairs
    kids = []
    num = 5
    for n in range(1, total + 1):
        stream = page_stream(n, total, rng, lines)
        objs[num + 1] = (
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
            + stream
            + b"\nendstream"
        )
        objs[num] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>"
            % (num + 1)
        )
        kids.append(num)
        num += 2
    info = num  # the document information dictionary, with its Title
    objs[info] = b"<< /Title (%s) >>" % esc(title).encode("latin-1")
    objs[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objs[2] = b"<< /Type /Pages /Count %d /Kids [%s] >>" % (
        total,
        b" ".join(b"%d 0 R" % k for k in kids),
    )
    objs[3] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    objs[4] = (
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
    )
    buf = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for i in sorted(objs):
        offsets[i] = len(buf)
        buf += b"%d 0 obj\n" % i + objs[i] + b"\nendobj\n"
    xref = len(buf)
    size = max(objs) + 1
    buf += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for i in range(1, size):
        buf += b"%010d 00000 n \n" % offsets[i]
    buf += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        size,
        info,
        xref,
    )
    with open(out, "wb") as f:
        f.write(buf)


if __name__ == "__main__":
    main(
        sys.argv[1],
        int(sys.argv[2]) if len(sys.argv) > 2 else 500,
        int(sys.argv[3]) if len(sys.argv) > 3 else 48,
        sys.argv[4] if len(sys.argv) > 4 else "Generated handbook",
    )
