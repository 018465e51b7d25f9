"""The page "Explore the latent space" (docs/explore.md) in a real browser: headless Chromium driven by
Playwright, on the built site served from 127.0.0.1.

It checks that the page loads nothing from any other host; that the images the page decodes match the PyTorch
decoder (the reference outputs that scripts/export_decoder.py computed from the checkpoint, and the track's own
decoder run here on the exported weights); that pointer, click, keyboard, touch, the sliders and the eta
toggle change what they should; that nothing overflows a 1280- or 390-pixel-wide window (screenshots go to
build/explore-screenshots/, or $VAEKIT_SCREENSHOTS, for a person to look at); and that without JavaScript the
page shows a still figure and says why. It prints the time one decode takes in the browser.

Skipped, with the reason, where Chromium (/usr/bin/chromium) or the Python package playwright is missing.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import threading
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

from tests.docs_support import DOCS, ROOT, build_site

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs headless Chromium at /usr/bin/chromium "
                                                     "(Debian: apt-get install -y chromium)"),
    pytest.mark.skipif(sync_playwright is None, reason="needs the Python package playwright "
                                                       "(pip install -e '.[docs]'); it drives /usr/bin/chromium"),
]

EXPLORE = DOCS / "assets" / "explore"
MODELS = sorted(p.name for p in EXPLORE.iterdir() if (p / "decoder.json").is_file()) if EXPLORE.is_dir() else []
DZ2 = "explorer-dz2"
SHOTS = Path(os.environ.get("VAEKIT_SCREENSHOTS", ROOT / "build" / "explore-screenshots"))
# The browser computes in float64 from the stored weights, PyTorch in float32: they agree to about 1e-5.
SAME_WEIGHTS_TOLERANCE = 1e-4


class Server:
    """The built site on http://127.0.0.1:<port>/, in a thread."""

    def __init__(self, site_dir: Path):
        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

        handler = functools.partial(Quiet, directory=str(site_dir))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.host = f"127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    site_dir = tmp_path_factory.mktemp("site")
    result = build_site(site_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    srv = Server(site_dir)
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield b
        b.close()


class Visit:
    """One page opened in a fresh browser context; every request to a host other than the server is
    aborted and recorded, and so are the page's errors."""

    def __init__(self, browser, server, width=1280, height=900, touch=False, javascript=True):
        self.context = browser.new_context(viewport={"width": width, "height": height}, has_touch=touch,
                                           is_mobile=touch, java_script_enabled=javascript)
        self.foreign: list[str] = []
        self.local: list[str] = []
        self.errors: list[str] = []

        def route(r):
            url = urlparse(r.request.url)
            if url.scheme in ("http", "https", "ws", "wss") and url.netloc != server.host:
                self.foreign.append(r.request.url)
                return r.abort()
            self.local.append(r.request.url)
            return r.continue_()

        self.context.route("**/*", route)
        self.page = self.context.new_page()
        self.missing: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("response", lambda r: self.missing.append(r.url) if r.status >= 400 else None)
        self.page.goto(f"http://{server.host}/explore/")

    def real_errors(self) -> list[str]:
        """The page's errors, less the 404s of MathJax's own TeX fonts: MathJax probes them for \\mathcal and
        \\mathbb before it falls back to the STIX-Web fonts that the site serves (the PyPI package of MathJax
        ships STIX-Web only); the glyphs are drawn either way."""
        probes = [u for u in self.missing if "/assets/vendor/mathjax/fonts/HTML-CSS/TeX/otf/" in u]
        others = [u for u in self.missing if u not in probes]
        if others:
            return [*self.errors, *others]
        return [e for e in self.errors if not e.startswith("Failed to load resource")]

    def ready(self, id_=DZ2):
        self.page.wait_for_selector(f"#{id_}[data-ready], #{id_}[data-error]", state="attached", timeout=30_000)
        error = self.page.get_attribute(f"#{id_}", "data-error")
        assert error is None, f"the explorer failed to load: {error}"
        return self

    def js(self, expression, arg=None):
        return self.page.evaluate(expression, arg)

    def state(self, id_=DZ2):
        return self.js("id => { const e = window.latentExplorers[id]; return {a: e.a, picked: e.picked, "
                       "showEta: e.showEta, extent: e.extent, label: e.stripLabel.textContent}; }", id_)

    def pixels(self, selector):
        """The grey level (0..255) of every pixel of a canvas, row by row."""
        return np.array(self.js("s => { const c = document.querySelector(s); "
                                "return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)"
                                ".filter((v, i) => i % 4 === 0); }", selector), dtype=float)

    def plane_pixel(self, a, id_=DZ2):
        """Page coordinates of the point a of the plane."""
        return self.js("([id, a]) => { const e = window.latentExplorers[id]; const p = e.toPixel(a); "
                       "const b = e.plane.getBoundingClientRect(); return [b.left + p[0], b.top + p[1]]; }",
                       [id_, list(map(float, a))])

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, server):
    opened = []

    def open_(**kwargs):
        v = Visit(browser, server, **kwargs)
        opened.append(v)
        return v

    yield open_
    for v in opened:
        v.close()


