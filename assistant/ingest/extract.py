"""Turn a file (txt, md, html, pdf, docx) into plain text, a title and a page map, or a one-line reason why not."""
from __future__ import annotations

import codecs
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .metadata import clean_title, parse_date, safe_url
from ..schema import AssistantError

SUPPORTED = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"}

MAGIC = {
    b"\x89PNG": "PNG image",
    b"\xff\xd8\xff": "JPEG image",
    b"GIF8": "GIF image",
    b"%PDF": "PDF document",
    b"PK\x03\x04": "ZIP archive",
    b"\x7fELF": "executable",
    b"\x1f\x8b": "gzip archive",
    b"RIFF": "RIFF media file",
}


class ExtractError(AssistantError):
    """The file cannot become text; the message is the one-line reason shown to the user."""


@dataclass
class Extracted:
    text: str
    title: str
    pages: list[int] = field(default_factory=list)
    date: str = ""  # partial ISO date the file itself gives (metadata.parse_date), "" when none
    url: str = ""  # the original's http(s) address the file gives (canonical link, og:url, front matter)


MAX_HTML_DEPTH = 512
MAX_UNZIPPED_BYTES = 200_000_000


def extract_bytes(data: bytes, name: str, max_depth: int = MAX_HTML_DEPTH,
                  max_unzipped: int = MAX_UNZIPPED_BYTES) -> Extracted:
    """Extract text from a file's bytes; the suffix of name picks the format. max_depth bounds HTML nesting,
    max_unzipped the inflated size of a .docx (both checked before the work they bound)."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED:
        raise ExtractError(f"unsupported file type {suffix or '(none)'}; expected one of {', '.join(sorted(SUPPORTED))}")
    if not data.strip():
        raise ExtractError("empty file")
    if suffix == ".pdf":
        result = _pdf(data)
    elif suffix == ".docx":
        result = _docx(data, max_unzipped)
    else:
        text = decode_text(data)
        if suffix in (".html", ".htm"):
            result = _html(text, max_depth)
        else:
            if suffix in (".md", ".markdown"):
                result = _markdown(text)
            else:
                result = Extracted(_normalize(text), "")
    # a PDF's broken font map can yield lone surrogates, which no tokenizer, index or JSON encoder takes
    result.text = result.text.encode("utf-8", "replace").decode("utf-8")
    if not any(ch.isprintable() and not ch.isspace() for ch in result.text):
        # zero-width spaces, joiners, soft hyphens and the like are not text either
        raise ExtractError("no text found in the file")
    # Never a file name like 003_3489e0f1 as a title: the headline line, else the lead sentence's opening words
    # (ending in "…", which the answerer does not read as the document's subject), else "" (readers show the name).
    title = " ".join((result.title or _first_line(result.text) or _lead(result.text)).split())[:200]
    result.title = clean_title(title.encode("utf-8", "replace").decode("utf-8"))
    result.date = parse_date(result.date)
    result.url = safe_url(result.url)
    return result


def decode_text(data: bytes) -> str:
    """Decode text with its BOM, else UTF-8, else the detected encoding; refuse binary data."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                raise ExtractError(f"invalid {encoding} text despite its byte-order mark") from None
    for magic, kind in MAGIC.items():
        if data.startswith(magic):
            raise ExtractError(f"binary file ({kind}), not text")
    if b"\x00" in data[:8192]:
        text = _utf16_without_bom(data)
        if text is None:
            raise ExtractError("binary file (contains NUL bytes), not text")
        data = text.encode("utf-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = _decode_legacy(data, exc)
    controls = sum(1 for ch in text[:20000] if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f")
    if controls > max(3, len(text[:20000]) // 100):
        raise ExtractError("binary file (control characters), not text")
    return text


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text saved without a byte-order mark (NUL bytes in every other place), else None."""
    from charset_normalizer import from_bytes

    best = from_bytes(data[:65536]).best()
    if best is None or not best.encoding.startswith("utf_16"):
        return None
    try:
        return data.decode(best.encoding)
    except UnicodeDecodeError:
        return None


def _decode_legacy(data: bytes, error: UnicodeDecodeError) -> str:
    """Text that is not UTF-8: refuse broken UTF-8, prefer cp1252 (latin-1's superset) for Western text, else detect."""
    loose = data.decode("utf-8", errors="replace")
    invalid = loose.count("\ufffd")
    valid_multibyte = sum(1 for ch in loose if ord(ch) > 127 and ch != "\ufffd")
    if valid_multibyte and valid_multibyte >= invalid:
        # Mostly well-formed UTF-8 with a few bad bytes: any other decoding would garble its accents.
        raise ExtractError(f"mis-encoded text: UTF-8 with {invalid} invalid byte(s), the first at byte {error.start}")
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        # Charset detection confuses cp1252 with cp1250/cp1257 on short texts; Western text read as cp1252
        # has few non-ASCII letters, while e.g. Cyrillic cp1251 read as cp1252 is nearly all accented letters.
        letters = [ch for ch in text if ch.isalpha()]
        foreign = sum(1 for ch in letters if ord(ch) > 127)
        if letters and foreign <= 0.3 * len(letters):
            return text
    if sum(1 for b in data if b > 127) <= max(8, len(data) // 200):
        # ASCII text with a few stray bytes: an encoding detected from so few is a guess (cp1251 mojibake, seen);
        # read as the UTF-8 it most likely was, the bad bytes shown as U+FFFD.
        return loose
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ExtractError("cannot detect the text encoding (not UTF-8, cp1252 or latin-1)")
    return str(best)


def _normalize(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


BYLINE = re.compile(r"(?i)(via|by|from)\s")


def _first_line(text: str) -> str:
    """A plain text's title: a heading among its leading lines (before the body starts), else "".

    A heading is short, has letters and does not end like a sentence; bylines ("Via Financial Times") and site
    banners ("Iraq News - Local News - Baghdadpost") are passed over. A body line (long, or ending in a full stop)
    ends the search: its opening words cut short are not a title.
    """
    lines = [ln.strip().lstrip("#").strip() for ln in text.splitlines()]
    for line in [ln for ln in lines if ln][:5]:
        if BYLINE.match(line) or line.count(" - ") >= 2:
            continue
        if len(line) > 150 or line.endswith((".", ":", ";", ",")):
            return ""
        if re.search(r"[^\W\d_]", line):  # a line of letters, not a rule or a date stamp
            return line
    return ""


LEAD_WORDS = 12


def _lead(text: str) -> str:
    """The opening words of the first body sentence (past bylines and site banners), cut with "…"."""
    for line in [ln.strip() for ln in text.splitlines() if ln.strip()][:6]:
        if BYLINE.match(line) or line.count(" - ") >= 2 or len(line.split()) < 6:
            continue
        sentence = re.split(r"(?<=[.!?])\s", line, maxsplit=1)[0]
        words = sentence.split()
        return " ".join(words[:LEAD_WORDS]).rstrip(",;:") + "…" if len(words) > LEAD_WORDS else sentence
    return ""


def _markdown_title(text: str) -> str:
    m = re.search(r"^#\s+(.+)$", text, re.M)
    return m.group(1).strip() if m else ""


FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)


def _markdown(text: str) -> Extracted:
    """Markdown: a YAML front matter's title, date and url (read as plain `key: value` lines, not executed as
    YAML), removed from the text; else the first `# ` heading is the title."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    fields: dict[str, str] = {}
    m = FRONT_MATTER.match(text.lstrip("\ufeff"))
    if m:
        for line in m.group(1).splitlines()[:200]:
            key, sep, value = line.partition(":")
            if sep and key.strip().lower() in ("title", "date", "url", "published", "link"):
                fields.setdefault(key.strip().lower(), value.strip().strip("'\"").strip())
        text = text.lstrip("\ufeff")[m.end():]
    body = _normalize(text)
    return Extracted(body, fields.get("title") or _markdown_title(body),
                     date=fields.get("date") or fields.get("published", ""), url=fields.get("url") or fields.get("link", ""))


SKIP_TAGS = {"script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "svg",
             "button", "template", "head", "select", "canvas", "object", "embed"}
# Boxes around an article that are not the article, by the words of their class or id (the names pages give them;
# trafilatura's discard list and readability's "unlikely candidates" read the same words) or their ARIA role.
BOILERPLATE_NAMES = {"cookie", "cookies", "consent", "gdpr", "newsletter", "subscribe", "subscription", "share",
                     "sharing", "social", "sidebar", "related", "recommended", "popular", "trending", "menu", "nav",
                     "navbar", "navigation", "breadcrumb", "breadcrumbs", "footer", "masthead", "banner", "advert",
                     "advertisement", "ad", "ads", "sponsored", "promo", "outbrain", "taboola", "comments", "comment",
                     "modal", "popup", "paywall", "skip"}
BOILERPLATE_ROLES = {"navigation", "banner", "complementary", "contentinfo", "search", "dialog", "alert"}
MIN_KEPT_SHARE = 0.3  # the boxes are skipped only while what is left holds this share of the page's words
# a container whose words are mostly link text is a box of links (a menu, a footer, "read more" lists), whatever it
# is named, as in readability and trafilatura; a paragraph or a heading is never judged so
LINK_BOX_TAGS = {"div", "section", "ul", "ol", "dl", "table", "header", "footer", "aside", "nav", "menu"}
LINK_BOX_SHARE = 0.5
NAME_WORD = re.compile(r"[a-z]+")
BLOCK_TAGS = {"p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol",
              "blockquote", "pre", "table", "tr", "td", "th", "br", "hr", "dd", "dt", "dl", "figcaption",
              "figure", "body", "title", "address", "caption"}


def _html(html: str, max_depth: int = MAX_HTML_DEPTH) -> Extracted:
    # selectolax gives the DOM; its own .text() glues block elements together or splits inline ones,
    # so a short walk keeps paragraphs apart and sentences with links whole.
    from selectolax.lexbor import LexborHTMLParser

    check_nesting(html, max_depth)  # before the parser: a tree 100,000 elements deep takes it most of a minute
    tree = LexborHTMLParser(html)
    root = tree.css_first("main") or tree.css_first("article") or tree.body or tree.root
    # first: it refuses a page nested too deeply
    text, boxed_words = _html_text(root, max_depth) if root is not None else ("", 0)
    if boxed_words and len(text.split()) < MIN_KEPT_SHARE * (len(text.split()) + boxed_words):
        # the article itself sits in a box named like boilerplate ("content-with-sidebar"): keep the boxes rather
        # than lose the article
        text, _ = _html_text(root, max_depth, skip_boxes=False)
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n")]
    title, date, url = _html_meta(tree)
    return Extracted("\n\n".join(p for p in paragraphs if p), title, date=date, url=url)


def _meta_content(tree, *selectors: str) -> str:
    for selector in selectors:
        node = tree.css_first(selector)
        value = (node.attributes.get("content") or node.attributes.get("href") or node.attributes.get("datetime")
                 if node is not None else None)
        if value and value.strip():
            return value.strip()
    return ""


def _html_meta(tree) -> tuple[str, str, str]:
    """A page's title, publication date and canonical url from its head: og:title, <title> or <h1>;
    article:published_time, JSON-LD datePublished, <time datetime> and the usual meta names; og:url or the
    canonical link."""
    title = _meta_content(tree, 'meta[property="og:title"]', 'meta[name="twitter:title"]')
    if not title:
        node = tree.css_first("title") or tree.css_first("h1")
        title = node.text() if node is not None else ""
    headline = tree.css_first("h1")
    title = without_site_name(title, _meta_content(tree, 'meta[property="og:site_name"]'),
                              headline.text() if headline is not None else "")
    date = _meta_content(tree, 'meta[property="article:published_time"]', 'meta[name="article:published_time"]',
                         'meta[itemprop="datePublished"]', 'meta[name="date"]', 'meta[name="pubdate"]',
                         'meta[name="publish-date"]', 'meta[name="dc.date"]', 'meta[name="DC.date.issued"]')
    if not parse_date(date):
        date = _json_ld_date(tree) or _meta_content(tree, "time[datetime]")
    url = _meta_content(tree, 'link[rel="canonical"]', 'meta[property="og:url"]')
    return title, date, url


TITLE_SEPARATOR = r"\s+[|\u2013\u2014\u00b7\u2022:-]\s+"  # "Headline | Site", "Site - Headline", "a — b"


def without_site_name(title: str, site_name: str, headline: str) -> str:
    """A page title without the site's name that pages add to it ("Footbridge vote - Riverside Daily"): the part
    of it that is the page's own <h1>, else the title less its og:site_name at either end."""
    title = " ".join(title.split())
    headline, site_name = " ".join(headline.split()), " ".join(site_name.split())
    parts = re.split(TITLE_SEPARATOR, title)
    if len(parts) < 2:
        return title
    for part in parts:
        if headline and part.casefold() == headline.casefold():
            return part
    if site_name:
        site = re.escape(site_name)
        m = re.fullmatch(rf"(.+?){TITLE_SEPARATOR}{site}", title, re.IGNORECASE) or \
            re.fullmatch(rf"{site}{TITLE_SEPARATOR}(.+)", title, re.IGNORECASE)
        if m:
            return m.group(1)
    return title


def _json_ld_date(tree) -> str:
    """datePublished (else dateCreated) of the page's JSON-LD, searched without recursion."""
    import json

    for node in tree.css('script[type="application/ld+json"]')[:20]:
        try:
            data = json.loads(node.text()[:200_000])
        except ValueError:
            continue
        pending = [data]
        for _ in range(500):  # a bounded walk: JSON-LD nests @graph lists and objects
            if not pending:
                break
            item = pending.pop()
            if isinstance(item, list):
                pending.extend(item[:100])
            elif isinstance(item, dict):
                for key in ("datePublished", "dateCreated"):
                    if isinstance(item.get(key), str) and parse_date(item[key]):
                        return item[key]
                pending.extend(v for v in item.values() if isinstance(v, (list, dict)))
    return ""


# What the depth scan skips: comments, raw text (scripts, styles: their "<div>" strings are not elements) and tags.
HTML_TOKEN = re.compile(r"<!--.*?(?:-->|$)|<(script|style|textarea|title)\b.*?(?:</\1\s*>|$)|<(/?)([a-zA-Z][^\s/>]*)[^>]*?(/?)>",
                        re.DOTALL | re.IGNORECASE)
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr",
             "param", "keygen", "basefont", "bgsound", "frame"}
# Closed by their next sibling when their end tag is left out: a list of 600 <p> without </p> is flat, not deep.
OPTIONAL_END_TAGS = {"p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option", "optgroup", "rb",
                     "rt", "rtc", "rp", "colgroup", "caption", "html", "head", "body"}


def check_nesting(html: str, max_depth: int) -> None:
    """Refuse HTML whose elements may nest deeper than max_depth, from a scan of its tags (linear, a few ms a
    megabyte) before the parser builds the tree. It over-counts rather than under-counts: an unclosed <b> or <div>
    counts as open, as the parser would nest what follows into it; "/>" closes only inside <svg> and <math>."""
    depth = foreign = 0
    for m in HTML_TOKEN.finditer(html):
        name = (m.group(3) or "").lower()
        if not name or name in VOID_TAGS or name in OPTIONAL_END_TAGS:
            continue
        if m.group(2):  # an end tag
            depth = max(0, depth - 1)
            foreign -= name in ("svg", "math") and foreign > 0
            continue
        if m.group(4) and foreign:
            continue
        depth += 1
        foreign += name in ("svg", "math")
        if depth > max_depth:
            raise ExtractError(f"HTML nested too deeply (over {max_depth} levels at character {m.start():,}; "
                               "the limit is max_html_depth)")


def _is_boilerplate(node) -> bool:
    """Whether an element is a box around the article (a cookie banner, a menu, "related" or "live" lists, share
    buttons) or hidden from readers, by its attributes."""
    attributes = node.attributes
    if "hidden" in attributes or (attributes.get("aria-hidden") or "").lower() == "true":
        return True
    if (attributes.get("role") or "").lower() in BOILERPLATE_ROLES:
        return True
    # "live-updates sidebar", "cookieConsent", "share_buttons": the words of the names, camel case split
    names = re.sub(r"([a-z])([A-Z])", r"\1 \2", f"{attributes.get('class') or ''} {attributes.get('id') or ''}")
    return not BOILERPLATE_NAMES.isdisjoint(NAME_WORD.findall(names.lower()))


def _html_text(root, max_depth: int, skip_boxes: bool = True) -> tuple[str, int]:
    """The text under root with blank lines between blocks, without boilerplate boxes (unless skip_boxes is
    False), and how many words the boxes held. A loop with its own stack, not recursion: a page nested thousands
    of levels deep must not exhaust Python's stack; past max_depth it is refused."""
    parts: list[str] = []
    boxed_words = words = link_words = 0  # words: those kept so far; link_words: those of them inside a link
    # per open element: the next child to visit, whether it is a block, whether it is inside a boilerplate box, whether
    # inside a link, whether it may be a box of links, and where its text starts (to take it out again if it is one)
    stack: list[list] = [[root.child, False, False, False, False, 0, 0, 0]]  # the root is the page or its article
    while stack:
        top = stack[-1]
        child = top[0]
        if child is None:
            stack.pop()
            if top[4] and words > top[6] and link_words - top[7] >= LINK_BOX_SHARE * (words - top[6]):
                del parts[top[5]:]
                boxed_words += words - top[6]
                words, link_words = top[6], top[7]
            if top[1]:
                parts.append("\n\n")
            continue
        top[0] = child.next
        tag = child.tag
        if tag == "-text":
            n = len((child.text_content or "").split())
            if top[2]:
                boxed_words += n
            else:
                parts.append(child.text_content or "")
                words += n
                link_words += n if top[3] else 0
        elif tag and not tag.startswith("-") and tag not in SKIP_TAGS:
            if len(stack) > max_depth:
                raise ExtractError(f"HTML nested too deeply (over {max_depth} levels; the limit is max_html_depth)")
            block = tag in BLOCK_TAGS
            if block:
                parts.append("\n\n" if tag not in ("br", "td", "th") else "\n")
            boxed = top[2] or (skip_boxes and _is_boilerplate(child))
            link_box = skip_boxes and not boxed and tag in LINK_BOX_TAGS
            stack.append([child.child, block, boxed, top[3] or tag == "a", link_box, len(parts), words, link_words])
    return "".join(parts), boxed_words


def _pdf(data: bytes) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise ExtractError("encrypted PDF (a password is needed)")
            except ExtractError:
                raise
            except Exception:
                raise ExtractError("encrypted PDF (a password is needed)") from None
        texts, pages, pos = [], [], 0
        for page in reader.pages:
            page_text = _normalize(page.extract_text() or "")
            pages.append(pos)
            texts.append(page_text)
            pos += len(page_text) + 2
        info = reader.metadata or {}
        title = str(info.get("/Title") or "")
        date = str(info.get("/CreationDate") or "")
    except ExtractError:
        raise
    except (PdfReadError, Exception) as exc:  # pypdf raises many types for damaged files
        raise ExtractError(f"not a readable PDF ({type(exc).__name__}: {str(exc)[:80]})") from None
    return Extracted("\n\n".join(texts), title, pages, date=date)


def _docx(data: bytes, max_unzipped: int = MAX_UNZIPPED_BYTES) -> Extracted:
    _check_unzipped_size(data, max_unzipped)
    try:
        import docx

        d = docx.Document(io.BytesIO(data))
    except Exception as exc:
        raise ExtractError(f"not a readable .docx file ({type(exc).__name__})") from None
    paragraphs = [" ".join(p.split()) for p in _docx_blocks(d)]
    props = d.core_properties
    return Extracted("\n\n".join(p for p in paragraphs if p), props.title or "", date=props.created or "",
                     url=props.identifier or "")


def _docx_blocks(d) -> list[str]:
    """The body's paragraphs and table cells in reading order (text may live only in tables)."""
    from docx.table import Table

    blocks: list[str] = []
    pending = list(d.iter_inner_content())
    pending.reverse()
    while pending:  # a stack, not recursion: tables nest in cells
        item = pending.pop()
        if isinstance(item, Table):
            cells, seen = [], set()
            for row in item.rows:
                for cell in row.cells:
                    if cell._tc not in seen:  # a merged cell is returned once per grid position
                        seen.add(cell._tc)
                        cells.append(cell)
            inner = [block for cell in cells for block in cell.iter_inner_content()]
            pending.extend(reversed(inner))
        else:
            blocks.append(item.text)
    return blocks


def _check_unzipped_size(data: bytes, limit: int) -> None:
    """Refuse a zip whose members would inflate past limit, from its directory, before inflating anything
    (zipfile then stops each member at its declared size, so a lying directory gains nothing)."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ExtractError(f"not a readable .docx file ({type(exc).__name__})") from None
    if total > limit:
        raise ExtractError(f"a zip bomb: the .docx would inflate to {total / 1e6:.3g} MB "
                           f"(the limit is {limit / 1e6:.3g} MB, max_unzipped_mb)")
