"""Shared fixtures: the seed articles, throw-away indexes, the real `assistant` CLI, a real Chroma server, headless Chromium."""
from __future__ import annotations

import io
import os
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from processes import stop, wait_ready

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _seeds() -> Path:
    # shared/ lies beside the repository, on a developer's machine and in CI's fresh clone alike.
    return (REPO.parent / "shared" / "seeds").resolve()


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    path = _seeds()
    if not path.is_dir() or not any(path.glob("*.txt")):
        pytest.fail(f"the seed articles are missing: expected them in {path}")
    return path


@pytest.fixture
def seeds_copy(seeds_dir: Path, tmp_path: Path) -> Path:
    """A writable copy of the seed articles (the originals are read-only)."""
    dest = tmp_path / "articles"
    dest.mkdir()
    for src in sorted(seeds_dir.glob("*.txt")):
        (dest / src.name).write_bytes(src.read_bytes())
    return dest


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any ASSISTANT_* setting of the caller's, plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(extra)
    return env


@pytest.fixture
def settings_factory(tmp_path: Path, monkeypatch):
    """Settings for a fresh index under tmp_path; keyword arguments override (as flags would)."""
    from assistant.config import Settings

    for var in Settings.env_names():
        monkeypatch.delenv(var, raising=False)

    def make(**overrides):
        overrides.setdefault("index_dir", tmp_path / "index")
        return Settings.load(**overrides)

    return make


def assistant_cmd() -> list[str]:
    """The installed `assistant` command (the module, where the venv has no script for it)."""
    exe = BIN / "assistant"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "assistant.cli"]


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300, cwd: Path | None = None):
    """Run the installed `assistant` command; returns the CompletedProcess (text mode)."""
    return subprocess.run(assistant_cmd() + [str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                          env=clean_env(**(env or {})), cwd=str(cwd or REPO), stdin=subprocess.DEVNULL)


@pytest.fixture
def cli():
    return run_cli


def run_tiny_training(module: str, out: Path, *options: str, timeout: float = 1800) -> subprocess.CompletedProcess:
    """`python -m training.<module> --tiny --out out [options]` from the repository; asserts it finished and wrote out."""
    run = subprocess.run([sys.executable, "-m", f"training.{module}", "--tiny", "--out", str(out), *options],
                         cwd=REPO, env=clean_env(), capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"model written to {out}" in run.stdout
    return run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma(path: Path, port: int) -> subprocess.Popen:
    """`chroma run` over the data in path on port, ready; the caller stops it (processes.stop)."""
    exe = BIN / "chroma"
    if not exe.exists():
        exe = Path(shutil.which("chroma") or "chroma")
    with open(path / "server.log", "ab") as log:
        proc = subprocess.Popen([str(exe), "run", "--path", str(path / "data"), "--host", "127.0.0.1", "--port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=clean_env())
    try:
        wait_ready(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc, path / "server.log", timeout=60)
    except BaseException:
        stop(proc, timeout=10)
        raise
    return proc


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory) -> str:
    """A real `chroma run` server on a free port for the session; yields its URL."""
    port = free_port()
    proc = start_chroma(tmp_path_factory.mktemp("chroma-server"), port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc, timeout=10)


# -- the browser ------------------------------------------------------------------------------------

# Debian's Chromium (Playwright's own download needs the network); quickstart.sh installs it.
CHROMIUM = os.environ.get("ASSISTANT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium for the session; without it a developer's run skips the browser tests, CI's (CI=true) fails."""
    if not Path(CHROMIUM).exists():
        reason = f"chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"{reason}; CI runs the browser tests")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


# -- test documents ---------------------------------------------------------------------------------

def make_pdf(pages: list[list[str]], password: str | None = None, title: str = "A test PDF") -> bytes:
    """A real PDF with one text line per entry of each page (Helvetica), written by pypdf; optionally encrypted."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
    }))
    for lines in pages:
        page = writer.add_blank_page(612, 792)
        ops = ["BT", "/F1 11 Tf", "14 TL", "72 740 Td"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({escaped}) Tj T*")
        ops.append("ET")
        content = DecodedStreamObject()
        content.set_data("\n".join(ops).encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(content)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    writer.add_metadata({"/Title": title})
    if password:
        # RC4 (pypdf's default) needs no extra crypto library to write or to read.
        writer.encrypt(user_password=password, owner_password=password + "-owner")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


PDF_PAGES = [
    ["Orchard report for the northern valley.",
     "The apple harvest began early this year because of a warm spring.",
     "Growers said the crop was the largest in a decade."],
    ["Pear growers had a harder season.",
     "Late frost damaged blossoms across the eastern slopes.",
     "Prices for pears rose by a third at the regional market."],
    ["Plum trees were planted on the old vineyard terraces.",
     "The first plums are expected in three years."],
]

HTML_PAGE = """<!DOCTYPE html>
<html><head><title>Harbour Bridge Reopens</title>
<style>body { color: red } .stylesecret { display: none }</style>
<script>var scriptsecret = "do not index this"; function trackVisitor() { return 1; }</script>
</head>
<body>
<header><a href="/">Daily Example</a> <span>headersecret banner</span></header>
<nav><ul><li><a href="/news">News navsecret</a></li><li><a href="/sport">Sport</a></li></ul></nav>
<main>
<article>
<h1>Harbour Bridge Reopens</h1>
<p>The harbour bridge reopened on Monday after two years of repairs, the city council said.</p>
<script>document.write("inlinescriptsecret");</script>
<p>Engineers replaced <a href="/cables">the main cables</a> and strengthened the deck. Traffic is expected
to return to normal within a week.</p>
<noscript>noscriptsecret enable javascript</noscript>
<p>The mayor thanked residents for their patience during the closure.</p>
</article>
</main>
<aside>asidesecret related stories</aside>
<footer>footersecret copyright</footer>
</body></html>
"""

MARKDOWN_PAGE = """# River Festival Draws Crowds

## Opening day

Thousands of visitors came to the river festival on Saturday. Boat races ran all afternoon.

## Music and food

Local bands played until midnight. Food stalls sold out by nine o'clock.
"""

PNG_BYTES = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + bytes(range(256)) * 4


def unreadable_as_root() -> bool:
    """True when chmod 000 does not stop this process reading (root)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def make_writable(path: Path) -> None:
    path.chmod(path.stat().st_mode | stat.S_IWUSR | stat.S_IRUSR)
