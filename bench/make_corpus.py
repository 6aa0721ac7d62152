"""Rebuild bench/data/wiki/ (plain-text Wikipedia articles) from the Wikipedia dump shipped in gensim's wheel.

The gensim 4.4.0 wheel (LGPL, on PyPI) carries a shortened English Wikipedia dump from 2016 as test data:
gensim/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2. Its text is
Wikipedia's, under CC BY-SA 3.0 (and GFDL). This script turns the wikitext of its real articles into plain
paragraphs with the standard library only, so it runs anywhere:

    pip download --no-deps -d /tmp/gensim gensim==4.4.0
    python bench/make_corpus.py --wheel /tmp/gensim/gensim-4.4.0-*.whl

(or --dump PATH.xml.bz2, or nothing when gensim is installed). The output is committed, so the bench and the
tests never need gensim.
"""
from __future__ import annotations

import argparse
import bz2
import glob
import html
import importlib.util
import io
import re
import zipfile
import xml.etree.ElementTree as ET
from pathlib import Path

DUMP = "gensim/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
OUT = Path(__file__).parent / "data" / "wiki"
# Sections that hold references and link lists, not prose.
SKIP_SECTIONS = {"references", "external links", "see also", "further reading", "notes", "bibliography",
                 "sources", "footnotes", "citations", "notes and references", "works cited", "literature",
                 "gallery", "selected works", "filmography", "discography", "works", "publications"}
# Pages that are lists or disambiguation pages rather than articles.
SKIP_TITLES = re.compile(r"^(List of|Topics of)|\(disambiguation\)|^(A|Answer|Ada|Adventure|Alien)$")
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def read_dump(args) -> bytes:
    if args.dump:
        return bz2.decompress(Path(args.dump).read_bytes())
    if args.wheel:
        wheel = glob.glob(args.wheel)[0]
        with zipfile.ZipFile(wheel) as z:
            return bz2.decompress(z.read(DUMP))
    spec = importlib.util.find_spec("gensim")
    if not spec or not spec.submodule_search_locations:
        raise SystemExit("gensim is not installed: pass --wheel or --dump (see the module docstring)")
    return bz2.decompress((Path(spec.submodule_search_locations[0]).parent / DUMP).read_bytes())


def pages(xml: bytes):
    root = ET.parse(io.BytesIO(xml)).getroot()
    ns = root.tag.split("}")[0] + "}"
    for page in root.iter(ns + "page"):
        title = page.find(ns + "title").text or ""
        text = page.find(f"{ns}revision/{ns}text").text or ""
        if page.find(ns + "ns").text != "0" or text.lower().startswith("#redirect"):
            continue
        yield title, text


def _template(body: str) -> str:
    """The visible text of the few templates that carry prose; every other template is dropped."""
    parts = [p.strip() for p in body.split("|")]
    name = parts[0].lower().strip()
    args = [p for p in parts[1:] if "=" not in p]
    if name in ("convert", "cvt") and len(args) >= 2:
        joiner = args[1].replace("(-)", "").strip()
        if len(args) >= 4 and joiner in ("to", "-", "–", "and", "or", "by", "x", "×"):
            return f"{args[0]} {joiner} {args[2]} {args[3]}"
        return f"{args[0]} {args[1]}"
    if name in ("lang", "transl") and args:
        return args[-1]
    if name in ("nowrap", "nobr", "small", "nowiki", "em", "sic", "smallcaps", "not a typo", "visible anchor"):
        return args[0] if args else ""
    if name in ("birth date", "death date", "birth date and age", "death date and age", "start date", "dts",
                "date", "end date") and len(args) >= 3 and all(a.isdigit() for a in args[:3]):
        year, month, day = args[:3]
        if 1 <= int(month) <= 12:
            return f"{MONTHS[int(month) - 1]} {int(day)}, {year}"
    if name in ("nbsp",):
        return " "
    if name in ("ndash", "en dash"):
        return "–"
    if name in ("snd", "spaced ndash", "spnd", "sndash"):
        return " – "
    if name in ("mdash", "em dash", "mdashb"):
        return "—"
    if name in ("circa", "c.") and args:
        return f"c. {args[0]}"
    if name == "frac" and args:
        return "/".join(args)
    return ""


