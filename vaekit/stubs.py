"""Generate the student stubs in ``exercises/`` from the reference solutions in ``solutions/``.

A solution marks each answer with a region::

    # BEGIN SOLUTION 2.1
    ...reference code...
    # END SOLUTION

and the stub keeps everything else (signature, type hints, docstring, helpers) and replaces the region with::

    # TODO(Exercise 2.1): <the exercise title>.
    raise NotImplementedError("Exercise 2.1 (cb_log_norm): not implemented yet; see docs/exercises/...")

Files without regions (``__init__.py``) are copied as they are. ``tests/test_stubs.py`` fails when a
committed stub differs from what this module generates, so stub and solution cannot drift apart.
"""

from __future__ import annotations

import re
from pathlib import Path

from .exercises import EXERCISES

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES_DIR = ROOT / "exercises"
TRACKS = ("numpy_ag", "pytorch")

_BEGIN = re.compile(r"^(?P<indent>\s*)# BEGIN SOLUTION (?P<id>T?\d+\.\d+)\s*$")
_END = re.compile(r"^\s*# END SOLUTION\s*$")
_DEF = re.compile(r"^(?P<indent>\s*)(?:async\s+)?(?P<kind>def|class)\s+(?P<name>\w+)")


class StubError(ValueError):
    """A solution file whose solution regions are malformed."""


HEADER = (
    "# Exercise file: fill in the parts marked TODO; leave signatures and docstrings as they are.\n"
    "# The grader: bash scripts/grade.sh (all exercises) or bash scripts/grade.sh 2.1 (one).\n"
)


def header(solution_rel: str) -> str:
    """The comment that opens every generated stub (the same for every file: it names no solution file, since
    the students' copy of the kit has none)."""
    return HEADER


def make_stub(source: str, solution_rel: str) -> str:
    """Return the stub text of one solution file's text. Raises StubError on unbalanced or unknown regions."""
    out: list[str] = []
    lines = source.splitlines()
    i = 0
    enclosing = "?"
    cls = None  # the top-level class being read, so that methods are named Class.method
    while i < len(lines):
        line = lines[i]
        if (m := _DEF.match(line)) is not None:
            if not m.group("indent"):
                cls = m.group("name") if m.group("kind") == "class" else None
            enclosing = f"{cls}.{m.group('name')}" if cls and m.group("indent") else m.group("name")
        begin = _BEGIN.match(line)
        if begin is None:
            if _END.match(line):
                raise StubError(f"{solution_rel}:{i + 1}: '# END SOLUTION' without a BEGIN")
            out.append(line)
            i += 1
            continue
        ex_id, indent = begin.group("id"), begin.group("indent")
        if ex_id not in EXERCISES:
            raise StubError(f"{solution_rel}:{i + 1}: unknown exercise ID {ex_id!r} (see vaekit/exercises.py)")
        j = i + 1
        while j < len(lines) and not _END.match(lines[j]):
            if _BEGIN.match(lines[j]):
                raise StubError(f"{solution_rel}:{j + 1}: nested '# BEGIN SOLUTION'")
            j += 1
        if j == len(lines):
            raise StubError(f"{solution_rel}:{i + 1}: '# BEGIN SOLUTION {ex_id}' has no '# END SOLUTION'")
        ex = EXERCISES[ex_id]
        out.append(f"{indent}# TODO(Exercise {ex_id}): {ex.title}.")
        out.append(
            f'{indent}raise NotImplementedError("Exercise {ex_id} ({enclosing}): not implemented yet; '
            f'see {ex.docs_page}")'
        )
        i = j + 1
    return header(solution_rel) + "\n".join(out) + "\n"


def expected_stubs() -> dict[Path, str]:
    """Map each stub path under ``exercises/`` to the text generated from its solution file."""
    stubs: dict[Path, str] = {}
    for sol in sorted(SOLUTIONS.rglob("*.py")):
        rel = sol.relative_to(SOLUTIONS)
        if rel.parts[0] not in TRACKS:
            continue
        text = sol.read_text()
        rel_posix = f"solutions/{rel.as_posix()}"
        stubs[EXERCISES_DIR / rel] = make_stub(text, rel_posix) if "# BEGIN SOLUTION" in text else text
    return stubs


def write_stubs() -> list[Path]:
    """(Re)write every stub under ``exercises/``; return the paths that changed."""
    changed = []
    for path, text in expected_stubs().items():
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            changed.append(path)
    return changed
