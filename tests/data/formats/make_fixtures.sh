#!/usr/bin/env bash
# Build the format fixtures of tests/data/formats from the text sources in src/ (and the bundled
# article in knowledge/), with real producers: pandoc writes the Word and HTML files, LibreOffice
# the PDFs (and re-saves Word files in its own flavour of the format).
# Idempotent: a target is rebuilt only when missing (FORCE=1 rebuilds everything;
# the bzip2 zip bomb is never rebuilt unless missing because it takes ~80 s).
#   ./make_fixtures.sh            -> *.pdf, *.docx, *.html here (small, committed)
#   ./make_fixtures.sh generated  -> generated/* (big: the tests make what they need themselves)
# Needs (Debian 12): libreoffice-writer pandoc poppler-utils qpdf img2pdf python3
#                    hyphen-en-us fonts-liberation2 (hyphenation + metric-stable fonts)
# A different LibreOffice or set of fonts re-flows the text and moves the hyphens, so the
# committed files are what the tests expect; regenerate them only on purpose.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="$HERE/src"; OUT="$HERE"; GEN="$HERE/generated"; BUILD="$HERE/build"
ARTICLE="$HERE/../../../knowledge/kaspersky-twitter-article.md"
mkdir -p "$OUT" "$GEN" "$BUILD"
export SOURCE_DATE_EPOCH=1704067200   # pandoc: fixed docx timestamps
export LC_ALL=C.UTF-8 TZ=UTC
PY=python3
need() { [[ "${FORCE:-0}" == 1 || ! -s "$1" ]]; }
# LibreOffice: private profile so parallel/other instances don't interfere
soffice_conv() {  # soffice_conv FORMAT OUTDIR FILE...
  local fmt="$1" dir="$2"; shift 2
  soffice -env:UserInstallation="file://$BUILD/lo-profile" --headless --norestore \
    --convert-to "$fmt" --outdir "$dir" "$@" >/dev/null 2>&1
}

