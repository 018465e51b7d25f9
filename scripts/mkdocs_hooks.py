"""MkDocs hooks of the course site (listed under ``hooks:`` in mkdocs.yml).

1. ``on_config``: stop the build with a clear message when the local KaTeX copy is missing (it is installed by
   ``bash scripts/docs_assets.sh`` and not committed), instead of building a site whose maths silently stays
   raw TeX.
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
import posixpath
import re
from pathlib import Path

from mkdocs.exceptions import PluginError

KATEX_FILES = (
    "assets/vendor/katex/katex.min.js",
    "assets/vendor/katex/katex.min.css",
    "assets/vendor/katex/contrib/auto-render.min.js",
)

GRADER_TESTS = re.compile(r"^(?P<indent>[ \t]*)<!--\s*grader-tests:\s*(?P<marker>\w+)\s*-->[ \t]*$", re.M)
FIGURE = re.compile(r"^(?P<indent>[ \t]*)<!--\s*figure:\s*(?P<path>[^|>]+?)\s*\|\s*(?P<caption>.+?)\s*-->[ \t]*$", re.M)


def on_config(config, **kwargs):
    docs_dir = Path(config["docs_dir"])
    missing = [name for name in KATEX_FILES if not (docs_dir / name).is_file()]
    if missing:
        raise PluginError(
            "the maths renderer KaTeX is not installed (missing "
            + ", ".join(f"docs/{name}" for name in missing)
            + "): run `bash scripts/docs_assets.sh` once; it fetches the pinned npm package katex"
        )
    return config


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
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Attribute)
                    and target.value.attr == "mark"
                ):
                    found.setdefault(target.attr, []).append(node.name)
    return found


def on_page_markdown(markdown, page, config, files, **kwargs):
    docs_dir = Path(config["docs_dir"])
    src = page.file.src_uri

    def figure(match: re.Match) -> str:
        return figure_markdown(match["path"], match["caption"], src, docs_dir, match["indent"])

    markdown = FIGURE.sub(figure, markdown)
    if GRADER_TESTS.search(markdown):
        tests = grader_tests(Path(config["config_file_path"]).parent / "grader")

        def listing(match: re.Match) -> str:
            names = tests.get(match["marker"])
            if not names:
                raise PluginError(f"{src}: no grader test carries the marker {match['marker']}")
            return "\n".join(f"{match['indent']}- `{name}`" for name in names)

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
