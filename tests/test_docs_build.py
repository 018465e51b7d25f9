"""The course site builds with ``mkdocs build --strict``, every link inside it resolves (pages, files and
anchors), it loads nothing from the network, and every ``docs/...md#anchor`` that the code points students to
exists.
"""

from __future__ import annotations

import ast
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlparse

import pytest

from tests.docs_support import DOCS, KATEX_MISSING, ROOT, build_site, katex_installed

sys.path.insert(0, str(ROOT / "scripts"))
import mkdocs_hooks  # noqa: E402  (scripts/ is not a package)

sys.path.remove(str(ROOT / "scripts"))

CODE_DIRS = ("solutions", "exercises", "vaekit", "grader", "scripts", "benchmarks", "tests")
DOCS_REF = re.compile(r"docs/((?:[\w-]+/)*[\w-]+\.md)(?:#([\w-]+))?")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if not katex_installed():
        pytest.fail(KATEX_MISSING)
    site_dir = tmp_path_factory.mktemp("site")
    result = build_site(site_dir)
    return site_dir, result


class Links(HTMLParser):
    """Every id, and every link or resource reference (tag, attribute, value) of an HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        for attr in ("href", "src"):
            if attrs.get(attr):
                self.refs.append((tag, attr, attrs[attr]))


def parse(path: Path) -> Links:
    links = Links()
    links.feed(path.read_text(encoding="utf-8"))
    return links


def html_pages(site_dir: Path) -> list[Path]:
    return sorted(site_dir.rglob("*.html"))


def test_strict_build_passes_without_warnings(site):
    _, result = site
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{output}"
    warnings = [line for line in output.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert not warnings, "\n".join(warnings)


def test_every_page_of_docs_is_built(site):
    site_dir, _ = site
    for md in DOCS.rglob("*.md"):
        if "vendor" in md.parts:
            continue
        stem = md.relative_to(DOCS).with_suffix("")
        out = site_dir / "index.html" if stem.as_posix() == "index" else site_dir / stem / "index.html"
        assert out.is_file(), f"docs/{md.relative_to(DOCS)} was not built (is it in the nav of mkdocs.yml?)"


def test_internal_links_and_anchors_resolve(site):
    site_dir, _ = site
    cache: dict[Path, Links] = {}
    broken = []
    for page in html_pages(site_dir):
        links = cache.setdefault(page, parse(page))
        base = "/" + page.relative_to(site_dir).as_posix()
        for tag, attr, value in links.refs:
            url = urlparse(value)
            if url.scheme or value.startswith("//"):
                continue  # external links are fine as links; resources are checked below
            target_url, fragment = urldefrag(urljoin(base, value))
            target = site_dir / unquote(target_url).lstrip("/")
            if target_url.endswith("/") or target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{base}: <{tag} {attr}={value!r}> -> missing {target.relative_to(site_dir)}")
                continue
            if fragment and target.suffix == ".html":
                ids = cache.setdefault(target, parse(target)).ids
                if unquote(fragment) not in ids:
                    broken.append(f"{base}: <{tag} {attr}={value!r}> -> no #{fragment} in {target.relative_to(site_dir)}")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_nothing_is_loaded_from_the_network(site):
    """Scripts, stylesheets, images and fonts all come from the site itself, so it works offline."""
    site_dir, _ = site
    remote = []
    for page in html_pages(site_dir):
        for tag, attr, value in parse(page).refs:
            is_resource = tag in {"script", "img", "iframe", "source"} or (tag == "link" and attr == "href")
            if is_resource and (urlparse(value).scheme in {"http", "https"} or value.startswith("//")):
                if tag == "link" and not re.search(r"\.(css|js|woff2?)(\?|$)", value):
                    continue  # <link rel="canonical"> and the like are not loaded
                remote.append(f"{page.relative_to(site_dir)}: <{tag} {attr}={value}>")
    assert not remote, "resources loaded from the network:\n" + "\n".join(remote)
    css = (site_dir / "assets" / "vendor" / "katex" / "katex.min.css").read_text(encoding="utf-8")
    assert "fonts/KaTeX_Main-Regular.woff2" in css
    assert (site_dir / "assets" / "vendor" / "katex" / "fonts" / "KaTeX_Main-Regular.woff2").is_file()


def test_every_page_loads_katex(site):
    site_dir, _ = site
    for page in html_pages(site_dir):
        if page.name == "404.html":
            continue
        srcs = [v for t, a, v in parse(page).refs if t == "script"]
        assert any(s.endswith("katex.min.js") for s in srcs), f"{page.relative_to(site_dir)} does not load KaTeX"
        assert any(s.endswith("katex-init.js") for s in srcs), f"{page.relative_to(site_dir)} does not start KaTeX"


def _code_references() -> list[tuple[str, str, str | None]]:
    found = []
    files = [ROOT / "README.md"] + [p for d in CODE_DIRS for p in (ROOT / d).rglob("*") if p.suffix in {".py", ".md"}]
    for path in files:
        if not path.is_file() or path.name.startswith("test_docs_"):
            continue
        for m in DOCS_REF.finditer(path.read_text(encoding="utf-8")):
            found.append((path.relative_to(ROOT).as_posix(), m[1], m[2]))
    return found


def test_the_code_links_to_existing_pages_and_anchors(site):
    site_dir, _ = site
    refs = _code_references()
    assert len(refs) > 50, "expected the docstrings to link to the docs"
    missing = []
    for source, page, anchor in refs:
        if not (DOCS / page).is_file():
            missing.append(f"{source}: docs/{page} does not exist")
            continue
        stem = Path(page).with_suffix("")
        built = site_dir / "index.html" if stem.as_posix() == "index" else site_dir / stem / "index.html"
        if anchor and anchor not in parse(built).ids:
            missing.append(f"{source}: docs/{page} has no anchor #{anchor}")
    assert not missing, "\n".join(sorted(set(missing)))


def test_missing_katex_stops_the_build_with_a_clear_message(tmp_path):
    with pytest.raises(mkdocs_hooks.PluginError, match=r"bash scripts/docs_assets\.sh"):
        mkdocs_hooks.on_config({"docs_dir": str(tmp_path)})


def test_figure_directive_shows_a_figure_only_when_it_exists(tmp_path):
    (tmp_path / "assets" / "results").mkdir(parents=True)
    (tmp_path / "assets" / "results" / "samples.png").write_bytes(b"\x89PNG")
    shown = mkdocs_hooks.figure_markdown("assets/results/samples.png", "Samples", "results.md", tmp_path)
    assert shown == "![Samples](assets/results/samples.png)"
    nested = mkdocs_hooks.figure_markdown("assets/results/samples.png", "Samples", "theory/model.md", tmp_path)
    assert nested == "![Samples](../assets/results/samples.png)"
    absent = mkdocs_hooks.figure_markdown("assets/results/curves.png", "Curves", "results.md", tmp_path)
    assert absent.startswith('!!! note "Figure not generated yet"') and "docs/assets/results/curves.png" in absent


def test_grader_tests_directive_lists_the_marked_tests(tmp_path):
    (tmp_path / "grader").mkdir()
    (tmp_path / "grader" / "test_x.py").write_text(
        "import pytest\n\n@pytest.mark.ex1_1\ndef test_a():\n    pass\n\n@pytest.mark.ex1_2\ndef test_b():\n    pass\n"
    )
    assert mkdocs_hooks.grader_tests(tmp_path / "grader") == {"ex1_1": ["test_a"], "ex1_2": ["test_b"]}


def test_grader_tests_directive_leaves_out_hidden_tests(tmp_path):
    (tmp_path / "grader" / "hidden" / "numpy_ag").mkdir(parents=True)
    (tmp_path / "grader" / "test_x.py").write_text("import pytest\n\n@pytest.mark.ex1_1\ndef test_a():\n    pass\n")
    (tmp_path / "grader" / "hidden" / "numpy_ag" / "test_y.py").write_text(
        "import pytest\n\n@pytest.mark.ex1_1\ndef test_secret():\n    pass\n"
    )
    assert mkdocs_hooks.grader_tests(tmp_path / "grader") == {"ex1_1": ["test_a"]}


def _hidden_test_names() -> set[str]:
    """Names of the test functions in grader/hidden/, read independently of the hooks."""
    names = set()
    for path in (ROOT / "grader" / "hidden").rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names.update(n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test"))
    return names


def test_the_built_exercise_pages_do_not_name_hidden_tests(site):
    site_dir, _ = site
    hidden = _hidden_test_names()
    assert hidden, "expected tests in grader/hidden/"
    pages = sorted((site_dir / "exercises").rglob("*.html"))
    assert pages, "no exercise pages were built"
    text = "\n".join(p.read_text(encoding="utf-8") for p in pages)
    assert "test_" in text, "the exercise pages list no grader tests at all"
    named = sorted(name for name in hidden if name in text)
    assert not named, f"the course site names hidden tests: {named}"


def test_inline_code_keeps_its_hyphens_together():
    """scripts/mkdocs_hooks.py wraps hyphenated words of inline code (not code blocks) in span.nobr; a path keeps
    its slashes as break points."""
    keep_hyphens = mkdocs_hooks.keep_hyphens
    html = ('<p><code>vaekit experiment cb-vs-bernoulli --quick</code> <code>a/b-c/d</code></p>'
            '<pre><code>x-y</code></pre><p><code>plain</code></p>')
    assert keep_hyphens(html) == (
        '<p><code>vaekit experiment <span class="nobr">cb-vs-bernoulli</span> <span class="nobr">--quick</span></code> '
        '<code>a/<span class="nobr">b-c</span>/d</code></p><pre><code>x-y</code></pre><p><code>plain</code></p>')
