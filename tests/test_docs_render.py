"""The built site typesets every formula: each page is opened in headless Chromium (driven by Playwright), and
its DOM (after MathJax finished, waited for with ``MathJax.Hub.Queue``) must hold a MathJax rendering for every
formula, no MathJax error and no raw TeX in the visible text, no displayed equation wider than the text column of
a 1280-pixel-wide window, and, at 1280 and at 390 pixels, no element wider than the window outside a scroll
container (a long displayed equation scrolls inside its own box).

With ``VAEKIT_SCREENSHOTS=DIR``, screenshots of every page are saved to DIR for a person to look at:
``<page>.png`` is the whole page at 1280 pixels wide and ``<page>-<n>.png`` its non-blank 1,600-pixel slices
(``phone-<page>.png`` the same at 390). Needs Debian's ``chromium`` (/usr/bin/chromium) and the Python package
playwright; skipped with a message where either is missing.
"""

from __future__ import annotations

import functools
import json
import http.server
import os
import re
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.docs_support import ROOT, build_site, pages, rel

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs headless Chromium at /usr/bin/chromium (Debian: apt-get install -y chromium)",
)

WIDTH = 1280
PHONE = 390  # the width of a phone in portrait (CSS pixels)
SLICE = 1_600
# Injected into every page the test server sends. Once MathJax has typeset the page (its startup is over and
# everything queued before this check has run), mark each displayed equation that is wider than its box, list the
# elements that stick out of the window, and mark the body as checked (so a page whose scripts never ran, or whose
# MathJax never finished, is caught).
PROBE = b"""<script>
function vaekitProbe() {
    document.querySelectorAll("div.arithmatex").forEach(function (el) {
      if (el.scrollWidth > el.clientWidth + 1) {
        var tex = el.querySelector('script[type^="math/tex"]');
        el.setAttribute("data-overflow", el.scrollWidth + ">" + el.clientWidth + " " + (tex ? tex.textContent : "").trim().slice(0, 160));
      }
    });
    // Elements that stick out of the window (left or right) without a scroll container around them inside the
    // content (a container of the theme's layout that clips would hide the problem, so those do not count).
    var width = document.documentElement.clientWidth, wide = [];
    function scrolls(el) {
      for (var a = el.parentElement; a && !a.classList.contains("md-content"); a = a.parentElement) {
        var ox = getComputedStyle(a).overflowX;
        if (ox === "auto" || ox === "scroll" || ox === "hidden") { return true; }
      }
      return false;
    }
    document.querySelectorAll(".md-content *").forEach(function (el) {
      var r = el.getBoundingClientRect();
      if (r.width === 0 || (r.right <= width + 1 && r.left >= -1)) { return; }
      if (scrolls(el)) { return; }
      var name = el.tagName.toLowerCase() + (el.className && el.className.baseVal === undefined ? "." + el.className.split(" ").join(".") : "");
      wide.push(name + " [" + Math.round(r.left) + ".." + Math.round(r.right) + " of " + width + "] " + (el.textContent || "").trim().slice(0, 60));
    });
    if (document.documentElement.scrollWidth > width + 1) { wide.push("the page itself scrolls sideways: " + document.documentElement.scrollWidth + " > " + width); }
    document.body.setAttribute("data-wide", JSON.stringify(wide.slice(0, 20)));
    var broken = [];
    document.querySelectorAll(".md-content img").forEach(function (img) {
      if (!img.complete || img.naturalWidth === 0) { broken.push(img.getAttribute("src")); }
    });
    document.body.setAttribute("data-images", JSON.stringify({n: document.querySelectorAll(".md-content img").length, broken: broken}));
    document.body.setAttribute("data-probe", "done");
}
window.addEventListener("load", function () {
  if (window.MathJax && window.MathJax.Hub && window.MathJax.Hub.Register) {
    MathJax.Hub.Register.StartupHook("End", function () {
      MathJax.Hub.Queue(function () { setTimeout(vaekitProbe, 50); });
    });
  } else {
    document.body.setAttribute("data-mathjax", "missing");
    vaekitProbe();
  }
});
</script>"""
RAW_TEX = re.compile(r"\\[A-Za-z]+|\$\$|\\\(|\\\)|\\\[|\\\]")
SKIPPED_TAGS = {"script", "style", "pre", "code", "annotation", "math", "svg", "textarea"}
# MathJax HTML-CSS output: the frame of each typeset formula, and the marks of a formula it could not typeset
# (merror: a TeX error; noError: the noErrors extension's raw source; MathJax_Error: "Math Processing Error").
RENDERED_CLASSES = {"MathJax", "MathJax_Display"}
ERROR_CLASSES = {"merror", "noError", "MathJax_Error"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class PageDom(HTMLParser):
    """What the checks need from a DOM dump: formulas, their renderings and errors, and the visible prose."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, set[str]]] = []
        self.skip_depth: int | None = None
        self.formulas: list[dict] = []  # one per .arithmatex element: {"rendered": bool}
        self.open_formulas: list[tuple[int, dict]] = []
        self.errors: list[str] = []
        self.overflowing: list[str] = []
        self.text: list[str] = []
        self.probe_done = False
        self.wide: list[str] = []
        self.images: dict = {}
        self.mathjax_missing = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = set((attrs.get("class") or "").split())
        if tag == "body" and attrs.get("data-probe") == "done":
            self.probe_done = True
            self.wide = json.loads(attrs.get("data-wide") or "[]")
            self.images = json.loads(attrs.get("data-images") or "{}")
        if tag == "body":
            self.errors += json.loads(attrs.get("data-math-errors") or "[]")
            self.mathjax_missing = attrs.get("data-mathjax") == "missing"
        if "arithmatex" in classes:
            formula = {"rendered": False}
            self.formulas.append(formula)
            self.open_formulas.append((len(self.stack), formula))
        if classes & RENDERED_CLASSES:
            for _, formula in self.open_formulas:
                formula["rendered"] = True
        if classes & ERROR_CLASSES:
            self.errors.append(f"<{tag} class={' '.join(sorted(classes))}> in formula {len(self.formulas)}")
        if "data-overflow" in attrs:
            self.overflowing.append(attrs["data-overflow"])
        if tag in VOID:
            return
        if self.skip_depth is None and (tag in SKIPPED_TAGS or "MJX_Assistive_MathML" in classes):
            self.skip_depth = len(self.stack)
        self.stack.append((tag, classes))

    def handle_endtag(self, tag):
        if tag in VOID or not self.stack:
            return
        # Pop to the matching element (a serialised DOM closes every element, so this is exact).
        while self.stack:
            open_tag, _ = self.stack.pop()
            depth = len(self.stack)
            if self.skip_depth is not None and depth <= self.skip_depth:
                self.skip_depth = None
            self.open_formulas = [(d, f) for d, f in self.open_formulas if d < depth]
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self.skip_depth is None:
            self.text.append(data)


def parse_dom(html: str) -> PageDom:
    dom = PageDom()
    dom.feed(html)
    dom.close()
    return dom


def url_of(page: str) -> str:
    """docs-relative Markdown path -> URL path of the built page (directory URLs)."""
    stem = page[: -len(".md")]
    if stem == "index":
        return "/"
    if stem.endswith("/index"):
        stem = stem[: -len("/index")]
    return f"/{stem}/"


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output quiet
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if path.suffix != ".html" or not path.is_file():
            return super().send_head()
        body = path.read_bytes().replace(b"</body>", PROBE + b"</body>", 1)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        import io

        return io.BytesIO(body)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    site = tmp_path_factory.mktemp("site")
    result = build_site(site)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", site
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def screenshot_dir():
    """Where screenshots go: $VAEKIT_SCREENSHOTS if set (none are taken otherwise: cutting tall pages into
    slices takes as long as the checks themselves)."""
    folder = os.environ.get("VAEKIT_SCREENSHOTS")
    if not folder:
        return None
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


PAGES = [rel(p) for p in pages()]


@pytest.mark.parametrize("page", PAGES)
def test_every_formula_is_typeset(server, screenshot_dir, desktop, page):
    base, site = server
    url = base + url_of(page)
    built = (site / url_of(page).strip("/") / "index.html").read_text(encoding="utf-8")
    n_source = len(re.findall(r'class="arithmatex"', built))

    dom = _open(desktop, url)
    assert dom.probe_done, f"{page}: the page's scripts or MathJax did not run to the end (no data-probe mark in the DOM)"
    assert not dom.mathjax_missing, f"{page}: MathJax was not loaded (is assets/vendor/mathjax/MathJax.js in the site?)"
    assert len(dom.formulas) == n_source, f"{page}: {n_source} formulas in the HTML, {len(dom.formulas)} in the DOM"
    raw = [i for i, f in enumerate(dom.formulas) if not f["rendered"]]
    assert not raw, f"{page}: {len(raw)} of {len(dom.formulas)} formulas were not typeset by MathJax"
    assert not dom.errors, f"{page}: MathJax errors: {dom.errors[:5]}"
    visible = " ".join(dom.text)
    leftovers = sorted(set(RAW_TEX.findall(visible)))
    assert not leftovers, f"{page}: raw TeX in the visible text: {leftovers[:10]}"
    assert not dom.overflowing, (
        f"{page}: {len(dom.overflowing)} displayed equation(s) wider than the text column at {WIDTH} px "
        "(scrollWidth>clientWidth px); split them over several lines:\n" + "\n".join(dom.overflowing)
    )
    assert not dom.wide, f"{page}: elements wider than the {WIDTH} px window outside a scroll container: {dom.wide}"
    assert not dom.images.get("broken"), f"{page}: images that did not load: {dom.images['broken']}"

    if screenshot_dir is not None:
        shot = screenshot_dir / (page[: -len(".md")].replace("/", "-") + ".png")
        desktop.screenshot(path=str(shot), full_page=True)
        _slice(shot)


def _slice(shot: Path) -> None:
    """Cut a tall screenshot into SLICE-pixel slices, leaving out the slices that are blank (a short page leaves
    empty space above the footer of the tall window)."""
    import matplotlib.image as mpimg
    import numpy as np

    image = mpimg.imread(shot)
    for old in shot.parent.glob(f"{shot.stem}-*.png"):
        old.unlink()
    n = 0
    for top in range(0, image.shape[0], SLICE):
        part = image[top : top + SLICE]
        if (part[..., :3] < 0.98).any():
            n += 1
            mpimg.imsave(shot.parent / f"{shot.stem}-{n}.png", part)


def test_the_theory_pages_have_maths(server):
    """Guards the test above against passing vacuously: the theory pages must contain formulas at all."""
    _, site = server
    for page in [p for p in PAGES if p.startswith("theory/")]:
        built = (site / url_of(page).strip("/") / "index.html").read_text(encoding="utf-8")
        assert built.count('class="arithmatex"') >= 10, f"{page} has almost no formulas: is arithmatex enabled?"


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, driven by Playwright: one browser for every page of the module. Skipped where the
    Python package playwright is missing (``pip install -e .[test]``)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright: pip install -e '.[test]'")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def desktop(browser):
    """A page with a 1280 x 1000 viewport."""
    return browser.new_page(viewport={"width": WIDTH, "height": 1000})


@pytest.fixture(scope="module")
def phone(browser):
    """A page with a 390 x 844 viewport (Chromium's own --window-size cannot go below 500 px)."""
    return browser.new_page(viewport={"width": PHONE, "height": 844})


def _open(page_obj, url: str) -> PageDom:
    page_obj.goto(url, wait_until="load")
    page_obj.wait_for_selector('body[data-probe="done"]', state="attached", timeout=30_000)
    return parse_dom(page_obj.content())


@pytest.mark.parametrize("page", PAGES)
def test_nothing_is_cut_off_on_a_phone(server, screenshot_dir, phone, page):
    """At 390 px no equation, table or code block sticks out of the window (each scrolls in its own box), no
    formula fails to typeset, and every image loads. With $VAEKIT_SCREENSHOTS a screenshot of the page at this
    width is saved as ``phone-<page>.png`` (with slices) for a person to look at."""
    base, _ = server
    dom = _open(phone, base + url_of(page))
    assert phone.evaluate("document.documentElement.clientWidth") == PHONE
    assert not dom.mathjax_missing, f"{page}: MathJax was not loaded at {PHONE} px"
    assert not dom.errors, f"{page}: MathJax errors at {PHONE} px: {dom.errors[:5]}"
    assert all(f["rendered"] for f in dom.formulas), f"{page}: formulas not typeset at {PHONE} px"
    assert not dom.wide, f"{page}: cut off at {PHONE} px (wider than the window, no scroll container):\n" + "\n".join(dom.wide)
    assert not dom.images.get("broken"), f"{page}: images that did not load: {dom.images['broken']}"
    if page.startswith("theory/"):
        assert dom.images.get("n", 0) >= 1, f"{page}: a theory page without a figure"

    if screenshot_dir is not None:
        shot = screenshot_dir / ("phone-" + page[: -len(".md")].replace("/", "-") + ".png")
        phone.screenshot(path=str(shot), full_page=True)
        _slice(shot)


def test_the_cut_off_check_can_fail(server, phone):
    """Guards the check above: a page with a 2,000-pixel-wide block outside any scroll container is caught,
    and the same block inside a scrolling box is not."""
    _, site = server
    bad = site / "probe-check" / "index.html"
    bad.parent.mkdir(exist_ok=True)
    bad.write_text('<html><head><meta name="viewport" content="width=device-width,initial-scale=1"></head><body>'
                   '<div class="md-content"><div style="width:2000px">too wide</div>'
                   '<div style="overflow-x:auto"><div style="width:2000px">scrolls</div></div></div></body></html>')
    base, _ = server
    dom = _open(phone, base + "/probe-check/")
    cut = [w for w in dom.wide if w.startswith("div")]
    assert len(cut) == 1 and "too wide" in cut[0], dom.wide


def test_a_formula_mathjax_cannot_typeset_is_caught(server, phone):
    """Guards the typesetting checks: with the site's own MathJax, a formula with a TeX error is reported as an
    error, and a well-formed one beside it is typeset."""
    _, site = server
    bad = site / "probe-tex" / "index.html"
    bad.parent.mkdir(exist_ok=True)
    bad.write_text('<html><head><meta name="viewport" content="width=device-width,initial-scale=1"></head><body>'
                   '<div class="md-content"><p><span class="arithmatex">\\(x^2 + 1\\)</span> and '
                   '<span class="arithmatex">\\(\\frac{1}{\\)</span></p></div>'
                   '<script src="../assets/javascripts/mathjax-config.js"></script>'
                   '<script src="../assets/vendor/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"></script>'
                   '</body></html>')
    base, _ = server
    dom = _open(phone, base + "/probe-tex/")
    assert not dom.mathjax_missing
    assert len(dom.formulas) == 2 and dom.formulas[0]["rendered"]
    assert dom.errors, "a TeX error was not reported"
