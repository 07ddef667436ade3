"""Exports read back by independent readers (python-docx, Python's XML parser; epubcheck).

Every check builds its project in a fresh folder, runs the real `showrunner export`, and reads
the file with a library that is not ours. Usage: SHOWRUNNER_BIN=... python check_exports.py [NAME]
"""
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback
import zipfile
from pathlib import Path

import docx
from docx.shared import Inches, Pt

BIN = os.environ.get("SHOWRUNNER_BIN", "showrunner")
REPO = Path(__file__).resolve().parents[2]

CONFIG = (
    "name: Storm Book\ntitle: The Keeper's Daughter\nauthor: Zoë Łukasz-Brontë\n"
    "contact: |\n  Zoë Łukasz-Brontë\n  12 Harbour Row, Port Ainsley\n  zoe@example.com\n"
)
FILES = {
    "showrunner.yaml": CONFIG,
    "buckets/structure/act-1.yaml": "id: act-1\nkind: act\nname: Act One\n",
    "buckets/structure/ch01.yaml": "id: ch01\nkind: chapter\nname: Chapter One — Arrival\nparent: act-1\n",
    "buckets/structure/ch02.yaml": "id: ch02\nkind: chapter\nname: Chapter Two\nparent: act-1\n",
    # CRLF line ends, emphasis, emoji, non-Latin names.
    "story/ch01/b-arrival.md": (
        "---\r\nid: arrival\r\nparent: ch01\r\ntimeline: { main: 1 }\r\n---\r\n\r\n# Arrival\r\n\r\n"
        "The boat came round the point, and Zoë watched it *without blinking*.\r\n"
        "She had known for **eleven days**. 🌊\r\n\r\n\"Nowak,\" he said. \"Łukasz Nowak.\"\r\n"
    ),
    "story/ch01/a-hut.md": (
        "---\nid: hut\nparent: ch01\ntimeline: { main: 2 }\n---\n\n# The Hut\n\n"
        "李雷 had lived in the hut for seven months.\n\nHe kept the log.\n\n* * *\n\n"
        "Later, the wind dropped. It was _very_ quiet.\n\nNobody spoke.\n"
    ),
    "story/ch02/log.md": "---\nid: log\nparent: ch02\ntimeline: { main: 3 }\n---\n\n# The Log\n\nThe log was kept in a clerk's hand.\n",
    ".showrunner/runs/r1/approve_output.md": "PENDING AI TEXT that nobody approved\n",
}


def project(files=FILES):
    root = Path(tempfile.mkdtemp(prefix="sr-export-"))
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(text.encode("utf-8"))
    return root


def export(root, *args):
    r = subprocess.run([BIN, "export", *args], cwd=root, capture_output=True, text=True)
    assert r.returncode == 0, f"showrunner export {args}: {r.stderr}"
    return r.stdout