small() {
  # 1. the bundled article: pandoc md -> docx/html, LibreOffice docx -> pdf
  local md="$ARTICLE"
  need "$OUT/article.docx" && pandoc "$md" -o "$OUT/article.docx"
  need "$OUT/article.pdf" && { soffice_conv pdf "$BUILD" "$OUT/article.docx"; mv "$BUILD/article.pdf" "$OUT/article.pdf"; }
  need "$OUT/article.standalone.html" && pandoc -s "$md" -o "$OUT/article.standalone.html"
  need "$OUT/article.site.html" && pandoc "$md" --template "$SRC/site-template.html" -o "$OUT/article.site.html"
  need "$OUT/article.divsite.html" && pandoc "$md" --template "$SRC/site-template-divs.html" -o "$OUT/article.divsite.html"

  # 2. structured policy: headings, nested bullet/numbered lists, table, code, footnote
  local smd="$SRC/structured.md"
  need "$OUT/structured.docx" && pandoc "$smd" -o "$OUT/structured.docx"
  if need "$OUT/structured.lo.docx"; then   # the same document re-saved by LibreOffice (Word 2007+ XML flavour)
    mkdir -p "$BUILD/lo"; soffice_conv "docx:MS Word 2007 XML" "$BUILD/lo" "$OUT/structured.docx"
    mv "$BUILD/lo/structured.docx" "$OUT/structured.lo.docx"; fi
  need "$OUT/structured.pdf" && { soffice_conv pdf "$BUILD" "$OUT/structured.docx"; mv "$BUILD/structured.pdf" "$OUT/structured.pdf"; }
  need "$OUT/structured.site.html" && pandoc "$smd" --template "$SRC/site-template.html" -o "$OUT/structured.site.html"
  need "$OUT/structured.divsite.html" && pandoc "$smd" --template "$SRC/site-template-divs.html" -o "$OUT/structured.divsite.html"

  # 3. two-column paper (full-width title+abstract, 2-column section, running header,
  #    "Page N of M" footer, automatic hyphenation, justified) and
  # 4. a 70-row table crossing two page breaks with a repeated header row
  $PY "$SRC/gen_fodt.py" twocol "$SRC/twocol.txt" > "$BUILD/twocol.fodt"
  $PY "$SRC/gen_fodt.py" table > "$BUILD/table-pagebreak.fodt"
  for f in twocol table-pagebreak; do
    need "$OUT/$f.pdf" && { soffice_conv pdf "$BUILD" "$BUILD/$f.fodt"; mv "$BUILD/$f.pdf" "$OUT/$f.pdf"; }
    need "$OUT/$f.docx" && { soffice_conv "docx:MS Word 2007 XML" "$BUILD" "$BUILD/$f.fodt"; mv "$BUILD/$f.docx" "$OUT/$f.docx"; }
  done

  # 5. bad files
  if need "$OUT/scanned.pdf"; then   # image-only page, no text layer
    pdftoppm -r 75 -gray -jpeg -jpegopt quality=40 -f 1 -l 1 -singlefile "$OUT/article.pdf" "$BUILD/scan"
    img2pdf --creationdate "2024-01-01" --moddate "2024-01-01" -o "$OUT/scanned.pdf" "$BUILD/scan.jpg"; fi
  need "$OUT/encrypted.pdf" && qpdf --static-id --encrypt s3cret owner-pw 256 -- "$OUT/twocol.pdf" "$OUT/encrypted.pdf"
  need "$OUT/encrypted-nocopy.pdf" && qpdf --static-id --encrypt "" owner-pw 256 --extract=n -- "$OUT/twocol.pdf" "$OUT/encrypted-nocopy.pdf"
  need "$OUT/truncated.pdf" && head -c $(( $(stat -c %s "$OUT/twocol.pdf") / 2 )) "$OUT/twocol.pdf" > "$OUT/truncated.pdf"
  need "$OUT/garbage.pdf" && $PY -c "import random,sys; r=random.Random(1); sys.stdout.buffer.write(b'%PDF-1.7\n'+bytes(r.randrange(256) for _ in range(20000)))" > "$OUT/garbage.pdf"
  need "$OUT/notzip.docx" && printf 'This is plain text saved with a .docx name.\n' > "$OUT/notzip.docx"
  need "$OUT/not-a-docx.docx" && $PY -c "
import zipfile,sys
with zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED) as z:
    z.writestr(zipfile.ZipInfo('notes/readme.txt',(2024,1,1,0,0,0)),'A zip file of text notes, not a Word document.\n')
    z.writestr(zipfile.ZipInfo('image.png',(2024,1,1,0,0,0)),b'\x89PNG\r\n\x1a\n')" "$OUT/not-a-docx.docx"
  need "$OUT/tricky.docx" && $PY "$SRC/gen_tricky_docx.py" "$OUT/tricky.docx"   # hand-written edge cases (sdt, ins/del, fields, text box, merged cells, footnote)
  # zip bomb: valid docx, word/document.xml inflates to 512 MiB (~13.8M <w:p>), 66 kB file (bzip2 member)
  [[ -s "$OUT/bomb.docx" ]] || $PY "$SRC/gen_bomb_docx.py" "$OUT/bomb.docx" 512 --bzip2
}

generated() {
  # big files: make at test time, do not commit
  need "$GEN/big500.pdf" && $PY "$SRC/gen_big_pdf.py" "$GEN/big500.pdf" 500          # ~0.25 s, 0.8 MB
  if need "$GEN/big500-lo.pdf"; then   # pages 1-2 of the LibreOffice paper x 250 = 500 pages, embedded fonts
    qpdf --empty --pages $(for i in $(seq 250); do printf '%s 1-2 ' "$OUT/twocol.pdf"; done) -- "$GEN/big500-lo.pdf"; fi
  need "$GEN/big50mb.html" && $PY "$SRC/gen_big_html.py" "$GEN/big50mb.html" 50       # ~2 s, 50 MB
  need "$GEN/big.docx" && { $PY "$SRC/gen_big_md.py" "$BUILD/big.md"; pandoc "$BUILD/big.md" -o "$GEN/big.docx"; }   # ~3.5 s, 0.33 MB, 8000 blocks
  need "$GEN/bomb-deflate.docx" && $PY "$SRC/gen_bomb_docx.py" "$GEN/bomb-deflate.docx" 256          # ~0.8 s, 0.8 MB
  need "$GEN/bomb-deflate-lie.docx" && $PY "$SRC/gen_bomb_docx.py" "$GEN/bomb-deflate-lie.docx" 256 --lie
  return 0
}

case "${1:-small}" in
  small) small ;;
  generated) small; generated ;;
  all) small; generated ;;
  *) echo "usage: $0 [small|generated|all]" >&2; exit 2 ;;
esac
ls -l "$OUT" | awk 'NR>1{print $5, $9}'
