"""Generate the student stubs in ``exercises/`` from the reference solutions in ``solutions/``.

The stub keeps everything of a solution file (signature, type hints, docstring, helpers) but its solution
regions (vaekit/regions.py), each of which becomes::

    # TODO(Exercise 2.1): <the exercise title>.
    raise NotImplementedError("Exercise 2.1 (cb_log_norm): not implemented yet; see docs/exercises/...")

Files without regions (``__init__.py``) are copied as they are. ``tests/test_stubs.py`` fails when a
committed stub differs from what this module generates, so stub and solution cannot drift apart.
"""

from __future__ import annotations

from pathlib import Path

from .io import write_text
from .paths import EXERCISES_DIR, SOLUTIONS, TRACKS
from .regions import BEGIN, RegionError, parse, solution_files
from .registry import EXERCISES

HEADER = (
    "# Exercise file: fill in the parts marked TODO; leave signatures and docstrings as they are.\n"
    "# The grader: bash scripts/grade.sh (all exercises) or bash scripts/grade.sh 2.1 (one).\n"
)  # the same for every stub: it names no solution file, since the students' copy of the kit has none


def make_stub(source: str, solution_rel: str) -> str:
    """Return the stub text of one solution file's text. Raises RegionError on malformed or unknown regions."""
    lines = source.splitlines()
    out: list[str] = []
    done = 0  # lines of ``source`` already handled
    for region in parse(source, solution_rel):
        if region.id not in EXERCISES:
            raise RegionError(f"{solution_rel}:{region.begin}: unknown exercise ID {region.id!r} (no region of "
                              "the solutions declares it)")
        ex = EXERCISES[region.id]
        out += lines[done:region.begin - 1]
        if region.optional:
            out.append(f"{region.indent}# TODO(Exercise {ex.id}, optional): {ex.title}; the exercise can do "
                       "without it.")
            out.append(f'{region.indent}raise NotImplementedError("Exercise {ex.id} ({region.enclosing}): optional, '
                       f'not implemented; see {ex.docs_page}")')
        else:
            out.append(f"{region.indent}# TODO(Exercise {ex.id}): {ex.title}.")
            out.append(f'{region.indent}raise NotImplementedError("Exercise {ex.id} ({region.enclosing}): not '
                       f'implemented yet; see {ex.docs_page}")')
        done = region.end
    return HEADER + "\n".join(out + lines[done:]) + "\n"


def expected_stubs() -> dict[Path, str]:
    """Map each stub path under ``exercises/`` to the text generated from its solution file."""
    stubs: dict[Path, str] = {}
    for sol in solution_files(SOLUTIONS, TRACKS):
        rel = sol.relative_to(SOLUTIONS)
        text = sol.read_text()
        stubs[EXERCISES_DIR / rel] = make_stub(text, f"solutions/{rel.as_posix()}") if BEGIN.search(text) else text
    return stubs


def write_stubs() -> list[Path]:
    """(Re)write every stub under ``exercises/``; return the paths that changed."""
    changed = []
    for path, text in expected_stubs().items():
        if not path.exists() or path.read_text() != text:
            write_text(path, text)
            changed.append(path)
    return changed
