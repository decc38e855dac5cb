"""Write tricky.docx: a small hand-written WordprocessingML package with the constructs that
naive extractors miss. stdlib only, deterministic.  usage: python3 gen_tricky_docx.py OUT.docx

Body, in order: Heading 1; paragraph with a hyperlink, a tab, a line break, a soft hyphen,
a non-breaking hyphen and a symbol; a block content control (w:sdt) holding a paragraph;
a paragraph with a tracked insertion and a tracked deletion; a field (w:fldSimple) and a complex
field (instrText must not appear); numbered list (decimal, restart via a second w:num with
startOverride); a table with a repeated header row (w:tblHeader), a horizontally merged cell
(gridSpan) and a vertically merged cell (vMerge); a nested table; a paragraph with a footnote
reference; a text box (w:txbxContent inside mc:AlternateContent, Fallback duplicate);
a heading whose level comes from w:outlineLvl only; a page header part with running text.
"""

import sys
import zipfile

W = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" mc:Ignorable="wps"'
)
HDR = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def p(text: str, style: str | None = None, num: tuple[int, int] | None = None) -> str:
    ppr = ""
    if style or num:
        ppr = (
            "<w:pPr>"
            + (f'<w:pStyle w:val="{style}"/>' if style else "")
            + (
                f'<w:numPr><w:ilvl w:val="{num[1]}"/><w:numId w:val="{num[0]}"/></w:numPr>'
                if num
                else ""
            )
            + "</w:pPr>"
        )
    return f'<w:p>{ppr}<w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'


def cell(content: str, extra: str = "") -> str:
    return f"<w:tc><w:tcPr>{extra}</w:tcPr>{content}</w:tc>"


BODY = "".join(
    [
        p("Tricky constructs", "Heading1"),
        '<w:p><w:r><w:t xml:space="preserve">See the </w:t></w:r>'
        '<w:hyperlink r:id="rId10"><w:r><w:rPr><w:rStyle w:val="Hyperlink"/></w:rPr><w:t>policy portal</w:t></w:r></w:hyperlink>'
        '<w:r><w:t xml:space="preserve">.</w:t><w:tab/><w:t>Col2</w:t><w:br/><w:t>Second line: co</w:t><w:softHyphen/>'
        '<w:t>operation, e</w:t><w:noBreakHyphen/><w:t>mail, </w:t><w:sym w:font="Symbol" w:char="F0B7"/><w:t xml:space="preserve"> done.</w:t></w:r></w:p>',
        '<w:sdt><w:sdtPr><w:alias w:val="Owner"/></w:sdtPr><w:sdtContent>'
        + p("Content control: owned by the Security Office.")
        + "</w:sdtContent></w:sdt>",
        '<w:p><w:r><w:t xml:space="preserve">Retention is </w:t></w:r>'
        '<w:del w:id="1" w:author="A" w:date="2024-01-01T00:00:00Z"><w:r><w:delText>five</w:delText></w:r></w:del>'
        '<w:ins w:id="2" w:author="A" w:date="2024-01-01T00:00:00Z"><w:r><w:t>seven</w:t></w:r></w:ins>'
        '<w:r><w:t xml:space="preserve"> years.</w:t></w:r></w:p>',
        '<w:p><w:r><w:t xml:space="preserve">Page </w:t></w:r><w:fldSimple w:instr=" PAGE "><w:r><w:t>1</w:t></w:r></w:fldSimple>'
        '<w:r><w:t xml:space="preserve"> of </w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> NUMPAGES </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>3</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>',
        p("First step", num=(1, 0)),
        p("Second step", num=(1, 0)),
        p("Sub-step", num=(1, 1)),
        p("Third step", num=(1, 0)),
        p("Restarted list item", num=(2, 0)),
        p("A bullet", num=(3, 0)),
        '<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/></w:tblPr><w:tblGrid><w:gridCol w:w="2000"/><w:gridCol w:w="2000"/><w:gridCol w:w="2000"/></w:tblGrid>'
        "<w:tr><w:trPr><w:tblHeader/></w:trPr>"
        + cell(p("Class"))
        + cell(p("Examples"))
        + cell(p("Handling"))
        + "</w:tr>"
        "<w:tr>"
        + cell(p("Public"), '<w:vMerge w:val="restart"/>')
        + cell(p("Press releases and the annual report"), '<w:gridSpan w:val="2"/>')
        + "</w:tr>"
        "<w:tr>"
        + cell(p(""), "<w:vMerge/>")
        + cell(p("Web site"))
        + cell(p("No restrictions"))
        + "</w:tr>"
        "<w:tr>"
        + cell(p("Nested"))
        + cell(
            '<w:tbl><w:tblGrid><w:gridCol w:w="1000"/></w:tblGrid><w:tr>'
            + cell(p("inner cell"))
            + "</w:tr></w:tbl>"
            + p("")
        )
        + cell(p("after nested"))
        + "</w:tr>"
        "</w:tbl>",
        '<w:p><w:r><w:t xml:space="preserve">Records are kept for seven years.</w:t></w:r><w:r><w:rPr><w:rStyle w:val="FootnoteReference"/></w:rPr><w:footnoteReference w:id="1"/></w:r></w:p>',
        '<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wp:anchor distT="0" distB="0" distL="0" distR="0" simplePos="0" relativeHeight="1" behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1">'
        '<wp:simplePos x="0" y="0"/><wp:positionH relativeFrom="column"><wp:posOffset>0</wp:posOffset></wp:positionH><wp:positionV relativeFrom="paragraph"><wp:posOffset>0</wp:posOffset></wp:positionV>'
        '<wp:extent cx="914400" cy="457200"/><wp:wrapNone/><wp:docPr id="1" name="Text Box 1"/><a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><wps:wsp><wps:txbx><w:txbxContent>'
        + p("Text box: call 555-0100 to report an incident.")
        + "</w:txbxContent></wps:txbx><wps:bodyPr/></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>"
        "<mc:Fallback><w:pict><v:shape><v:textbox><w:txbxContent>"
        + p("Text box: call 555-0100 to report an incident.")
        + "</w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>",
        '<w:p><w:pPr><w:outlineLvl w:val="1"/></w:pPr><w:r><w:rPr><w:b/></w:rPr><w:t>Outline-level heading</w:t></w:r></w:p>',
        p("Last paragraph."),
        '<w:sectPr><w:headerReference w:type="default" r:id="rId20"/><w:pgSz w:w="12240" w:h="15840"/></w:sectPr>',
    ]
)

