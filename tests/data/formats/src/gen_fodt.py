"""Build flat-ODT sources for LibreOffice from plain text (deterministic, stdlib only).

usage: gen_fodt.py twocol  twocol.txt  > twocol.fodt
       gen_fodt.py table              > table.fodt
"""

import sys
from xml.sax.saxutils import escape as esc

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
 office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">
<office:meta><dc:title>{title}</dc:title><meta:initial-creator>Information Governance Unit</meta:initial-creator></office:meta>
<office:font-face-decls>
 <style:font-face style:name="Liberation Serif" svg:font-family="'Liberation Serif'" style:font-family-generic="roman" style:font-pitch="variable"/>
 <style:font-face style:name="Liberation Sans" svg:font-family="'Liberation Sans'" style:font-family-generic="swiss" style:font-pitch="variable"/>
</office:font-face-decls>
<office:styles>
 <style:default-style style:family="paragraph">
  <style:paragraph-properties fo:hyphenation-ladder-count="no-limit"/>
  <style:text-properties style:font-name="Liberation Serif" fo:font-size="{size}" fo:language="en" fo:country="US" fo:hyphenate="true" fo:hyphenation-remain-char-count="2" fo:hyphenation-push-char-count="2"/>
 </style:default-style>
 <style:style style:name="Standard" style:family="paragraph" style:class="text"/>
 <style:style style:name="Text_20_body" style:display-name="Text body" style:family="paragraph" style:parent-style-name="Standard" style:class="text">
  <style:paragraph-properties fo:text-align="justify" fo:margin-top="0in" fo:margin-bottom="0.07in"/>
 </style:style>
 <style:style style:name="Title" style:family="paragraph" style:parent-style-name="Standard" style:class="chapter">
  <style:paragraph-properties fo:text-align="center" fo:margin-bottom="0.08in"/>
  <style:text-properties style:font-name="Liberation Sans" fo:font-size="18pt" fo:font-weight="bold" fo:hyphenate="false"/>
 </style:style>
 <style:style style:name="Subtitle" style:family="paragraph" style:parent-style-name="Standard" style:class="chapter">
  <style:paragraph-properties fo:text-align="center" fo:margin-bottom="0.15in"/>
  <style:text-properties style:font-name="Liberation Sans" fo:font-size="11pt" fo:font-style="italic" fo:hyphenate="false"/>
 </style:style>
 <style:style style:name="Abstract" style:family="paragraph" style:parent-style-name="Text_20_body">
  <style:paragraph-properties fo:margin-left="0.4in" fo:margin-right="0.4in" fo:margin-bottom="0.2in"/>
  <style:text-properties fo:font-style="italic"/>
 </style:style>
 <style:style style:name="Heading_20_1" style:display-name="Heading 1" style:family="paragraph" style:parent-style-name="Standard" style:default-outline-level="1" style:class="text">
  <style:paragraph-properties fo:margin-top="0.12in" fo:margin-bottom="0.06in" fo:keep-with-next="always"/>
  <style:text-properties style:font-name="Liberation Sans" fo:font-size="12pt" fo:font-weight="bold" fo:hyphenate="false"/>
 </style:style>
 <style:style style:name="Header" style:family="paragraph" style:parent-style-name="Standard" style:class="extra">
  <style:paragraph-properties fo:text-align="end"/>
  <style:text-properties style:font-name="Liberation Sans" fo:font-size="8pt" fo:hyphenate="false"/>
 </style:style>
 <style:style style:name="Footer" style:family="paragraph" style:parent-style-name="Standard" style:class="extra">
  <style:paragraph-properties fo:text-align="center"/>
  <style:text-properties style:font-name="Liberation Sans" fo:font-size="8pt" fo:hyphenate="false"/>
 </style:style>
 <style:style style:name="Table_20_Heading" style:display-name="Table Heading" style:family="paragraph" style:parent-style-name="Standard">
  <style:text-properties fo:font-weight="bold" fo:hyphenate="false"/>
 </style:style>
 <style:style style:name="Table_20_Contents" style:display-name="Table Contents" style:family="paragraph" style:parent-style-name="Standard">
  <style:text-properties fo:hyphenate="false"/>
 </style:style>
