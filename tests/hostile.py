"""A generator of hostile files: what a careless user or an attacker puts in a folder of articles.

make_hostile(folder) writes over a hundred bad files (empty, binary, huge, mis-encoded, deeply nested, zip bombs,
broken and encrypted PDFs, odd names, links, FIFOs, unreadable files) and a few awkward good ones, and returns
what an ingest must say: {source: a word its one-line reason holds} for every bad file, and the sources of the
good ones.
"""
from __future__ import annotations

import io
import os
import random
import zipfile
from pathlib import Path

from conftest import PDF_PAGES, PNG_BYTES, make_pdf

MAGIC = {"png": PNG_BYTES, "jpeg": b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8, "gif": b"GIF89a" + bytes(200),
         "elf": b"\x7fELF\x02\x01\x01" + bytes(300), "gzip": b"\x1f\x8b\x08" + bytes(300),
         "riff": b"RIFF\x00\x01\x00\x00WAVE" + bytes(300), "zip": b"PK\x03\x04" + bytes(300)}
TEXT_SUFFIXES = [".txt", ".md", ".markdown", ".html", ".htm"]
SENTENCE = "The council met on Monday to discuss the new harbour bridge. "


def docx_bytes(body_xml: str, extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal .docx (python-docx reads it) whose body is body_xml."""
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'wordprocessingml.document.main+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="word/document.xml"/></Relationships>',
        "word/document.xml": f'<?xml version="1.0"?><w:document {ns}><w:body>{body_xml}</w:body></w:document>',
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buf.getvalue()


def paragraph(text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"


def table_docx(rows: list[list[str]]) -> bytes:
    cells = "".join("<w:tr>" + "".join(f"<w:tc>{paragraph(c)}</w:tc>" for c in row) + "</w:tr>" for row in rows)
    return docx_bytes(f"<w:tbl>{cells}</w:tbl>")


def zip_bomb_docx(inflated_mb: int) -> bytes:
    """A .docx of about 1 MB per GB that inflates to inflated_mb: a part of zeros, deflated."""
    buf = io.BytesIO(docx_bytes(paragraph("A bomb.")))
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_DEFLATED) as z:
        with z.open("word/media/zeros.bin", "w", force_zip64=True) as member:
            block = bytes(1 << 20)
            for _ in range(inflated_mb):
                member.write(block)
    return buf.getvalue()


def make_hostile(folder: Path, outside: Path) -> tuple[dict[str, str], set[str]]:
    """Write the hostile files into folder (outside: a folder beside it, for links that leave it).
    Returns ({file name: word its reason must hold ('' when any reason will do)}, {names that must be indexed});
    names as the file system has them (the ingest shows them with assistant.ingest.pipeline.printable)."""
    rng = random.Random(13)
    bad: dict[str, str] = {}
    good: set[str] = set()

    def put(name: str, data: bytes, reason: str) -> None:
        (folder / name).write_bytes(data)
        bad[name] = reason

    # empty and blank
    for suffix in TEXT_SUFFIXES + [".pdf", ".docx"]:
        put(f"empty{suffix}", b"", "empty")
    for n, blank in enumerate([b"   \n\n\t", b"\r\n" * 50, b"\xc2\xa0 \xc2\xa0\n"]):
        put(f"blank-{n}.txt", blank, "")
    # only invisible characters: zero-width spaces and joiners, soft hyphens, a lone byte-order mark
    for n, ch in enumerate(["\u200b", "\u200d", "\u00ad", "\u2060", "\ufeff"]):
        put(f"invisible-{n}.txt", (ch * 200).encode(), "no text")
    put("bom-only.md", b"\xef\xbb\xbf", "")
    # binary files under text names
    for kind, data in MAGIC.items():
        for suffix in (".txt", ".md", ".html"):
            put(f"{kind}-disguised{suffix}", data, "binary")
    for n in range(12):
        put(f"random-{n}{TEXT_SUFFIXES[n % len(TEXT_SUFFIXES)]}", rng.randbytes(2000 + 500 * n) + b"\x00", "binary")
    put("controls.txt", bytes(range(1, 9)) * 300, "binary")
    # no words: emoji, symbols, entities, stop words only
    put("emoji.txt", "😀🚀🔥 ✓\n".encode(), "no words")
    put("emoji.md", ("🎉 " * 500).encode(), "no words")
    put("symbols.txt", b"&&& *** ### --- !!! ??? " * 100, "no words")
    put("amp.html", b"<html><body><p>" + b"&amp;" * 1_000_000 + b"</p></body></html>", "no words")  # 5 MB
    put("stopwords.txt", b"the a an of and or to in on at it is was " * 50, "no words")
    put("digits.txt", b"1 2 3 4 5 6 7 8 9 " * 100, "no words")
    # mis-encoded
    for n in range(4):
        put(f"broken-utf8-{n}.txt", "Zürich council met on Monday. ".encode() * (5 + n) + b"\xe9t\xe9 \x80\x81 end", "mis-encoded")
    put("bad-bom-utf16.txt", b"\xff\xfe" + b"\x00\xd8" * 3, "")
    # nested too deeply (a recursive walker dies; lexbor keeps the tree)
    put("deep.html", b"<div>" * 10000 + b"x" + b"</div>" * 10000, "nested")
    put("deep-span.htm", b"<p>" + b"<span>" * 5000 + b"words here" + b"</span>" * 5000, "nested")
    put("deep-list.html", b"<ul><li>" * 3000 + b"item" + b"</li></ul>" * 3000, "nested")
    put("deep-unclosed.html", b"<b><i>" * 4000 + b"text", "nested")
    # scripts and styles only
    put("scripts.html", b"<script>" + b"track('x');" * 300 + b"</script><style>p{}</style>", "no text")
    put("comments.html", b"<!-- " + b"hidden " * 500 + b"-->", "no text")
    # huge: one 5 MB line, and a file over the size limit (the test sets ASSISTANT_MAX_FILE_MB=8)
    put("one-line.txt", (SENTENCE.replace(". ", ", ") * 85_000).encode(), "too long")
    put("huge.txt", SENTENCE.encode() * 150_000, "too large")
    # .docx: zip bombs, broken, not a zip, a zip without a document
    put("bomb.docx", zip_bomb_docx(300), "zip bomb")
    put("not-a-zip.docx", b"This is plain text, not a Word file.", "docx")
    put("truncated.docx", docx_bytes(paragraph(SENTENCE))[:200], "docx")
    put("no-document.docx", _zip({"hello.txt": b"hi"}), "docx")
    put("empty-body.docx", docx_bytes(""), "no text")
    # PDFs: broken, truncated, encrypted, empty pages
    put("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\nthis is not really a PDF\n", "PDF")
    full = make_pdf(PDF_PAGES)
    for n, cut in enumerate((50, 300, len(full) // 2)):
        put(f"truncated-{n}.pdf", full[:cut], "")
    put("encrypted.pdf", make_pdf(PDF_PAGES, password="secret"), "encrypted")
    put("encrypted-2.pdf", make_pdf([["Secret minutes."]], password="another"), "encrypted")
    put("blank-pages.pdf", make_pdf([[], []]), "no text")
    put("png-as.pdf", PNG_BYTES, "PDF")
    put("garbage.pdf", b"%PDF-1.7\n" + rng.randbytes(5000), "")
    # odd names with bad content (the name must survive into a one-line reason)
    for name in ["latin1_\udce9t\udce9.txt", "line\nbreak.txt", "-rf.txt", "tab\there.md", "quote\"'.html",
                 "back\\slash.txt", "rtl\u202egnp.txt", "spaces   .txt", "x" * 250 + ".txt", "ünïcödé.md"]:
        (folder / name).write_bytes(PNG_BYTES)
        bad[name] = "binary"
    # links
    (outside / "secret.txt").write_text("The outside secret is that the vault code is 4321.\n")
    (folder / "outside-link.txt").symlink_to(outside / "secret.txt")
    bad["outside-link.txt"] = "outside"
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    bad["passwd.txt"] = "outside"
    (folder / "outside-folder").symlink_to(outside, target_is_directory=True)
    bad["outside-folder"] = "outside"
    (folder / "dangling.txt").symlink_to(folder / "nothing-here.txt")
    bad["dangling.txt"] = "broken symlink"
    (folder / "loop-a.md").symlink_to(folder / "loop-b.md")
    (folder / "loop-b.md").symlink_to(folder / "loop-a.md")
    bad.update({"loop-a.md": "loop", "loop-b.md": "loop"})
    (folder / "sub").mkdir()
    (folder / "sub" / "back").symlink_to(folder, target_is_directory=True)
    bad["sub/back"] = "loop"
    # FIFOs and unreadable files (root reads a chmod 000 file: its content is bad as well)
    for name in ("pipe.txt", "pipe.md", "sub/pipe.html"):
        os.mkfifo(folder / name)
        bad[name] = "not a regular file"
    for name in ("locked.txt", "sub/locked.md"):
        (folder / name).write_bytes(PNG_BYTES)
        (folder / name).chmod(0)
        bad[name] = ""
    # awkward but good: these must be indexed
    (folder / "utf16-no-bom.txt").write_bytes("The lighthouse keeper retired after forty years of service.\n".encode("utf-16-le"))
    (folder / "tables-only.docx").write_bytes(table_docx([["Team", "Score"], ["Harbour Rovers", "three goals"]]))
    (folder / "good_\udce9.txt").write_text("The ferry timetable changes in spring.\n", errors="surrogateescape")
    good.update({"utf16-no-bom.txt", "tables-only.docx", "good_\udce9.txt"})
    return bad, good


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()