def example():
    root = Path(tempfile.mkdtemp(prefix="sr-example-"))
    r = subprocess.run([BIN, "init", "story", "--example"], cwd=root, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return root / "story"


def check_docx_manuscript():
    root = project()
    said = export(root, "docx")
    assert said.startswith("wrote exports/the-keeper-s-daughter.docx (3 scenes"), said
    d = docx.Document(str(root / "exports/the-keeper-s-daughter.docx"))
    s = d.sections[0]
    assert (s.page_width, s.page_height) == (Inches(8.5), Inches(11)), "US Letter"
    for m in (s.left_margin, s.right_margin, s.top_margin, s.bottom_margin):
        assert m == Inches(1), f"1-inch margins, got {m.inches}"
    assert s.different_first_page_header_footer, "the title page has its own (empty) header"
    assert "".join(p.text for p in s.first_page_header.paragraphs) == ""
    header = s.header.paragraphs[0]
    assert header.text.startswith("Łukasz-Brontë / THE KEEPER'S DAUGHTER / "), header.text
    assert "PAGE" in header._p.xml and "fldChar" in header._p.xml, "the page number is a PAGE field"

    paras = d.paragraphs
    texts = [p.text for p in paras]
    # Title page: contact block, word count rounded to the nearest 100, title, byline.
    assert texts[0] == "Zoë Łukasz-Brontë\tabout 100 words", texts[0]
    assert texts[1:3] == ["12 Harbour Row, Port Ainsley", "zoe@example.com"], texts[:4]
    assert texts[3] == "THE KEEPER'S DAUGHTER" and texts[4] == "by Zoë Łukasz-Brontë", texts[3:5]
    assert paras[3].paragraph_format.space_before >= Inches(3), "title halfway down"

    # Chapters on new pages, in reading order (the timeline, not the file names).
    chapters = [p for p in paras if p.style.name == "Chapter Title" and p.paragraph_format.page_break_before]
    assert [p.text for p in chapters] == ["Chapter One — Arrival", "Chapter Two"], [p.text for p in chapters]
    body = texts[texts.index("Chapter One — Arrival") + 1 :]
    assert body[:8] == [
        "The boat came round the point, and Zoë watched it without blinking. She had known for eleven days. 🌊",
        '"Nowak," he said. "Łukasz Nowak."',
        "#",
        "李雷 had lived in the hut for seven months.",
        "He kept the log.",
        "#",
        "Later, the wind dropped. It was very quiet.",
        "Nobody spoke.",
    ], body[:8]

    # Manuscript styles: Times New Roman 12 pt, double spaced; first-line indent except after a
    # chapter title or a scene break.
    for p in paras[5:]:
        st = p.style
        assert st.font.name == "Times New Roman" and st.font.size == Pt(12), (p.text, st.name)
        assert st.paragraph_format.line_spacing == 2.0, (p.text, st.name, st.paragraph_format.line_spacing)
    by_text = {p.text: p for p in paras}
    indented = lambda p: p.style.paragraph_format.first_line_indent == Inches(0.5)
    assert not indented(by_text[body[0]]), "first after a chapter title"
    assert not indented(by_text["李雷 had lived in the hut for seven months."]), "first after a scene break"
    assert indented(by_text["He kept the log."])
    assert not indented(by_text["Later, the wind dropped. It was very quiet."]), "first after a scene break"
    assert indented(by_text["Nobody spoke."])
    breaks = [p for p in paras if p.text == "#"]
    assert breaks and all(p.alignment == 1 or p.style.paragraph_format.alignment == 1 for p in breaks), "centred #"

    # Emphasis kept: *em* italic, **strong** bold, _em_ italic; emoji and names intact.
    runs = {r.text: r for p in paras for r in p.runs}
    assert runs["without blinking"].italic and not runs["without blinking"].bold
    assert runs["eleven days"].bold and not runs["eleven days"].italic
    assert runs["very"].italic
    whole = "\n".join(texts)
    assert "🌊" in whole and "Łukasz Nowak" in whole and "李雷" in whole
    assert "*" not in whole and "timeline:" not in whole and "# Arrival" not in whole and "\r" not in whole
    assert "PENDING AI TEXT" not in whole, "an unapproved AI answer is never exported"


def check_docx_example():
    root = example()
    export(root, "docx", "-o", "book.docx")
    d = docx.Document(str(root / "book.docx"))
    texts = [p.text for p in d.paragraphs]
    assert texts[0] == "\tabout 7,300 words", texts[0]  # 7,337 words, no author or contact
    assert d.sections[0].header.paragraphs[0].text.startswith("THE LIGHTHOUSE / ")
    chapters = [p.text for p in d.paragraphs if p.style.name == "Chapter Title" and p.paragraph_format.page_break_before]
    assert len(chapters) == 4 and chapters[0] == "Chapter 1 — Arrival", chapters
    # The screenplay scene of the example is set as a script inside the manuscript, its dual
    # dialogue side by side: a table of one row, Tom's speech in one cell and Alice's in the other.
    assert "EXT. THE LANDING STAGE - DUSK" in texts and "ŁUKASZ" in texts
    assert len(d.tables) == 1, len(d.tables)
    [row] = d.tables[0].rows
    cells = [[p.text for p in c.paragraphs] for c in row.cells]
    assert cells == [["TOM", "It's an exposed station."], ["ALICE", "It's an exposed station."]], cells
    body = d.element.body
    drawn = [b for b in body.xpath(".//w:tbl//w:tblBorders/* | .//w:tbl//w:tcBorders/*")
             if b.get(docx.oxml.ns.qn("w:val")) not in ("none", "nil")]
    assert not drawn and d.tables[0].style is None, "no lines around the speeches (no table style, no borders)"
    widths = [c.width for c in row.cells]
    assert widths == [Inches(3.25), Inches(3.25)], widths
    # One chapter alone: its own title page word count and one chapter.
    export(root, "docx", "ch02", "-o", "ch02.docx")
    d = docx.Document(str(root / "ch02.docx"))
    chapters = [p.text for p in d.paragraphs if p.style.name == "Chapter Title" and p.paragraph_format.page_break_before]
    assert len(chapters) == 1 and chapters[0].startswith("Chapter 2"), chapters


def check_docx_in_courier():
    """`manuscript: { font: courier }`: every style in Courier New, nothing left in Times."""
    files = dict(FILES)
    files["showrunner.yaml"] = CONFIG + "manuscript: { font: courier }\n"
    root = project(files)
    export(root, "docx", "-o", "courier.docx")
    d = docx.Document(str(root / "courier.docx"))
    body = [p for p in d.paragraphs if p.text.strip()][3:]
    assert body, "a manuscript with a body"
    for p in body:
        assert p.style.font.name == "Courier New" and p.style.font.size == Pt(12), (p.text, p.style.name)
    defaults = d.styles.element.xpath("w:docDefaults/w:rPrDefault/w:rPr/w:rFonts")[0]
    assert defaults.get(docx.oxml.ns.qn("w:ascii")) == "Courier New", defaults.attrib
    xml = zipfile.ZipFile(root / "courier.docx").read("word/styles.xml").decode()
    assert "Times New Roman" not in xml
    # A font standard manuscript format does not allow: a warning with its place, Times kept.
    files["showrunner.yaml"] = CONFIG + "manuscript: { font: Comic Sans }\n"
    root = project(files)
    r = subprocess.run([BIN, "check", "--format", "json"], cwd=root, capture_output=True, text=True)
    assert "`manuscript.font` is `times` or `courier`" in r.stdout, r.stdout + r.stderr
    export(root, "docx", "-o", "times.docx")
    d = docx.Document(str(root / "times.docx"))
    assert all(p.style.font.name == "Times New Roman" for p in d.paragraphs if p.text.strip())
    # A4 paper: the page, and the dual dialogue's columns halve its narrower text block.
    files["showrunner.yaml"] = CONFIG + "manuscript: { paper: A4 }\n"
    root = project(files)
    export(root, "docx", "-o", "a4.docx")
    section = docx.Document(str(root / "a4.docx")).sections[0]
    assert abs(section.page_width.mm - 210) < 0.5 and abs(section.page_height.mm - 297) < 0.5, (section.page_width.mm, section.page_height.mm)
    files["showrunner.yaml"] = CONFIG + "manuscript: { paper: legal }\n"
    r = subprocess.run([BIN, "check", "--format", "json"], cwd=project(files), capture_output=True, text=True)
    assert "`manuscript.paper` is `letter` or `a4`, not `legal`" in r.stdout, r.stdout + r.stderr


def check_fdx_with_python_xml():
    """The FDX of a screenplay nobody here exported by hand, read with Python's own XML parser."""
    import re
    import xml.etree.ElementTree as ET

    fixture = (REPO / "tests/fixtures/fountain/full.fountain").read_text(encoding="utf-8")
    root = project({"showrunner.yaml": "name: Lamp\nauthor: Marta Vell\n", "script.fountain": fixture})
    said = export(root, "fdx", "-o", "lamp.fdx")
    assert "left out (fdx cannot hold them):" in said and "synops" in said, said
    tree = ET.parse(root / "lamp.fdx")
    fd = tree.getroot()
    assert fd.tag == "FinalDraft" and fd.get("DocumentType") == "Script", fd.attrib
    content = fd.find("Content")
    allowed = {"Scene Heading", "Action", "Character", "Parenthetical", "Dialogue", "Transition", "Lyrics"}
    leaves = [p for p in content.iter("Paragraph") if p.get("Type")]
    assert {p.get("Type") for p in leaves} <= allowed, {p.get("Type") for p in leaves}
    text = lambda p: "".join(t.text or "" for t in p.findall("Text"))
    # Scene numbers: the same as the fixture's #n# marks, in order.
    numbers = [p.get("Number") for p in leaves if p.get("Type") == "Scene Heading" and p.get("Number")]
    assert numbers == re.findall(r"#([0-9A-Z]+)#\s*$", fixture, flags=re.M), numbers
    # Dual dialogue: two speakers side by side, inside one DualDialogue.
    duals = list(content.iter("DualDialogue"))
    assert len(duals) == 1, len(duals)
    speakers = [text(p) for p in duals[0].findall("Paragraph") if p.get("Type") == "Character"]
    assert len(speakers) == 2 and speakers[1] == "ŁUKASZ", speakers
    # Non-Latin names and emphasis as styled text runs.
    characters = {text(p) for p in leaves if p.get("Type") == "Character"}
    assert "李雷 (V.O.)" in characters, characters
    styles = {t.get("Style") for p in leaves for t in p.findall("Text") if t.get("Style")}
    assert {"Bold", "Italic"} <= styles, styles
    assert all("[[" not in text(p) and "/*" not in text(p) for p in leaves), "notes and boneyard are not in the FDX"
    # Back to Fountain with the CLI.
    r = subprocess.run([BIN, "import", "fdx", "lamp.fdx"], cwd=root, capture_output=True, text=True)
    assert r.returncode == 0 and (root / "lamp.fountain").exists(), r.stderr
    back = (root / "lamp.fountain").read_text(encoding="utf-8")
    assert "ŁUKASZ ^" in back and "#1A#" in back and back.startswith("Title: "), back[:300]
    return f"{len(leaves)} paragraphs"


def epubcheck_command():
    """epubcheck as Debian installs it: its jar (the `epubcheck` wrapper needs binfmt_misc)."""
    import shutil

    jar = Path("/usr/share/java/epubcheck.jar")
    if jar.exists() and shutil.which("java"):
        return ["java", "-jar", str(jar)]
    if shutil.which("epubcheck"):
        return ["epubcheck"]
    return None


def png(width=2, height=3):
    """A small valid PNG, made here (the cover)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\x20\x40\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def validate(epub):
    cmd = epubcheck_command()
    r = subprocess.run([*cmd, str(epub)], capture_output=True, text=True)
    out = r.stdout + r.stderr
    assert r.returncode == 0 and "0 fatals / 0 errors / 0 warnings" in out, out


def check_epub():
    if epubcheck_command() is None:
        return "SKIPPED: epubcheck is not installed (Debian package epubcheck; .ci/run installs it)"
    import xml.etree.ElementTree as ET

    root = project()
    (root / "cover.png").write_bytes(png())
    export(root, "epub")
    epub = root / "exports/the-keeper-s-daughter.epub"
    validate(epub)
    z = zipfile.ZipFile(epub)
    first = z.infolist()[0]
    assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
    ns = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}
    opf = ET.fromstring(z.read("OEBPS/content.opf"))
    meta = opf.find("opf:metadata", ns)
    assert meta.find("dc:title", ns).text == "The Keeper's Daughter"
    assert meta.find("dc:creator", ns).text == "Zoë Łukasz-Brontë"
    assert meta.find("dc:language", ns).text == "en"
    items = {i.get("id"): i for i in opf.find("opf:manifest", ns)}
    assert items["cover-image"].get("properties") == "cover-image" and items["cover-image"].get("media-type") == "image/png"
    assert z.read("OEBPS/cover.png") == png()
    nav = ET.fromstring(z.read("OEBPS/nav.xhtml"))
    labels = [a.text for a in nav.iter("{http://www.w3.org/1999/xhtml}a")]
    assert labels == ["Chapter One — Arrival", "Chapter Two"], labels
    ch1 = z.read("OEBPS/chapter-001.xhtml").decode("utf-8")
    assert "<em>without blinking</em>" in ch1 and "<strong>eleven days</strong>" in ch1 and "🌊" in ch1 and "李雷" in ch1, ch1
    assert ch1.count('<hr class="scene-break"/>') == 2, "between the scenes and the written * * *"
    assert "PENDING" not in ch1 and "timeline:" not in ch1 and "\r" not in ch1
    # The example story, with its screenplay scene, and one chapter of it.
    ex = example()
    export(ex, "epub", "-o", "lighthouse.epub")
    validate(ex / "lighthouse.epub")
    export(ex, "epub", "ch03", "-o", "ch03.epub")
    validate(ex / "ch03.epub")
    z = zipfile.ZipFile(ex / "lighthouse.epub")
    chapters = [n for n in z.namelist() if n.startswith("OEBPS/chapter-")]
    assert len(chapters) == 4, chapters
    ch1 = z.read("OEBPS/chapter-001.xhtml").decode("utf-8")
    assert "class=\"character\">ŁUKASZ</p>" in ch1
    # Dual dialogue side by side: one row of two cells, Tom's speech beside Alice's.
    root = ET.fromstring(ch1)
    ns = "{http://www.w3.org/1999/xhtml}"
    duals = [t for t in root.iter(ns + "table") if t.get("class") == "dual"]
    assert len(duals) == 1, ch1
    cells = [["".join(p.itertext()) for p in td.iter(ns + "p")] for td in duals[0].iter(ns + "td")]
    assert cells == [["TOM", "It's an exposed station."], ["ALICE", "It's an exposed station."]], cells
    return "3 EPUBs valid under epubcheck"


# Real screenplays nobody here wrote: the samples and test scripts shipped in the afterwriting
# package (MIT) on the npm registry, fetched once into the cache.
AFTERWRITING = "1.17.3"


def afterwriting_scripts():
    cache = Path(os.environ.get("SHOWRUNNER_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "showrunner")
    folder = cache / f"afterwriting-{AFTERWRITING}"
    if not (folder / "package/package.json").exists():
        import shutil
        import tarfile

        tmp = Path(tempfile.mkdtemp(prefix="sr-aw-"))
        r = subprocess.run(["npm", "pack", f"afterwriting@{AFTERWRITING}", "--silent"], cwd=tmp, capture_output=True, text=True)
        assert r.returncode == 0, f"npm pack afterwriting: {r.stderr}"
        with tarfile.open(next(tmp.glob("*.tgz"))) as t:
            t.extractall(tmp / "x", filter="data")
        folder.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.move(str(tmp / "x"), str(folder))
    pkg = folder / "package"
    return sorted(pkg.glob("samples/*.fountain")) + sorted(pkg.glob("test/data/screenplays/*.fountain"))


def fdx_paragraphs(path):
    import xml.etree.ElementTree as ET

    content = ET.parse(path).getroot().find("Content")
    out = []
    for top in content.findall("Paragraph"):
        dual = top.find("DualDialogue")
        leaves = dual.findall("Paragraph") if dual is not None else [top]
        for p in leaves:
            text = "".join((t.text or "") + "|" + (t.get("Style") or "") for t in p.findall("Text"))
            out.append((p.get("Type"), p.get("Number"), p.get("Alignment"), p.get("StartsNewPage"), dual is not None, text))
    return out


def check_real_screenplays_through_fdx():
    """Each script to FDX, back to Fountain, to FDX again: the same paragraphs, element by element."""
    scripts = afterwriting_scripts()
    assert len(scripts) >= 7, scripts
    total = 0
    for script in scripts:
        a = project({"showrunner.yaml": "name: Sample\n", "script.fountain": script.read_text(encoding="utf-8")})
        export(a, "fdx", "script.fountain", "-o", "a.fdx")
        r = subprocess.run([BIN, "import", "fdx", str(a / "a.fdx"), "-o", str(a / "back.txt")], capture_output=True, text=True)
        assert r.returncode == 0, f"{script.name}: {r.stderr}"
        b = project({"showrunner.yaml": "name: Sample\n", "script.fountain": (a / "back.txt").read_text(encoding="utf-8")})
        export(b, "fdx", "script.fountain", "-o", "b.fdx")
        first, second = fdx_paragraphs(a / "a.fdx"), fdx_paragraphs(b / "b.fdx")
        assert len(first) > 3, (script.name, first)
        for i, (x, y) in enumerate(zip(first, second)):
            assert x == y, f"{script.name}: paragraph {i}: {x} != {y}"
        assert len(first) == len(second), (script.name, len(first), len(second))
        total += len(first)
        if script.name == "brick_and_steel.fountain":
            types = {p[0] for p in first}
            assert {"Scene Heading", "Action", "Character", "Dialogue", "Parenthetical", "Transition"} <= types, types
            duals = [p for p in first if p[4] and p[0] == "Character"]
            assert [p[5].split("|")[0] for p in duals] == ["STEEL", "BRICK"], duals
        if script.name == "jp.fountain":
            assert ("Character", None, None, None, False, "ジョン|") in first, first
    # The same real scripts as a manuscript DOCX (python-docx) and one, in Japanese, as an EPUB.
    by_name = {s.name: s for s in scripts}
    root = project({"showrunner.yaml": "name: Brick\n", "script.fountain": by_name["brick_and_steel.fountain"].read_text(encoding="utf-8")})
    export(root, "docx", "-o", "b.docx")
    texts = [p.text for p in docx.Document(str(root / "b.docx")).paragraphs]
    assert "BRICK" in texts and "STEEL" in texts, texts[:40]
    if epubcheck_command() is not None:
        root = project({"showrunner.yaml": "name: 映画\n", "script.fountain": by_name["jp.fountain"].read_text(encoding="utf-8")})
        export(root, "epub", "-o", "jp.epub")
        validate(root / "jp.epub")
        assert "ジョン" in zipfile.ZipFile(root / "jp.epub").read("OEBPS/chapter-001.xhtml").decode("utf-8")
    return f"{len(scripts)} scripts, {total} paragraphs"


# PDF: read back by poppler (Debian's poppler-utils): pdfinfo for the page size and count,
# pdffonts for what is embedded, pdftotext -bbox for every word and where it sits (points from
# the page's top-left corner), pdftoppm to render a page and look at the ink.
INCH = 72.0


def poppler():
    missing = [t for t in ("pdftotext", "pdfinfo", "pdffonts", "pdftoppm") if shutil.which(t) is None]
    return not missing


def pdf_info(path):
    r = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return dict(line.split(":", 1) for line in r.stdout.splitlines() if ":" in line)


def pdf_page_count(path):
    return int(pdf_info(path)["Pages"].strip())


def pdf_fonts(path):
    """(name without its subset tag, embedded?) of every font."""
    r = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    out = []
    for line in r.stdout.splitlines()[2:]:
        parts = line.split()
        name = parts[0].split("+", 1)[-1]
        emb = parts[-5]
        out.append((name, emb == "yes"))
    return out


def pdf_words(path):
    """Each page's words: (text, xMin, yMin, xMax, yMax)."""
    r = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True)
    pages = []
    for body in re.findall(r"<page[^>]*>(.*?)</page>", r.stdout, re.S):
        words = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', body)
        pages.append([(html.unescape(t), float(a), float(b), float(c), float(d)) for a, b, c, d, t in words])
    return pages