</office:styles>
<office:automatic-styles>
 <style:style style:name="Sect1" style:family="section">
  <style:section-properties text:dont-balance-text-columns="false">
   <style:columns fo:column-count="2" fo:column-gap="0.3in"/>
  </style:section-properties>
 </style:style>
 <style:style style:name="Tbl" style:family="table">
  <style:table-properties style:width="6.5in" table:align="margins"/>
 </style:style>
 <style:style style:name="TblA" style:family="table-column"><style:table-column-properties style:column-width="1.0in"/></style:style>
 <style:style style:name="TblB" style:family="table-column"><style:table-column-properties style:column-width="3.9in"/></style:style>
 <style:style style:name="TblC" style:family="table-column"><style:table-column-properties style:column-width="1.6in"/></style:style>
 <style:style style:name="Cell" style:family="table-cell"><style:table-cell-properties fo:padding="0.03in" fo:border="0.5pt solid #000000"/></style:style>
 <style:page-layout style:name="pm1">
  <style:page-layout-properties fo:page-width="8.5in" fo:page-height="11in" fo:margin-top="0.5in" fo:margin-bottom="0.5in" fo:margin-left="{lr}" fo:margin-right="{lr}"/>
  <style:header-style><style:header-footer-properties fo:min-height="0in" fo:margin-bottom="0.2in"/></style:header-style>
  <style:footer-style><style:header-footer-properties fo:min-height="0in" fo:margin-top="0.2in"/></style:footer-style>
 </style:page-layout>
</office:automatic-styles>
<office:master-styles>
 <style:master-page style:name="Standard" style:page-layout-name="pm1">
  <style:header><text:p text:style-name="Header">{header}</text:p></style:header>
  <style:footer><text:p text:style-name="Footer">Page <text:page-number text:select-page="current">1</text:page-number> of <text:page-count>1</text:page-count></text:p></style:footer>
 </style:master-page>
</office:master-styles>
<office:body><office:text>
"""
TAIL = "</office:text></office:body></office:document>\n"


def p(style: str, text: str) -> str:
    return f'<text:p text:style-name="{style}">{esc(text)}</text:p>\n'


def h(text: str) -> str:
    return f'<text:h text:style-name="Heading_20_1" text:outline-level="1">{esc(text)}</text:h>\n'


def twocol(path: str) -> str:
    meta, body = {}, []
    for line in open(path, encoding="utf-8").read().splitlines():
        if not line.strip():
            continue
        if line.startswith("@"):
            k, v = line[1:].split(" ", 1)
            meta[k] = v
        elif line.startswith("# "):
            body.append(h(line[2:]))
        else:
            body.append(p("Text_20_body", line))
    out = [
        HEAD.format(
            title=esc(meta["title"]),
            size="11.5pt",
            lr="0.9in",
            header="Information Governance Unit · Working Paper 2024/07",
        )
    ]
    out.append(p("Title", meta["title"]))
    out.append(p("Subtitle", meta["subtitle"]))
    out.append(p("Abstract", meta["abstract"]))
    out.append('<text:section text:style-name="Sect1" text:name="Body">\n')
    out += body
    out.append("</text:section>\n")
    out.append(TAIL)
    return "".join(out)


OWNERS = ["Service Desk", "Network Team", "Security Office", "Facilities", "HR", "Legal"]
VERBS = ["Review", "Enforce", "Document", "Test", "Approve", "Monitor", "Rotate", "Audit"]
OBJECTS = [
    "firewall rules",
    "privileged accounts",
    "backup restores",
    "visitor badges",
    "encryption keys",
    "vendor contracts",
    "leaver accounts",
    "patch levels",
]


def table() -> str:
    out = [
        HEAD.format(
            title="Control Register", size="10pt", lr="1in", header="Control Register · Internal"
        )
    ]
    out.append(h("Control register"))
    out.append(
        p(
            "Text_20_body",
            "The table below lists every control, the requirement it "
            "implements and the team that owns it. The header row repeats on each page.",
        )
    )
    out.append(
        '<table:table table:name="Controls" table:style-name="Tbl">'
        '<table:table-column table:style-name="TblA"/><table:table-column table:style-name="TblB"/>'
        '<table:table-column table:style-name="TblC"/>\n<table:table-header-rows><table:table-row>'
    )
    for c in ["Control ID", "Requirement", "Owner"]:
        out.append(
            f'<table:table-cell table:style-name="Cell" office:value-type="string">{p("Table_20_Heading", c)}</table:table-cell>'
        )
    out.append("</table:table-row></table:table-header-rows>\n")
    for i in range(1, 71):
        req = f"{VERBS[i % 8]} {OBJECTS[(i * 3) % 8]} every {(i % 4 + 1) * 3} months."
        if i % 9 == 0:  # some cells wrap onto several lines
            req += (
                " Evidence of the review is kept in the register together with the name of the "
                "reviewer, the date and any exceptions that were granted."
            )
        row = [f"C-{i:03d}", req, OWNERS[i % 6]]
        out.append("<table:table-row>")
        for c in row:
            out.append(
                f'<table:table-cell table:style-name="Cell" office:value-type="string">{p("Table_20_Contents", c)}</table:table-cell>'
            )
        out.append("</table:table-row>\n")
    out.append("</table:table>\n")
    out.append(p("Text_20_body", "End of register. Controls not listed here are out of scope."))
    out.append(TAIL)
    return "".join(out)


if __name__ == "__main__":
    kind = sys.argv[1]
    sys.stdout.write(twocol(sys.argv[2]) if kind == "twocol" else table())
