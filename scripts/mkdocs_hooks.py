"""MkDocs hooks of the course site (listed under ``hooks:`` in mkdocs.yml).

1. ``on_config``: stop the build with a clear message when the local KaTeX copy is missing (it is installed by
   ``bash scripts/docs_assets.sh`` and not committed), instead of building a site whose maths silently stays
   raw TeX.
2. ``on_page_markdown``: a line ``<!-- figure: assets/results/samples.png | caption -->`` becomes the image
   when that file (relative to docs/) exists, and a note that the figure has not been made yet when it does
   not. Pages can thus name figures that a script produces later without ever having a broken image.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from mkdocs.exceptions import PluginError

KATEX_FILES = (
    "assets/vendor/katex/katex.min.js",
    "assets/vendor/katex/katex.min.css",
    "assets/vendor/katex/contrib/auto-render.min.js",
)

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


def on_page_markdown(markdown, page, config, files, **kwargs):
    docs_dir = Path(config["docs_dir"])
    src = page.file.src_uri

    def replace(match: re.Match) -> str:
        return figure_markdown(match["path"], match["caption"], src, docs_dir, match["indent"])

    return FIGURE.sub(replace, markdown)
