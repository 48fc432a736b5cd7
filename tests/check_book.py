"""Check the built book in a real browser (headless Chromium).

Usage (after ``jupyter-book build . -W -n --keep-going``)::

    python tests/check_book.py _build/html [--screens DIR]

The script serves the HTML folder on 127.0.0.1, opens every page in headless
Chromium (Debian package ``chromium``; Chinese glyphs need ``fonts-noto-cjk``)
and reads back the DOM the browser built. A page fails when

* an output cell shows a Python error (``Traceback``, ``...Error:``), or the
  page shows a docutils/Sphinx error message;
* an ``<img>`` points at a missing file or at bytes that are not a PNG, JPEG,
  GIF, WebP or SVG image, or the browser reports ``naturalWidth == 0``
  (a small script injected by the test server records it after load);
* a cross-reference, glossary term or citation did not resolve (Sphinx then
  writes the ``xref`` text without a link, or a citation with no link), or an
  internal link points at a file or anchor that does not exist;
* a page that is mostly Chinese has no ``lang="zh..."`` on its content, or its
  characters are drawn as boxes ("tofu") with the fonts this machine has;
* the English and Chinese front pages do not link to each other;
* a page built from a notebook has no ``<audio>`` player;
* an equation is left as raw TeX (MathJax did not typeset it) or MathJax shows an error.

It also saves screenshots of the front matter and of every notebook page to
``--screens`` (default ``_build/screens``), prints one line per page and ends
with ``N passed, M failed``. The exit status is non-zero when a page fails.

Only the Python standard library is used (the PNG reader below is enough for
Chromium's screenshots).
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures as futures
import functools
import html
import http.server
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import unicodedata
import urllib.parse
import zlib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

SCREEN_PAGES = ("intro.html", "intro_zh.html", "how-to-use.html", "workshop.html", "glossary.html")
SKIP_PAGES = {"genindex.html", "search.html", "index.html", "py-modindex.html"}
SKIP_DIRS = {"_static", "_sources", "_images", "_downloads", "_sphinx_design_static", "_panels_static"}
FRONT_EN, FRONT_ZH = "intro.html", "intro_zh.html"

# A script the test server appends to every HTML page. After the load event it
# records, on each <img>, what the browser itself knows about the picture.
PROBE_JS = """
<script>
(function () {
  document.querySelectorAll('img').forEach(function (im) { im.loading = 'eager'; });
  function mark() {
    document.querySelectorAll('img').forEach(function (im) {
      im.setAttribute('data-check-natural-width', String(im.naturalWidth));
      im.setAttribute('data-check-complete', String(im.complete));
    });
    document.documentElement.setAttribute('data-check-done', '1');
  }
  if (document.readyState === 'complete') { setTimeout(mark, 300); }
  else { window.addEventListener('load', function () { setTimeout(mark, 300); }); }
})();
</script>
"""

ERROR_IN_OUTPUT = re.compile(
    r"Traceback \(most recent call last\)|\b(?:ModuleNotFoundError|ImportError|[A-Z]\w*Error|Exception)\b\s*:"
)
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr"}


# ----------------------------------------------------------------------------- a tiny DOM
@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: "Node | None" = None
    children: list = field(default_factory=list)  # Node or str

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        out: list[str] = []
        stack: list = [self]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                out.append(item)
            elif item.tag not in ("script", "style"):
                stack.extend(reversed(item.children))
        return "".join(out)

    def iter(self):
        stack: list = [self]
        while stack:
            item = stack.pop()
            if isinstance(item, Node):
                yield item
                stack.extend(reversed([c for c in item.children if isinstance(c, Node)]))

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v or "") for k, v in attrs}, parent=self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, {k: (v or "") for k, v in attrs}, parent=self.cur))

    def handle_endtag(self, tag):
        node = self.cur
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.cur = node.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse_html(text: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


# ----------------------------------------------------------------------------- images
def sniff_image(data: bytes) -> str | None:
    """Return the image kind if ``data`` looks like a valid picture, else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 24 and data[12:16] == b"IHDR":
        w, h = struct.unpack(">II", data[16:24])
        return "png" if w > 0 and h > 0 and png_complete(data) else None
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg" if data.rstrip(b"\x00").endswith(b"\xff\xd9") else None
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    head = data[:4096].lstrip().lower()
    if b"<svg" in head and (head.startswith(b"<?xml") or head.startswith(b"<svg") or head.startswith(b"<!--")
                            or head.startswith(b"<!doctype")):
        return "svg"
    return None


