"""scripts/make_theory_figures.py draws exactly the figures committed in docs/assets/theory/, and every theory
page shows at least one of them, with a caption."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.docs_support import DOCS, ROOT

FIGURE_DIR = DOCS / "assets" / "theory"
FIGURE_REF = re.compile(r"!\[[^\]]+\]\(\.\./assets/theory/(?P<name>[\w.-]+\.png)\)")


def test_the_script_reproduces_the_committed_figure_list(tmp_path):
    done = subprocess.run([sys.executable, "scripts/make_theory_figures.py", "--out", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    made = sorted(p.name for p in tmp_path.glob("*.png"))
    committed = sorted(p.name for p in FIGURE_DIR.glob("*.png"))
    assert made == committed, f"run scripts/make_theory_figures.py: it makes {made}, docs/assets/theory/ has {committed}"
    for name in made:
        png = (tmp_path / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000, name
    assert not list(tmp_path.glob(".*.tmp")), "a temporary file was left behind"


def test_every_theory_page_shows_a_figure_with_a_caption():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from make_theory_figures import FIGURES
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    shown: dict[str, str] = {}
    for page in sorted((DOCS / "theory").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        names = FIGURE_REF.findall(text)
        assert names, f"docs/theory/{page.name} shows no figure"
        for name in names:
            block = text[text.index(name):]
            caption = re.search(r"<figcaption>(?P<c>.+?)</figcaption>", block, re.S)
            assert caption and len(caption["c"].split()) >= 20, f"{page.name}: {name} needs a caption saying what to see"
            shown[name] = f"theory/{page.name}"
    assert shown == {name: page for name, (page, _) in FIGURES.items()}, "FIGURES and the pages disagree"