def meta(name="dz2"):
    return json.loads((EXPLORE / name / "decoder.json").read_text(encoding="utf-8"))


def test_the_page_loads_its_decoders_from_the_site_and_nothing_else(visit):
    assert "dz2" in MODELS, "docs/assets/explore/dz2/decoder.json is missing: run scripts/export_decoder.py"
    v = visit()
    for name in MODELS:
        v.ready(f"explorer-{name}")
    assert not v.foreign, f"requests left the machine: {v.foreign}"
    assert not v.real_errors(), v.real_errors()
    assert any(url.endswith("/assets/explore/dz2/decoder.bin") for url in v.local)
    text = v.page.inner_text(f"#{DZ2}")
    run = meta()["run"]
    assert f"epoch {run['epoch']} of {run['epochs']}" in text and run["command"] in text  # the run is named


@pytest.mark.parametrize("name", MODELS)
def test_the_browser_decodes_like_the_pytorch_decoder(visit, name):
    import torch

    from solutions.pytorch.continuous_bernoulli import cb_mean
    from solutions.pytorch.networks import Decoder
    from vaekit.explorer import TOLERANCE, layers_from, unpack
    from vaekit.numpy_to_torch import load_numpy_params

    m = meta(name)
    ref = np.load(EXPLORE / name / "reference.npz")
    v = visit().ready(f"explorer-{name}")
    got = v.js("([id, zs]) => zs.map(z => window.latentExplorers[id].decoder.decode(z))",
               [f"explorer-{name}", ref["z"].astype(float).tolist()])
    mean = np.array([g["mean"] for g in got])
    eta = np.array([g["eta"] for g in got])
    assert mean.shape == ref["mean"].shape == (20, 784)
    # 1. Against the decoder of the checkpoint itself (full precision, computed when the weights were exported).
    err = {"mean": np.abs(mean - ref["mean"]).max(), "eta": np.abs(eta - ref["eta"]).max()}
    print(f"\n{name}: the browser vs the checkpoint's PyTorch decoder at 20 points: max |error| of the mean "
          f"{err['mean']:.2g}, of eta {err['eta']:.2g} (tolerance {TOLERANCE}; weights in "
          f"{m['precision']['weights']}, {m['bytes']:,} bytes)")
    assert err["mean"] <= TOLERANCE and err["eta"] <= TOLERANCE, err
    assert np.ptp(ref["mean"]) > 0.5, "the reference images are blank"
    # 2. Against the track's own decoder and cb_mean run here on the exported weights.
    layers = layers_from(unpack((EXPLORE / name / "decoder.bin").read_bytes(), m["arrays"]))
    decoder = Decoder(m["model"]["z_dim"], tuple(W.shape[1] for W, _ in layers[:-1]), m["model"]["x_dim"])
    load_numpy_params(decoder, {"hidden": layers[:-1], "to_logits": layers[-1]}, part="decoder")
    with torch.no_grad():
        logits = decoder(torch.from_numpy(ref["z"]))
        torch_mean = cb_mean(logits).numpy()
        torch_eta = torch.sigmoid(logits).numpy()
    assert np.abs(mean - torch_mean).max() <= SAME_WEIGHTS_TOLERANCE
    assert np.abs(eta - torch_eta).max() <= SAME_WEIGHTS_TOLERANCE
    # 3. The plane's point -> code map of the page gives the codes of the reference.
    zs = v.js("([id, pts]) => pts.map(a => window.latentExplorers[id].toZ(a))",
              [f"explorer-{name}", ref["plane"].astype(float).tolist()])
    np.testing.assert_allclose(zs, ref["z"], atol=1e-4)


