"""MkDocs hooks of the course site (listed under ``hooks:`` in mkdocs.yml).

1. ``on_config`` and ``on_post_build``: the maths renderer. The pages' formulas are typeset in the browser by
   MathJax 2.7, whose files come from the PyPI package ``jupyter-server-mathjax`` (the docs extra of
   pyproject.toml installs it). ``on_config`` stops the build with a clear message when the package is missing
   (instead of building a site whose maths silently stays raw TeX); ``on_post_build`` copies its files into the
   built site, ``site/assets/vendor/mathjax/``. Nothing is downloaded at build time and nothing is committed.
2. ``on_page_markdown``, two directives written as HTML comments on a line of their own:

   - ``<!-- figure: assets/results/samples.png | caption -->`` becomes the image when that file (relative to
     docs/) exists, and a note that the figure has not been made yet when it does not. Pages can thus name
     figures that a script produces later without ever having a broken image.
   - ``<!-- grader-tests: ex2_1 -->`` becomes the list of the grader's tests that carry that marker, read
     from grader/ at build time (grader/hidden/ left out: hidden tests are not named on the site), so an exercise section always lists the tests that actually grade it. A
     marker without tests stops the build.
3. ``on_page_content``: in inline code (not code blocks), each word that contains a hyphen is wrapped in
   ``<span class="nobr">`` so that a narrow screen never breaks ``--data-root`` or ``cb-vs-bernoulli`` at its
   hyphen (the stylesheet keeps ``.nobr`` on one line); the text, and so what a reader copies, is unchanged.
"""

from __future__ import annotations

import ast
import importlib.util
import posixpath
import re
import shutil
from pathlib import Path

from mkdocs.exceptions import PluginError

# Why MathJax 2 from jupyter-server-mathjax: the site must typeset its maths with no network at all, and the kit's
# machines have Python but often no Node.js, so the renderer has to come from PyPI with pip like everything else.
# That package (Jupyter project, BSD-licensed; MathJax itself is Apache-2.0) is a maintained wheel whose
# static/ folder is a complete MathJax 2.7: MathJax.js, the combined configuration TeX-AMS-MML_HTMLorMML-full
# (TeX input, HTML-CSS output) and the STIX-Web web fonts as local .woff files. It ships the SVG output's font
# tables but not the SVG output itself, so the site uses the HTML-CSS output with those local fonts; the
# browser loads them from the site, like every other file. pymdownx.arithmatex's generic mode leaves \( \) and
# \[ \] inside elements of class "arithmatex", which is what docs/assets/javascripts/mathjax-config.js tells
# MathJax to look for.
MATHJAX_PACKAGE = "jupyter_server_mathjax"
MATHJAX_DEST = "assets/vendor/mathjax"  # inside the built site; mkdocs.yml loads MathJax.js from there
MATHJAX_FILES = ("MathJax.js", "config/TeX-AMS-MML_HTMLorMML-full.js", "fonts/HTML-CSS/STIX-Web/woff")

GRADER_TESTS = re.compile(r"^(?P<indent>[ \t]*)<!--\s*grader-tests:\s*(?P<marker>\w+)\s*-->[ \t]*$", re.M)
FIGURE = re.compile(r"^(?P<indent>[ \t]*)<!--\s*figure:\s*(?P<path>[^|>]+?)\s*\|\s*(?P<caption>.+?)\s*-->[ \t]*$", re.M)