def png_complete(data: bytes) -> bool:
    """True if every chunk is whole, CRCs match, IDAT inflates and the file ends with IEND."""
    pos, idat = 8, []
    while pos + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 12 + length
        if end > len(data):
            return False
        body = data[pos + 8:pos + 8 + length]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[end - 4:end])[0]:
            return False
        if kind == b"IDAT":
            idat.append(body)
        if kind == b"IEND":
            try:
                zlib.decompress(b"".join(idat))
            except zlib.error:
                return False
            return bool(idat)
        pos = end
    return False


def read_png(path: Path) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit, non-interlaced PNG into rows of grey bytes."""
    data = path.read_bytes()
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError(f"{path} is not a PNG")
    pos, idat = 8, []
    width = height = depth = ctype = interlace = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(ctype)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"unsupported PNG layout in {path}")
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    prev = bytearray(stride)
    grey_rows: list[bytes] = []
    i = 0
    for _ in range(height):
        ftype = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        if ftype == 1:
            for x in range(channels, stride):
                line[x] = (line[x] + line[x - channels]) & 0xFF
        elif ftype == 2:
            for x in range(stride):
                line[x] = (line[x] + prev[x]) & 0xFF
        elif ftype == 3:
            for x in range(stride):
                left = line[x - channels] if x >= channels else 0
                line[x] = (line[x] + ((left + prev[x]) >> 1)) & 0xFF
        elif ftype == 4:
            for x in range(stride):
                a = line[x - channels] if x >= channels else 0
                b = prev[x]
                c = prev[x - channels] if x >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if (pa <= pb and pa <= pc) else (b if pb <= pc else c)
                line[x] = (line[x] + pred) & 0xFF
        prev = line
        if channels >= 3:
            grey = bytes((line[x] * 30 + line[x + 1] * 59 + line[x + 2] * 11) // 100
                         for x in range(0, stride, channels))
        else:
            grey = bytes(line[0:stride:channels])
        grey_rows.append(grey)
    return width, height, grey_rows


# ----------------------------------------------------------------------------- browser
def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    sys.exit("check_book: no Chromium found; install it with `apt-get install -y chromium fonts-noto-cjk`")


class Browser:
    def __init__(self, exe: str, env: dict[str, str] | None = None) -> None:
        self.exe = exe
        self.env = env

    def _run(self, extra: list[str], url: str, timeout: float = 90.0, attempts: int = 2) -> subprocess.CompletedProcess:
        """One headless Chromium run. A run that hangs (headless Chromium now and then never exits,
        whatever the page) is killed and started again with a fresh profile; the page is judged
        only on a run that finished."""
        for attempt in range(1, attempts + 1):
            with tempfile.TemporaryDirectory(prefix="check-book-") as profile:
                cmd = [self.exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                       "--no-first-run", "--disable-background-networking", "--disable-component-update",
                       "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars",
                       "--mute-audio", f"--user-data-dir={profile}", *extra, url]
                try:
                    return subprocess.run(cmd, capture_output=True, timeout=timeout, env=self.env)
                except subprocess.TimeoutExpired:
                    if attempt == attempts:
                        raise
                    print(f"note: chromium hung on {url} for {timeout:g} s; starting it again", flush=True)

    def dom(self, url: str) -> str:
        proc = self._run(["--virtual-time-budget=8000", "--dump-dom"], url)
        if proc.returncode != 0 or not proc.stdout:
            raise RuntimeError(f"chromium --dump-dom failed for {url}: {proc.stderr.decode()[-400:]}")
        return proc.stdout.decode("utf-8", "replace")

    def screenshot(self, url: str, out: Path, size: str = "1280,2000") -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists():
            out.unlink()
        proc = self._run(["--virtual-time-budget=8000", "--run-all-compositor-stages-before-draw",
                          f"--window-size={size}", f"--screenshot={out}"], url)
        if not out.exists() or out.stat().st_size == 0:
            raise RuntimeError(f"chromium --screenshot failed for {url}: {proc.stderr.decode()[-400:]}")


def no_cjk_font_env(tmp: Path) -> dict[str, str]:
    """An environment whose fontconfig sees only DejaVu (no CJK fonts): a negative control."""
    conf = tmp / "fonts.conf"
    dirs = [d for d in ("/usr/share/fonts/truetype/dejavu",) if Path(d).is_dir()]
    conf.write_text("<?xml version='1.0'?>\n<!DOCTYPE fontconfig SYSTEM 'fonts.dtd'>\n<fontconfig>\n"
                    + "".join(f"  <dir>{d}</dir>\n" for d in dirs)
                    + f"  <cachedir>{tmp / 'fc-cache'}</cachedir>\n</fontconfig>\n")
    env = dict(os.environ)
    env["FONTCONFIG_FILE"] = str(conf)
    return env


# ----------------------------------------------------------------------------- server
class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the report readable
        pass

    def send_head(self):
        path = self.translate_path(self.path)
        if os.path.isdir(path):
            path = os.path.join(path, "index.html")
        if path.endswith(".html") and os.path.isfile(path):
            body = Path(path).read_bytes()
            marker = b"</body>"
            cut = body.rfind(marker)
            body = (body[:cut] + PROBE_JS.encode() + body[cut:]) if cut >= 0 else body + PROBE_JS.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            import io
            return io.BytesIO(body)
        return super().send_head()


def serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Handler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


# ----------------------------------------------------------------------------- checks
@dataclass
class PageResult:
    page: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def article_of(root: Node) -> Node:
    for node in root.iter():
        if node.tag == "article" and "bd-article" in node.classes:
            return node
    for node in root.iter():
        if node.tag == "main":
            return node
    return root


@functools.lru_cache(maxsize=None)
def ids_in(path: str) -> frozenset[str]:
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    return frozenset(re.findall(r'\bid="([^"]+)"', text))


def resolve_local(html_root: Path, page: str, ref: str) -> tuple[Path | None, str, str]:
    """Map a link or src on ``page`` to (file, fragment, kind); kind is local/external/data."""
    ref = html.unescape(ref.strip())
    parsed = urllib.parse.urlparse(ref)
    if parsed.scheme == "data":
        return None, "", "data"
    if parsed.scheme in ("http", "https"):
        if parsed.hostname not in ("127.0.0.1", "localhost"):
            return None, "", "external"
        rel = parsed.path.lstrip("/")
        return html_root / urllib.parse.unquote(rel), parsed.fragment, "local"
    if parsed.scheme in ("mailto", "javascript", "tel"):
        return None, "", "external"
    base = (html_root / page).parent
    target = (base / urllib.parse.unquote(parsed.path)) if parsed.path else html_root / page
    return target.resolve(), parsed.fragment, "local"


def check_images(res: PageResult, dom: Node, html_root: Path, page: str) -> int:
    probe_ran = any(n.attrs.get("data-check-done") == "1" for n in dom.iter() if n.tag == "html")
    count = 0
    for img in (n for n in dom.iter() if n.tag == "img"):
        count += 1
        src = img.attrs.get("src", "")
        label = src if len(src) < 80 else src[:77] + "..."
        if not src:
            res.problems.append("image without src")
            continue
        target, _, kind = resolve_local(html_root, page, src)
        if kind == "external":
            res.problems.append(f"image loads from the network (book must work offline): {label}")
            continue
        if kind == "data":
            try:
                payload = src.split(",", 1)[1]
                data = base64.b64decode(payload) if ";base64" in src.split(",", 1)[0] else \
                    urllib.parse.unquote(payload).encode()
            except Exception:  # noqa: BLE001
                data = b""
            if sniff_image(data) is None:
                res.problems.append(f"inline image is not a valid picture: {label}")
        else:
            if target is None or not target.is_file():
                res.problems.append(f"image file missing: {label}")
                continue
            if sniff_image(target.read_bytes()) is None:
                res.problems.append(f"image file is not a valid PNG/JPEG/GIF/WebP/SVG: {label}")
                continue
        natural = img.attrs.get("data-check-natural-width")
        if probe_ran and natural is not None and natural.strip() == "0":
            res.problems.append(f"browser could not draw image (naturalWidth 0): {label}")
    if count and not probe_ran:
        res.problems.append("image probe script did not run in the browser (cannot verify naturalWidth)")
    return count


def check_errors(res: PageResult, dom: Node, art: Node) -> None:
    for node in art.iter():
        cls = node.classes
        if "system-message" in cls or "problematic" in cls:
            res.problems.append(f"Sphinx/docutils error shown on page: {node.text().strip()[:120]!r}")
        if "traceback" in cls or ("output" in cls and "error" in cls):
            res.problems.append("error output cell")
        if "cell_output" in cls or "output" in cls:
            hit = ERROR_IN_OUTPUT.search(node.text())
            if hit:
                res.problems.append(f"output cell shows a Python error: {hit.group(0)!r}")
    # Prose may quote an error name, but never a whole traceback.
    if "Traceback (most recent call last)" in art.text():
        res.problems.append("page shows a Python traceback")
    # De-duplicate (an error cell is often nested in several output containers).
    res.problems[:] = list(dict.fromkeys(res.problems))


MATH_SOURCE = re.compile(r'class="math notranslate')
MATH_TYPESET = re.compile(r'<script type="math/tex')


def check_math(res: PageResult, raw: str, dom_text: str) -> None:
    """Every math node Sphinx wrote must have been typeset by MathJax in the browser
    (MathJax 2 replaces each one by its output and a ``math/tex`` script)."""
    n = len(MATH_SOURCE.findall(raw))
    if not n:
        return
    done = len(MATH_TYPESET.findall(dom_text))
    if 'class="MathJax_Error"' in dom_text:
        res.problems.append("MathJax shows an error on the page")
    if done < n:
        res.problems.append(f"{n - done} of {n} equations not typeset by MathJax (raw TeX on the page)")
    else:
        res.notes.append(f"{n} equation(s) typeset")


def check_references(res: PageResult, art: Node, html_root: Path, page: str) -> None:
    for node in art.iter():
        cls = node.classes
        if "xref" in cls:
            link = next((a for a in node.ancestors() if a.tag == "a"), None)
            if link is None or not link.attrs.get("href"):
                res.problems.append(f"unresolved reference: {node.text().strip()[:60]!r}")
        if "bibtex-citation" in cls:
            if not any(isinstance(c, Node) and c.tag == "a" for c in node.iter() if c is not node):
                res.problems.append(f"unresolved citation: {node.text().strip()[:60]!r}")
    for a in (n for n in art.iter() if n.tag == "a" and n.attrs.get("href")):
        href = a.attrs["href"]
        target, frag, kind = resolve_local(html_root, page, href)
        if kind != "local" or target is None:
            continue
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            res.problems.append(f"broken internal link: {href}")
            continue
        if frag and target.suffix == ".html" and frag not in ids_in(str(target)):
            res.problems.append(f"link to a missing anchor: {href}")
    res.problems[:] = list(dict.fromkeys(res.problems))


def zh_share(node: Node) -> tuple[int, int]:
    """(CJK characters under a lang="zh..." element, all CJK characters) inside ``node``."""
    inside = total = 0
    stack: list[tuple[object, bool]] = [(node, False)]
    while stack:
        item, zh = stack.pop()
        if isinstance(item, str):
            n = len(CJK.findall(item))
            total += n
            inside += n if zh else 0
            continue
        if item.tag in ("script", "style"):
            continue
        lang = item.attrs.get("lang")
        now = zh if lang is None else lang.lower().startswith("zh")
        stack.extend((c, now) for c in item.children)
    return inside, total


def letters(text: str) -> int:
    return sum(1 for ch in text if unicodedata.category(ch).startswith("L"))


def check_language(res: PageResult, art: Node, page: str) -> list[str]:
    """Returns the CJK characters of the page (for the glyph test)."""
    inside, total = zh_share(art)
    n_letters = max(1, letters(art.text()))
    chinese_page = page == FRONT_ZH or total / n_letters > 0.3
    if chinese_page:
        if total == 0:
            res.problems.append("Chinese page has no Chinese text")
        elif inside / total < 0.95:
            res.problems.append(f'Chinese text lacks lang="zh..." on its content '
                                f"({inside} of {total} CJK characters are inside a zh element)")
        else:
            res.notes.append('lang="zh" ok')
    return sorted(set(CJK.findall(art.text())))


def check_front_links(results: dict[str, PageResult], doms: dict[str, Node], html_root: Path) -> None:
    for src, dst in ((FRONT_EN, FRONT_ZH), (FRONT_ZH, FRONT_EN)):
        if src not in results:
            continue
        if src not in doms:
            continue
        art = article_of(doms[src])
        found = False
        for a in (n for n in art.iter() if n.tag == "a" and n.attrs.get("href")):
            target, _, kind = resolve_local(html_root, src, a.attrs["href"])
            if kind == "local" and target is not None and target.name == dst and target.exists():
                found = True
                break
        if found:
            results[src].notes.append(f"links to {dst}")
        else:
            results[src].problems.append(f"no working link to {dst}")
    if FRONT_ZH not in results and FRONT_EN in results:
        results[FRONT_EN].problems.append(f"{FRONT_ZH} was not built")


def is_notebook_page(raw: str, art: Node) -> bool:
    if re.search(r'href="[^"]*_sources/[^"]+\.ipynb"', raw):
        return True
    return any("cell_output" in n.classes for n in art.iter())


def check_audio(res: PageResult, dom: Node, html_root: Path, page: str) -> None:
    players = [n for n in dom.iter() if n.tag == "audio"]
    if not players:
        res.problems.append("notebook page has no <audio> player")
        return
    for audio in players:
        srcs = [audio.attrs.get("src", "")] + [n.attrs.get("src", "") for n in audio.iter() if n.tag == "source"]
        srcs = [s for s in srcs if s]
        if not srcs:
            res.problems.append("<audio> player without a source")
            continue
        for src in srcs:
            target, _, kind = resolve_local(html_root, page, src)
            if kind == "data" and len(src) < 200:
                res.problems.append("<audio> player with an (almost) empty inline source")
            elif kind == "local" and (target is None or not target.is_file()):
                res.problems.append(f"<audio> source file missing: {src[:80]}")
    res.notes.append(f"{len(players)} audio player(s)")


# ----------------------------------------------------------------------------- CJK glyphs
GLYPH_PAGE = """<!DOCTYPE html><html lang="zh-Hans"><head><meta charset="utf-8">{links}
<style>
 body {{ margin: 0; background: #fff; }}
 .g {{ display: inline-block; width: 64px; height: 64px; line-height: 64px; font-size: 48px;
       text-align: center; overflow: hidden; color: #000; vertical-align: top; }}
</style></head><body><article class="bd-article"><div lang="zh-Hans">{cells}</div></article></body></html>
"""


def glyph_test(browser: Browser, base_url: str, html_root: Path, raw_zh: str, chars: list[str],
               workdir: Path) -> tuple[bool, str]:
    """Draw Chinese characters from the page with the page's own style sheets and check that
    they come out as distinct glyphs rather than identical boxes or blanks."""
    picks = [c for c in chars if c not in "的一是不了在人有我他这个们中来上"][:16] or chars[:16]
    if len(picks) < 4:
        return False, "too few Chinese characters to test glyph rendering"
    links = "".join(f'<link rel="stylesheet" href="{html.escape(h)}">'
                    for h in re.findall(r'<link rel="stylesheet"[^>]*href="([^"]+)"', raw_zh))
    cells = "".join(f'<span class="g">{c}</span>' for c in picks)
    probe = html_root / "_check_glyphs.html"
    probe.write_text(GLYPH_PAGE.format(links=links, cells=cells), encoding="utf-8")
    shot = workdir / "glyphs.png"
    try:
        browser.screenshot(base_url + probe.name, shot, size="1100,200")
    finally:
        probe.unlink(missing_ok=True)
    width, height, rows = read_png(shot)
    masks = []
    for k in range(len(picks)):
        cell = set()
        for y in range(min(64, height)):
            row = rows[y]
            for x in range(64 * k, min(64 * (k + 1), width)):
                if row[x] < 128:
                    cell.add((x - 64 * k, y))
        masks.append(cell)
    blank = sum(1 for m in masks if len(m) < 15)
    if blank:
        return False, f"{blank} of {len(picks)} Chinese characters rendered blank"
    dists = []
    for i in range(len(masks)):
        for j in range(i + 1, len(masks)):
            union = len(masks[i] | masks[j])
            dists.append(1.0 - len(masks[i] & masks[j]) / union if union else 0.0)
    dists.sort()
    median = dists[len(dists) // 2]
    identical = sum(1 for d in dists if d < 0.05) / len(dists)
    detail = f"median glyph difference {median:.2f}, identical pairs {identical:.0%}"
    if median < 0.25 or identical > 0.2:
        return False, f"Chinese characters drawn as boxes (tofu): {detail}"
    return True, detail


# ----------------------------------------------------------------------------- main
def list_pages(html_root: Path) -> list[str]:
    pages = []
    for path in sorted(html_root.rglob("*.html")):
        rel = path.relative_to(html_root)
        if rel.parts[0] in SKIP_DIRS or rel.as_posix() in SKIP_PAGES or rel.name.startswith("_check"):
            continue
        pages.append(rel.as_posix())
    return pages


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("html", type=Path, help="the built HTML folder, e.g. _build/html")
    ap.add_argument("--screens", type=Path, default=Path("_build/screens"),
                    help="where to save screenshots (default: _build/screens)")
    ap.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1))
    ap.add_argument("--simulate-missing-cjk-fonts", action="store_true",
                    help="run Chromium with a font set that has no Chinese fonts (the check must fail)")
    args = ap.parse_args(argv)

    html_root = args.html.resolve()
    if not (html_root / FRONT_EN).is_file():
        print(f"check_book: {html_root} has no {FRONT_EN}; build the book first", file=sys.stderr)
        return 2
    exe = find_chromium()
    tmp = Path(tempfile.mkdtemp(prefix="check-book-"))
    env = no_cjk_font_env(tmp) if args.simulate_missing_cjk_fonts else None
    browser = Browser(exe, env)
    server, base_url = serve(html_root)

    pages = list_pages(html_root)
    results: dict[str, PageResult] = {p: PageResult(p) for p in pages}
    doms: dict[str, Node] = {}
    raws: dict[str, str] = {}
    zh_chars: dict[str, list[str]] = {}
    notebooks: list[str] = []

    def visit(page: str) -> None:
        res = results[page]
        raw = (html_root / page).read_text(encoding="utf-8", errors="replace")
        raws[page] = raw
        try:
            dom_text = browser.dom(base_url + page)
            dom = parse_html(dom_text)
        except Exception as exc:  # noqa: BLE001
            res.problems.append(str(exc))
            return
        doms[page] = dom
        check_math(res, raw, dom_text)
        art = article_of(dom)
        n_img = check_images(res, dom, html_root, page)
        res.notes.append(f"{n_img} image(s)")
        check_errors(res, dom, art)
        check_references(res, art, html_root, page)
        chars = check_language(res, art, page)
        if page == FRONT_ZH or any("Chinese page" in p or 'lang="zh' in p for p in res.problems + res.notes):
            zh_chars[page] = chars
        if is_notebook_page(raw, art):
            notebooks.append(page)
            check_audio(res, dom, html_root, page)

    try:
        with futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            list(pool.map(visit, pages))
        check_front_links(results, doms, html_root)

        if not (html_root / FRONT_ZH).is_file():
            results[FRONT_EN].problems.append(f"{FRONT_ZH} missing from the build")
        fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True,
                               env=env).stdout.strip() if shutil.which("fc-list") else ""
        for page, chars in sorted(zh_chars.items()):
            if not fonts:
                results[page].problems.append("no font with Chinese glyphs installed (fc-list :lang=zh is "
                                              "empty); install fonts-noto-cjk")
            ok, detail = glyph_test(browser, base_url, html_root, raws[page], chars, tmp)
            (results[page].notes if ok else results[page].problems).append(f"CJK glyphs: {detail}")

        args.screens.mkdir(parents=True, exist_ok=True)
        to_shoot = [p for p in pages if p in SCREEN_PAGES] + sorted(set(notebooks))

        def shoot(page: str) -> None:
            out = args.screens / (page.replace("/", "__").removesuffix(".html") + ".png")
            try:
                browser.screenshot(base_url + page, out)
                results[page].notes.append(f"screenshot {out}")
            except Exception as exc:  # noqa: BLE001
                results[page].problems.append(str(exc))

        with futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            list(pool.map(shoot, to_shoot))
    finally:
        server.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)

    passed = failed = 0
    for page in pages:
        res = results[page]
        if res.ok:
            passed += 1
            print(f"PASS {page}: " + "; ".join(res.notes))
        else:
            failed += 1
            print(f"FAIL {page}: " + "; ".join(res.problems))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