def near(a, b, tol=1.0):
    return abs(a - b) <= tol


def word(page, text, nth=0):
    hits = [w for w in page if w[0] == text]
    assert len(hits) > nth, f"{text!r} not on the page: {[w[0] for w in page][:80]}"
    return hits[nth]


def render(path, page, dpi=144):
    """Page `page` rendered in grey by pdftoppm: (width, bytes, dots per point)."""
    out = Path(tempfile.mkdtemp(prefix="sr-ink-")) / "p"
    subprocess.run(["pdftoppm", "-gray", "-r", str(dpi), "-f", str(page), "-l", str(page), str(path), str(out)], check=True)
    pgm = next(out.parent.glob("p*.pgm")).read_bytes()
    m = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", pgm)
    return int(m.group(1)), pgm[m.end():], dpi / INCH


def crop(image, box):
    """The pixels of a box (points), row by row."""
    width, data, s = image
    x0, y0, x1, y1 = (int(v * s) for v in box)
    return [data[y * width + x] for y in range(y0, y1) for x in range(x0, x1)]


def glyphs_drawn(image, box, n):
    """Whether the `n` characters in the box (side by side, equally wide) were drawn as
    themselves: ink in every cell, and no two cells alike (a missing glyph is the same empty
    box every time)."""
    x0, y0, x1, y1 = box
    w = (x1 - x0) / n
    cells = [crop(image, (x0 + i * w, y0, x0 + (i + 1) * w, y1)) for i in range(n)]
    inked = all(255 - sum(c) / len(c) > 20 for c in cells)
    alike = any(sum(abs(a - b) for a, b in zip(cells[i], cells[j])) / len(cells[i]) < 10 for i in range(n) for j in range(i + 1, n))
    return inked and not alike