def mathjax_static() -> Path:
    """The folder of MathJax's files inside the installed package ``jupyter-server-mathjax``.

    Found without importing the package (its ``__init__`` imports Jupyter Server, which the site does not need).
    Raises PluginError, saying what to install, when the package or one of the files the site uses is missing.
    """
    spec = importlib.util.find_spec(MATHJAX_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise PluginError(
            "the maths renderer MathJax is not installed: the Python package jupyter-server-mathjax is missing. "
            "Install the docs extra: .venv/bin/python -m pip install -e '.[docs]'"
        )
    static = Path(list(spec.submodule_search_locations)[0]) / "static"
    missing = [name for name in MATHJAX_FILES if not (static / name).exists()]
    if missing:
        raise PluginError(
            f"the package jupyter-server-mathjax in {static.parent} lacks {', '.join(missing)}: reinstall it with "
            ".venv/bin/python -m pip install --force-reinstall jupyter-server-mathjax"
        )
    return static


def on_config(config, **kwargs):
    mathjax_static()  # fail before building the pages, not after
    return config


def on_post_build(config, **kwargs):
    """Copy MathJax's files into the built site (``site_dir/assets/vendor/mathjax/``, created or refreshed)."""
    shutil.copytree(mathjax_static(), Path(config["site_dir"]) / MATHJAX_DEST, dirs_exist_ok=True)


def figure_markdown(path: str, caption: str, page_src: str, docs_dir: Path, indent: str = "") -> str:
    """The Markdown for one figure directive: the image if ``docs_dir/path`` exists, else a note."""
    if (docs_dir / path).is_file():
        rel = posixpath.relpath(path, posixpath.dirname(page_src) or ".")
        return f"{indent}![{caption}]({rel})"
    return (
        f'{indent}!!! note "Figure not generated yet"\n'
        f"{indent}    *{caption}* will appear here as `docs/{path}` once the results script has been run "
        f"in this copy of the kit."
    )


HIDDEN_DIR = "hidden"  # grader/hidden/: tests kept back for final grading, never named on the site


def grader_tests(grader_dir: Path) -> dict[str, list[str]]:
    """Marker -> names of the test functions in ``grader_dir`` decorated with ``@pytest.mark.<marker>``.

    The tests under ``grader_dir/hidden/`` are left out: the site must not name the hidden tests.
    """
    found: dict[str, list[str]] = {}
    for path in sorted(grader_dir.rglob("test_*.py")):
        if path.relative_to(grader_dir).parts[0] == HIDDEN_DIR:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test"):
                continue
            for dec in node.decorator_list:
                target = dec.func if isinstance(dec, ast.Call) else dec
                mark = target.value if isinstance(target, ast.Attribute) else None  # pytest.mark of pytest.mark.ex1_1
                if isinstance(mark, ast.Attribute) and mark.attr == "mark":
                    found.setdefault(target.attr, []).append(node.name)
    return found


def core_tests(grader_dir: Path) -> set[tuple[str, str]]:
    """``(exercise marker, test name)`` of the visible tests that are also marked ``core`` (grader/scoring.py)."""
    tests = grader_tests(grader_dir)
    core = set(tests.get("core", []))
    return {(marker, name) for marker, names in tests.items() if marker != "core" for name in names if name in core}


def on_page_markdown(markdown, page, config, files, **kwargs):
    docs_dir = Path(config["docs_dir"])
    src = page.file.src_uri

    def figure(match: re.Match) -> str:
        return figure_markdown(match["path"], match["caption"], src, docs_dir, match["indent"])

    markdown = FIGURE.sub(figure, markdown)
    if GRADER_TESTS.search(markdown):
        grader = Path(config["config_file_path"]).parent / "grader"
        tests, core = grader_tests(grader), core_tests(grader)

        def listing(match: re.Match) -> str:
            names = tests.get(match["marker"])
            if not names:
                raise PluginError(f"{src}: no grader test carries the marker {match['marker']}")
            return "\n".join(f"{match['indent']}- `{name}`" + (" (core)" if (match["marker"], name) in core else "")
                              for name in names)

        markdown = GRADER_TESTS.sub(listing, markdown)
    return markdown


INLINE_CODE = re.compile(r"(?P<open><code(?: class=\"[^\"]*\")?>)(?P<text>[^<]*)</code>")
HYPHENATED = re.compile(r"[^\s/]*-[^\s/]*")  # a path may still break at its slashes


def keep_hyphens(html: str) -> str:
    """Wrap each hyphenated word (or path segment) of every inline ``<code>`` (plain text only, not inside ``<pre>``) in a
    ``<span class="nobr">``."""
    out, last = [], 0
    for m in INLINE_CODE.finditer(html):
        if html.rfind("<pre", 0, m.start()) > html.rfind("</pre>", 0, m.start()):
            continue  # inside a code block
        text = HYPHENATED.sub(lambda w: f'<span class="nobr">{w.group(0)}</span>', m["text"])
        out += [html[last : m.start()], m["open"], text, "</code>"]
        last = m.end()
    out.append(html[last:])
    return "".join(out)


def on_page_content(html, **kwargs):
    return keep_hyphens(html)