def test_the_continuous_bernoulli_mean_and_float16_in_javascript(visit):
    import torch

    from solutions.pytorch.continuous_bernoulli import cb_mean

    v = visit()
    v.page.wait_for_function("window.LatentExplorer !== undefined")
    logits = [-1e4, -80.0, -30.0, -1.0, -0.0101, -0.01, -0.0099, -1e-7, 0.0, 1e-7, 0.0099, 0.01, 0.0101, 1.0,
              30.0, 80.0, 1e4]
    got = np.array(v.js("ls => ls.map(window.LatentExplorer.cbMean)", logits))
    expected = cb_mean(torch.tensor(logits, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert got[8] == 0.5 and np.all(np.diff(got) > 0)  # increasing, 1/2 at l = 0, no NaN at the window's edge
    bits = np.arange(0, 1 << 16, dtype=np.uint16)
    decoded = np.array(v.js("n => Array.from({length: n}, (_, h) => { const x = window.LatentExplorer"
                            ".halfToNumber(h); return Number.isNaN(x) ? 'nan' : (x === Infinity ? 'inf' : "
                            "(x === -Infinity ? '-inf' : x)); })", 1 << 16), dtype=object)
    expected16 = bits.view(np.float16).astype(np.float64)
    as_float = np.array([float(x) for x in decoded])
    same = (as_float == expected16) | (np.isnan(as_float) & np.isnan(expected16))
    assert same.all(), f"float16 decoded wrongly for bits {bits[~same][:5]}"


def test_one_decode_takes_well_under_a_frame(visit):
    v = visit().ready()
    timing = v.js(f"window.latentExplorers['{DZ2}'].benchmark(30, 10)")
    print(f"\ndecode of one point in Chromium: {timing['decode_ms']:.3f} ms (median of 30 rounds of 10); "
          f"with the image and the plane redrawn: {timing['update_ms']:.3f} ms; target < 16 ms")
    assert timing["decode_ms"] < 100 and timing["update_ms"] < 100  # generous: the machine is shared


def test_pointer_click_keyboard_sliders_and_toggle(visit):
    v = visit().ready()
    page, m = v.page, meta()
    codes = v.js(f"Array.from(window.latentExplorers['{DZ2}'].codes)")
    codes = np.array(codes).reshape(-1, 2)
    labels = np.array(v.js(f"Array.from(window.latentExplorers['{DZ2}'].labels)"))
    # Hover: the point under the pointer is decoded and shown.
    before = v.pixels(f"#{DZ2} .lx-image")
    target = codes[int(np.argmax(labels == 0))]
    page.mouse.move(*v.plane_pixel(target))
    s = v.state()
    extent = s["extent"]
    pixel_size = (extent[1] - extent[0]) / page.locator(f"#{DZ2} .lx-plane").bounding_box()["width"]
    assert np.allclose(s["a"], target, atol=2 * pixel_size)
    shown = v.pixels(f"#{DZ2} .lx-image")
    assert np.abs(shown - before).max() > 50, "moving the pointer did not change the image"
    mean = np.array(v.js(f"(() => {{ const e = window.latentExplorers['{DZ2}']; "
                         f"return e.decoder.decode(e.toZ(e.a)).mean; }})()"))
    assert np.abs(shown - np.round(255 * mean)).max() <= 1, "the image is not the decoded mean"
    # Click two test digits of different classes: both are picked and the strip shows the line between them.
    first, second = int(np.argmax(labels == 1)), int(np.argmax(labels == 7))
    page.mouse.click(*v.plane_pixel(codes[first]))
    s = v.state()
    assert len(s["picked"]) == 1 and np.hypot(*(codes[s["picked"][0]] - codes[first])) <= 15 * pixel_size
    assert not page.locator(f"#{DZ2} .lx-strip").is_visible()
    page.mouse.click(*v.plane_pixel(codes[second]))
    s = v.state()
    assert len(s["picked"]) == 2 and page.locator(f"#{DZ2} .lx-strip").is_visible()
    a_label, b_label = labels[s["picked"][0]], labels[s["picked"][1]]
    assert f"From A, a {a_label}" in s["label"] and f"to B, a {b_label}" in s["label"]
    strip = v.pixels(f"#{DZ2} .lx-strip").reshape(28, 280)
    ends = v.js(f"(() => {{ const e = window.latentExplorers['{DZ2}']; return e.picked.map(i => "
                f"e.decoder.decode(e.toZ(e.codeAt(i))).mean); }})()")
    assert np.abs(strip[:, :28] - np.round(255 * np.reshape(ends[0], (28, 28)))).max() <= 1
    assert np.abs(strip[:, -28:] - np.round(255 * np.reshape(ends[1], (28, 28)))).max() <= 1
    assert np.abs(strip[:, :28] - strip[:, -28:]).max() > 100, "the strip's ends are the same image"
    # A click far from every code picks nothing and says so.
    empty = np.array([extent[0], extent[3]]) + np.array([1, -1]) * 2 * pixel_size
    assert np.min(np.hypot(*(codes - empty).T)) > 20 * pixel_size, "expected no code in the top-left corner"
    page.mouse.click(*v.plane_pixel(empty))
    assert len(v.state()["picked"]) == 2 and "No test digit there" in v.state()["label"]
    # Keyboard: arrows move the point (Shift: ten times further), Enter picks, Escape clears.
    page.mouse.move(*v.plane_pixel([(extent[0] + extent[1]) / 2, (extent[2] + extent[3]) / 2]))
    page.focus(f"#{DZ2} .lx-plane")
    a0 = v.state()["a"]
    page.keyboard.press("ArrowLeft")
    step = (extent[1] - extent[0]) / 100
    assert np.allclose(v.state()["a"], [a0[0] - step, a0[1]], atol=1e-9)
    page.keyboard.press("Shift+ArrowDown")
    assert np.allclose(v.state()["a"], [a0[0] - step, a0[1] - 10 * step], atol=1e-9)
    page.keyboard.press("Enter")
    s = v.state()
    assert len(s["picked"]) == 1  # a third pick starts a new pair
    nearest = int(np.argmin(np.hypot(*(codes - np.array([a0[0] - step, a0[1] - 10 * step])).T)))
    assert np.allclose(codes[s["picked"][0]], codes[nearest])
    page.keyboard.press("Escape")
    assert v.state()["picked"] == []
    # A slider moves the point along its axis.
    a0 = v.state()["a"]
    page.focus(f"#{DZ2} .lx-sliders input >> nth=1")
    page.keyboard.press("ArrowRight")
    assert v.state()["a"][0] == pytest.approx(a0[0], abs=1e-6) and v.state()["a"][1] > a0[1]
    # The toggle shows eta = sigmoid(l) instead of the mean.
    page.check(f"#{DZ2} .lx-toggle input")
    s = v.state()
    assert s["showEta"]
    eta = np.array(v.js(f"(() => {{ const e = window.latentExplorers['{DZ2}']; "
                        f"return e.decoder.decode(e.toZ(e.a)).eta; }})()"))
    assert np.abs(v.pixels(f"#{DZ2} .lx-image") - np.round(255 * eta)).max() <= 1
    assert "sigmoid" in page.inner_text(f"#{DZ2} .lx-readout")
    # Zoom: the view shrinks to the prior's circles and back.
    page.click(f"#{DZ2} .lx-zoom")
    c = m["plane"]["prior_centre"]
    assert v.state()["extent"] == [c[0] - 4, c[0] + 4, c[1] - 4, c[1] + 4]
    page.click(f"#{DZ2} .lx-zoom")
    assert v.state()["extent"] == m["plane"]["extent"]
    assert not v.real_errors(), v.real_errors()


def test_a_finger_on_the_plane_decodes_and_picks(visit):
    v = visit(width=390, height=844, touch=True).ready()
    codes = np.array(v.js(f"Array.from(window.latentExplorers['{DZ2}'].codes)")).reshape(-1, 2)
    before = v.pixels(f"#{DZ2} .lx-image")
    v.page.locator(f"#{DZ2} .lx-plane").scroll_into_view_if_needed()
    target = codes[123]
    v.page.touchscreen.tap(*v.plane_pixel(target))
    s = v.state()
    extent = s["extent"]
    pixel_size = (extent[1] - extent[0]) / v.page.locator(f"#{DZ2} .lx-plane").bounding_box()["width"]
    assert np.allclose(s["a"], codes[s["picked"][0]]) and len(s["picked"]) == 1
    assert np.hypot(*(codes[s["picked"][0]] - target)) <= 15 * pixel_size
    assert np.abs(v.pixels(f"#{DZ2} .lx-image") - before).max() > 50
    assert not v.real_errors(), v.real_errors()


@pytest.mark.parametrize("width", [1280, 390])
def test_nothing_overflows_the_window(visit, width):
    v = visit(width=width, height=900).ready()
    for name in MODELS:
        v.ready(f"explorer-{name}")
    page = v.page
    # with two digits picked, so that the interpolation strip is shown too
    v.js(f"(() => {{ const e = window.latentExplorers['{DZ2}']; const l = Array.from(e.labels); "
         f"e.pick(l.indexOf(1)); e.pick(l.indexOf(7)); }})()")
    assert page.locator(f"#{DZ2} .lx-strip").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
    wide = page.evaluate("""() => Array.from(document.querySelectorAll('.latent-explorer, .latent-explorer *'))
        .filter(el => { const b = el.getBoundingClientRect(); return b.width > 0 && (b.right > window.innerWidth + 0.5
        || b.left < -0.5); }).map(el => el.tagName + '.' + el.className)""")
    assert not wide, f"parts of the explorer stick out of a {width}-pixel window: {wide}"
    assert page.locator(f"#{DZ2} .lx-plane").bounding_box()["width"] >= min(300, width - 60)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"explore-{width}.png"), full_page=True)
    page.click(f"#{DZ2} .lx-zoom")
    page.locator(f"#{DZ2}").screenshot(path=str(SHOTS / f"explore-{width}-zoomed.png"))


def test_without_javascript_the_page_shows_a_still_figure_and_says_why(visit):
    v = visit(javascript=False)
    page = v.page
    assert "needs JavaScript" in page.inner_text("article")
    still = page.locator("noscript img, img[src*='still.png']").first
    assert still.is_visible()
    page.wait_for_function("document.querySelector(\"img[src*='still.png']\").complete")
    assert page.evaluate("document.querySelector(\"img[src*='still.png']\").naturalWidth") > 500
    assert not v.foreign