SCRIPT = (
    "Title: _**THE KEEPER**_\r\nCredit: Written by\r\nAuthor: Zoë Łukasz-Brontë\r\nDraft date: 1 March 2026\r\n"
    "Contact:\r\n    12 Harbour Row\r\n    zoe@example.com\r\n\r\n"
    "EXT. THE LANDING - DUSK #1#\r\n\r\nŁukasz steps onto the rock. 李雷 watches from the hut. Zoë waits.\r\n\r\n"
    "李雷\r\n(quietly)\r\nHe is early.\r\n\r\n"
    "ZOË\r\nThe glass is falling.\r\n\r\n李雷 ^\r\nThe glass is falling.\r\n\r\n"
    "> CUT TO:\r\n\r\nINT. WIRELESS HUT - NIGHT #2#\r\n\r\n"
    + "".join(f"Beat {i}. The key clicks.\r\n\r\n" for i in range(15))
    + "ZOË\r\n" + "".join(f"Line {i} of the long message, which runs on.\r\n" for i in range(12))
    + "\r\nShe stops. A private sign: \U0010fffd.\r\n"
)


def check_pdf_screenplay_layout():
    """Industry layout, read back by poppler: page size, columns, dual dialogue, scene numbers,
    (MORE)/(CONT'D), page numbers, the title page, embedded fonts and a Chinese name that renders."""
    if not poppler():
        return "skipped: poppler-utils (pdftotext, pdfinfo, pdffonts, pdftoppm) is not installed"
    root = project({"showrunner.yaml": "name: Keeper\n", "script.fountain": SCRIPT})
    said = export(root, "pdf", "script.fountain", "-o", "k.pdf")
    # A character no font holds is named, not dropped in silence.
    assert "no font" in said and "\U0010fffd" in said, said
    pdf = root / "k.pdf"
    assert pdf_info(pdf)["Page size"].strip().startswith("612 x 792"), pdf_info(pdf)
    fonts = pdf_fonts(pdf)
    assert all(emb for _, emb in fonts), fonts
    names = {n for n, _ in fonts}
    assert any(n.startswith("CourierPrime") for n in names) and any("DroidSansFallback" in n for n in names), names
    pages = pdf_words(pdf)
    assert len(pages) == 3, [len(p) for p in pages]

    title = pages[0]
    keeper = word(title, "KEEPER")
    the = word(title, "THE")
    assert near((the[1] + keeper[3]) / 2, (1.5 * INCH + 7.5 * INCH) / 2, 2), (the, keeper)  # centred
    assert near(word(title, "2026")[3], 7.5 * INCH), "draft date flush right"
    assert near(word(title, "12")[1], 1.5 * INCH), "contact bottom left"
    assert word(title, "zoe@example.com")[2] > 9 * INCH

    p1 = pages[1]
    heading = word(p1, "EXT.")
    assert near(heading[1], 1.5 * INCH) and near(heading[2], 1.0 * INCH, 4), heading
    numbers = [w for w in p1 if w[0] == "1" and near(w[2], heading[2])]
    assert len(numbers) == 2 and numbers[0][3] < 1.5 * INCH - 0.4 * INCH and numbers[1][1] > 7.5 * INCH, numbers
    cue = word(p1, "李雷", 1)  # the first is in the action line
    assert near(cue[1], 3.7 * INCH), cue
    assert near(word(p1, "(quietly)")[1], 3.1 * INCH)
    assert near(word(p1, "He")[1], 2.5 * INCH)
    assert near(word(p1, "TO:")[3], 7.5 * INCH), word(p1, "TO:")
    # Courier 12 pt: ten characters an inch, six lines an inch.
    watches = word(p1, "Łukasz")
    assert near(watches[3] - watches[1], 0.6 * INCH, 0.5), watches
    # Dual dialogue: the two cues on one line, one in each half.
    zoe, lei = word(p1, "ZOË"), word(p1, "李雷", 2)
    assert near(zoe[2], lei[2], 0.5) and zoe[1] < 4 * INCH < lei[1], (zoe, lei)
    said_twice = [w for w in p1 if w[0] == "falling."]
    assert len(said_twice) == 2 and near(said_twice[0][2], said_twice[1][2], 0.5), said_twice
    beats = sorted(w[2] for w in p1 if w[0] == "Beat")
    assert all(near(b - a, 2 * 12.0, 0.2) for a, b in zip(beats, beats[1:])), beats
    # The long speech breaks: (MORE) under it, the cue again with (CONT'D) atop the next page.
    last = max(p1, key=lambda w: w[2])
    assert last[0] == "(MORE)" and near(last[1], 3.7 * INCH), last
    assert last[4] <= 1.0 * INCH + 55 * 12.0 + 1, "55 lines from a 1-inch top margin"
    p2 = pages[2]
    number = word(p2, "2.")
    assert near(number[3], 7.5 * INCH) and number[2] < 0.75 * INCH, number
    top = sorted((w for w in p2 if w[2] > INCH - 4), key=lambda w: (w[2], w[1]))
    assert [w[0] for w in top[:2]] == ["ZOË", "(CONT'D)"] and near(top[0][1], 3.7 * INCH), top[:3]
    # 李雷 renders: each character's cell has ink, and the two differ (a missing glyph is the
    # same box twice); in the cue and in the dual column.
    page = render(pdf, 2)
    for w in (cue, lei):
        assert glyphs_drawn(page, w[1:5], 2), w
    return "3 pages, positions within a point"