DOC = HDR + f"<w:document {W}><w:body>{BODY}</w:body></w:document>"
STYLES = (
    HDR
    + f"""<w:styles {W}>
<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>
<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/><w:pPr><w:outlineLvl w:val="0"/></w:pPr></w:style>
<w:style w:type="paragraph" w:styleId="ListParagraph"><w:name w:val="List Paragraph"/><w:basedOn w:val="Normal"/></w:style>
<w:style w:type="character" w:styleId="Hyperlink"><w:name w:val="Hyperlink"/></w:style>
<w:style w:type="character" w:styleId="FootnoteReference"><w:name w:val="footnote reference"/><w:rPr><w:vertAlign w:val="superscript"/></w:rPr></w:style>
<w:style w:type="table" w:styleId="TableGrid"><w:name w:val="Table Grid"/></w:style>
</w:styles>"""
)


def lvl(i: int, fmt: str, text: str, start: int = 1) -> str:
    return f'<w:lvl w:ilvl="{i}"><w:start w:val="{start}"/><w:numFmt w:val="{fmt}"/><w:lvlText w:val="{text}"/></w:lvl>'


BULLET = "\uf0b7"
NUMBERING = (
    HDR
    + f"""<w:numbering {W}>
<w:abstractNum w:abstractNumId="0">{lvl(0, "decimal", "%1.")}{lvl(1, "lowerLetter", "%1.%2)")}</w:abstractNum>
<w:abstractNum w:abstractNumId="1">{lvl(0, "bullet", BULLET)}</w:abstractNum>
<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>
<w:num w:numId="2"><w:abstractNumId w:val="0"/><w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride></w:num>
<w:num w:numId="3"><w:abstractNumId w:val="1"/></w:num>
</w:numbering>"""
)
FOOTNOTES = (
    HDR
    + f"""<w:footnotes {W}>
<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>
<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p></w:footnote>
<w:footnote w:id="1">{p("Or longer where a statute requires it.")}</w:footnote>
</w:footnotes>"""
)
HEADER = HDR + f"<w:hdr {W}>{p('Tricky Ltd · Internal')}</w:hdr>"
CT = (
    HDR
    + """<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>
<Override PartName="/word/numbering.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.numbering+xml"/>
<Override PartName="/word/footnotes.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"/>
<Override PartName="/word/header1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"/>
</Types>"""
)
RELS = (
    HDR
    + """<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
</Relationships>"""
)
DOCRELS = (
    HDR
    + """<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/numbering" Target="numbering.xml"/>
<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes" Target="footnotes.xml"/>
<Relationship Id="rId10" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="https://intranet.example.org/policies/" TargetMode="External"/>
<Relationship Id="rId20" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/header" Target="header1.xml"/>
</Relationships>"""
)

if __name__ == "__main__":
    with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in [
            ("[Content_Types].xml", CT),
            ("_rels/.rels", RELS),
            ("word/_rels/document.xml.rels", DOCRELS),
            ("word/document.xml", DOC),
            ("word/styles.xml", STYLES),
            ("word/numbering.xml", NUMBERING),
            ("word/footnotes.xml", FOOTNOTES),
            ("word/header1.xml", HEADER),
        ]:
            z.writestr(
                zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)),
                data.encode("utf-8"),
                zipfile.ZIP_DEFLATED,
            )