def _link(body: str) -> str:
    target, _, label = body.partition("|")
    if re.match(r"^\s*(file|image|category|media|wikt|[a-z]{2,3}(-[a-z]+)?):", target, re.I) and not label:
        return ""
    if re.match(r"^\s*(file|image|category|media):", target, re.I):
        return ""
    if re.match(r"^[a-z]{2,3}(-[a-z]+)?:", target):  # interlanguage link
        return ""
    return (label.split("|")[-1] if label else target.split("#")[0] if not target.startswith("#") else target[1:]).strip()


def clean(wikitext: str) -> list[str]:
    """Wikitext -> plain paragraphs (section headings kept as their own short paragraphs)."""
    t = re.sub(r"<!--.*?-->", "", wikitext, flags=re.S)
    t = re.sub(r"<ref[^>/]*/>", "", t)
    t = re.sub(r"<ref[^>]*>.*?</ref>", "", t, flags=re.S)
    t = re.sub(r"<(gallery|math|timeline|syntaxhighlight|source|score|imagemap|chem|ce)[^>]*>.*?</\1>", "", t,
               flags=re.S | re.I)
    t = re.sub(r"<br\s*/?>", " ", t, flags=re.I)
    t = re.sub(r"</?[a-zA-Z][^>]*>", "", t)
    for _ in range(10):  # tables and templates nest: remove the innermost first
        t, n1 = re.subn(r"\{\|(?:(?!\{\|).)*?\|\}", "", t, flags=re.S)
        t, n2 = re.subn(r"\{\{([^{}]*)\}\}", lambda m: _template(m.group(1)), t)
        if not (n1 or n2):
            break
    for _ in range(10):
        t, n = re.subn(r"\[\[([^\[\]]*)\]\]", lambda m: _link(m.group(1)), t)
        if not n:
            break
    t = re.sub(r"\[(?:https?:)?//[^\s\]]+\s+([^\]]*)\]", r"\1", t)
    t = re.sub(r"\[(?:https?:)?//[^\]]*\]", "", t)
    t = re.sub(r"'{2,}", "", t)
    t = html.unescape(t).replace("\u00a0", " ")
    paragraphs: list[str] = []
    skipping = False
    for block in re.split(r"\n\s*\n", t):
        lines = []
        for line in block.split("\n"):
            line = line.strip()
            heading = re.match(r"^(=+)\s*(.*?)\s*\1$", line)
            if heading:
                if lines:
                    paragraphs.append(" ".join(lines))
                    lines = []
                name = heading.group(2).strip()
                if len(heading.group(1)) == 2:
                    skipping = name.lower() in SKIP_SECTIONS
                if not skipping and name:
                    paragraphs.append(name)
                continue
            if skipping or not line or line[0] in "|!{}" or line.startswith("__"):
                continue
            if line[0] in "*#:;":
                line = line.lstrip("*#:; ").strip()
                if len(line.split()) < 8:  # list items that are only names or links
                    continue
            lines.append(line)
        if lines and not skipping:
            paragraphs.append(" ".join(lines))
    out = []
    for p in paragraphs:
        p = re.sub(r"\(\s*[;,]?\s*\)", "", p)  # parentheses emptied by dropped templates
        p = re.sub(r"\(\s*[;,]\s*", "(", p)
        p = re.sub(r"\s+([,.;:])", r"\1", p)
        p = re.sub(r"\s{2,}", " ", p).strip()
        if "{{" in p or "}}" in p or "[[" in p or "]]" in p or p.startswith(("Category:", "Image:", "File:")):
            continue
        out.append(p)
    # drop headings left without a paragraph under them
    keep = [p for i, p in enumerate(out) if len(p) >= 60 or (i + 1 < len(out) and len(out[i + 1]) >= 60)]
    return keep


def slug(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", help="path (or glob) of the gensim-4.4.0 wheel")
    parser.add_argument("--dump", help="path of the enwiki ...-shortened.bz2 dump")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--min-paragraphs", type=int, default=5)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    total_docs = total_pars = total_bytes = 0
    for title, text in pages(read_dump(args)):
        if SKIP_TITLES.search(title) or "/" in title:
            continue
        paragraphs = clean(text)
        prose = [p for p in paragraphs if len(p) >= 60]
        if len(prose) < args.min_paragraphs:
            continue
        body = title + "\n\n" + "\n\n".join(paragraphs) + "\n"
        (out / f"{slug(title)}.txt").write_text(body, encoding="utf-8")
        total_docs += 1
        total_pars += len(prose)
        total_bytes += len(body.encode())
    print(f"{total_docs} articles, {total_pars} paragraphs, {total_bytes / 1e6:.1f} MB in {out}")


if __name__ == "__main__":
    main()