def afterwriting_cli():
    """The afterwriting renderer (npm), installed once into the cache (its install scripts are
    not needed and not run)."""
    cache = Path(os.environ.get("SHOWRUNNER_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "showrunner")
    folder = cache / f"afterwriting-cli-{AFTERWRITING}"
    awc = folder / "node_modules/afterwriting/awc.js"
    if not awc.exists():
        folder.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(
            ["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--silent", "--prefix", str(folder), f"afterwriting@{AFTERWRITING}"],
            capture_output=True, text=True,
        )
        assert r.returncode == 0 and awc.exists(), f"npm install afterwriting: {r.stderr}"
    return awc


def check_pdf_screenplays_against_afterwriting():
    """Real screenplays nobody here wrote: our page count within one of afterwriting's on the
    same Fountain, on US Letter and on A4 (`manuscript: { paper: a4 }`), the text all there, page
    numbers on every page after the first."""
    if not poppler():
        return "skipped: poppler-utils is not installed"
    awc = afterwriting_cli()
    tmp = Path(tempfile.mkdtemp(prefix="sr-aw-"))
    rows = []
    for paper, profile, size in (("letter", "usletter", "612 x 792"), ("a4", "a4", "595.28 x 841.89")):
        (tmp / f"{paper}.json").write_text(json.dumps({"print_profile": profile}))
        for script in afterwriting_scripts():
            config = "name: Sample\n" + ("manuscript: { paper: a4 }\n" if paper == "a4" else "")
            root = project({"showrunner.yaml": config, "script.fountain": script.read_text(encoding="utf-8")})
            export(root, "pdf", "script.fountain", "-o", "ours.pdf")
            assert pdf_info(root / "ours.pdf")["Page size"].strip().startswith(size), (paper, pdf_info(root / "ours.pdf"))
            theirs = tmp / f"{script.stem}-{paper}.pdf"
            r = subprocess.run(["node", str(awc), "--source", str(script), "--pdf", str(theirs), "--overwrite", "--config", str(tmp / f"{paper}.json")],
                               capture_output=True, text=True)
            assert r.returncode == 0 and theirs.exists(), r.stdout + r.stderr
            ours, ref = pdf_page_count(root / "ours.pdf"), pdf_page_count(theirs)
            rows.append(f"{script.stem} {ours}/{ref}")
            assert abs(ours - ref) <= 1, f"{script.name} on {paper}: {ours} pages, afterwriting {ref}"
            if paper == "a4":
                continue
            pages = pdf_words(root / "ours.pdf")
            has_title = bool(re.match(r"(?i)title\s*:", script.read_text(encoding="utf-8")))
            first = 1 if has_title else 0
            for n, page in enumerate(pages[first + 1:], start=2):
                assert any(w[0] == f"{n}." and w[2] < INCH for w in page), f"{script.name}: page {n} has no number"
            text = subprocess.run(["pdftotext", str(root / "ours.pdf"), "-"], capture_output=True, text=True, check=True).stdout
            if script.name == "brick_and_steel.fountain":
                for expected in ("BRICK & STEEL", "FULL RETIRED", "Stu Maschwitz", "SMASH CUT TO:", "Screw retirement."):
                    assert expected in text, (expected, text[:2000])
            if script.name == "jp.fountain":
                assert "ジョン" in text and "この場所は何ですか？" in text, text
            if script.name == "cyrillic.fountain":
                assert re.search("[А-Яа-я]{3}", text), text
        rows.append(f"({paper})")
    return ", ".join(rows) + " (ours/afterwriting pages)"


def check_pdf_manuscript():
    """Prose as a standard manuscript: title page, running header, chapters on new pages a third
    down, double spacing, indents, emphasis in its own fonts; nothing pending from the AI."""
    if not poppler():
        return "skipped: poppler-utils is not installed"
    root = project()
    said = export(root, "pdf")
    assert said.startswith("wrote exports/the-keeper-s-daughter.pdf (3 scenes"), said
    pdf = root / "exports/the-keeper-s-daughter.pdf"
    names = {n for n, _ in pdf_fonts(pdf)}
    assert {"Tinos-Regular", "Tinos-Italic", "Tinos-Bold"} <= names and any("DroidSansFallback" in n for n in names), names
    pages = pdf_words(pdf)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "PENDING" not in text
    title = pages[0]
    assert near(word(title, "words")[3], 7.5 * INCH) and near(word(title, "about")[2], word(title, "Zoë")[2], 0.5)
    assert near(word(title, "Zoë")[1], INCH)
    assert word(title, "DAUGHTER")[2] > 5 * INCH
    p2 = pages[1]
    head = [w for w in p2 if w[2] < INCH - 6]
    assert " ".join(w[0] for w in head) == "Łukasz-Brontë / THE KEEPER'S DAUGHTER / 2", head
    assert near(max(w[3] for w in head), 7.5 * INCH)
    chapter = word(p2, "Arrival")
    assert near(chapter[2], INCH + 2.5 * INCH, 4), chapter
    body = [w for w in p2 if w[2] > chapter[2] + 5]
    # Lines: the tops of Latin words within a few points of each other (a Chinese name's font
    # has another ascent).
    starts = []
    for top in sorted(w[2] for w in body if re.fullmatch(r"[A-Za-z.,'\"]+", w[0])):
        if not starts or top - starts[-1] > 4:
            starts.append(top)
    steps = [(b - a) / 24.0 for a, b in zip(starts, starts[1:])]
    assert len(starts) > 5 and all(near(x, round(x), 0.02) and round(x) >= 1 for x in steps), starts
    first_top = min(w[2] for w in body)
    first_line = min((w for w in body if w[2] < first_top + 2), key=lambda w: w[1])
    assert first_line[0] == "The" and near(first_line[1], INCH), first_line
    said_line = [w for w in body if w[0].startswith('"Nowak')]
    assert said_line and near(said_line[0][1], 1.5 * INCH), said_line  # indented half an inch
    assert any(w[0] == "#" and near((w[1] + w[3]) / 2, 4.25 * INCH, 2) for p in pages for w in p), "scene break"
    ch2 = next(i for i, p in enumerate(pages) if any(w[0] == "Two" for w in p))
    top = min((w for w in pages[ch2] if w[2] > INCH), key=lambda w: w[2])
    assert top[0] == "Chapter" and near(top[2], INCH + 2.5 * INCH, 4), top
    # In Courier on A4 when the project asks: the running header still ends at the right margin.
    files = dict(FILES)
    files["showrunner.yaml"] = CONFIG + "manuscript: { font: courier, paper: a4 }\n"
    root = project(files)
    export(root, "pdf", "-o", "c.pdf")
    names = {n for n, _ in pdf_fonts(root / "c.pdf")}
    assert any(n.startswith("CourierPrime") for n in names) and not any(n.startswith("Tinos") for n in names), names
    assert pdf_info(root / "c.pdf")["Page size"].strip().startswith("595.28 x 841.89"), pdf_info(root / "c.pdf")
    head = [w for w in pdf_words(root / "c.pdf")[1] if w[2] < INCH - 6]
    assert near(max(w[3] for w in head), 595.28 - INCH), head
    return f"{len(pages)} pages"


def check_pdf_example():
    """The example story (prose with a screenplay episode inside) as a PDF, and its episode alone
    as a screenplay with its title page."""
    if not poppler():
        return "skipped: poppler-utils is not installed"
    root = example()
    export(root, "pdf", "-o", "book.pdf")
    pages = pdf_words(root / "book.pdf")
    assert word(pages[0], "LIGHTHOUSE") and word(pages[0], "words")
    text = subprocess.run(["pdftotext", str(root / "book.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    assert "Chapter 1 — Arrival" in text and "EXT. THE LANDING STAGE - DUSK" in text and "ŁUKASZ" in text
    export(root, "pdf", "story/episode-01.fountain", "-o", "ep.pdf")
    ep = pdf_words(root / "ep.pdf")
    assert word(ep[0], "Inspector\"") and word(ep[0], "2025"), [w[0] for w in ep[0]]
    assert any(w[0] == "ŁUKASZ" and near(w[1], 3.7 * INCH) for w in ep[1]), ep[1][:40]
    return f"{len(pages)} + {len(ep)} pages"


CHECKS = [
    check_docx_manuscript, check_docx_example, check_docx_in_courier, check_fdx_with_python_xml, check_epub,
    check_real_screenplays_through_fdx, check_pdf_screenplay_layout, check_pdf_screenplays_against_afterwriting,
    check_pdf_manuscript, check_pdf_example,
]


def main():
    only = sys.argv[1:]
    failed = 0
    for check in CHECKS:
        if only and check.__name__ not in only:
            continue
        try:
            result = check()
            print(f"ok   {check.__name__}" + (f" ({result})" if result else ""))
        except Exception:
            failed += 1
            print(f"FAIL {check.__name__}")
            traceback.print_exc()
    if failed:
        sys.exit(f"{failed} export check(s) failed")


if __name__ == "__main__":
    main()
