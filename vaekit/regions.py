"""The solution regions of the reference solutions, and the one parser of them.

A reference solution marks each answer with a region. One region of each exercise declares the exercise: its
ID, title, points and the exercises whose code it calls::

    # BEGIN SOLUTION 5.1: Monte Carlo ELBO (4 points; uses 2.2, 3.1, 4.1)
    ...reference code...
    # END SOLUTION

An exercise written in several functions (7.1: ``adam_init`` and ``adam_update``) has one region in each; the
others are bare, ``# BEGIN SOLUTION 7.1``. A bare region marked ``# BEGIN SOLUTION T2.2 (optional)`` is a part
the reference writes but a student may leave out (T2.2: the hand-written backward pass of ``CBLogProb``); its
stub says so. The exercise registry, the stub generator, the handout's leak check and the scaffold all read
regions through :func:`parse`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ID = r"T?\d+\.\d+"
# Any line that opens a region, well formed or not (MULTILINE: ``BEGIN.search(text)`` finds one in a file).
BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION\b(?P<rest>.*)$", re.MULTILINE)
END = re.compile(r"^\s*# END SOLUTION\s*$")
HEAD = re.compile(rf"^ (?P<id>{ID})(?: (?P<optional>\(optional\)))?"
                  rf"(?:: (?P<title>\S.*?) \((?P<points>\d+(?:\.\d+)?) points?"
                  rf"(?:; uses (?P<uses>{ID}(?:, {ID})*))?\))?\s*$")
DEF = re.compile(r"^(?P<indent>\s*)(?:async\s+)?(?P<kind>def|class)\s+(?P<name>\w+)")
FORM = ("'# BEGIN SOLUTION 5.1: <title> (<N> points; uses 2.2, 3.1)' (the '; uses ...' part is optional), "
        "'# BEGIN SOLUTION 5.1' or '# BEGIN SOLUTION 5.1 (optional)'")


class RegionError(ValueError):
    """A solution file whose regions are malformed; the message names ``file:line`` and what is wrong."""


@dataclass(frozen=True)
class Region:
    """One ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` region of a solution file."""

    file: str  # the solution file, as given to parse (for messages)
    begin: int  # 1-based line numbers of the BEGIN and END lines
    end: int
    id: str  # the exercise ID, "5.1" or "T5.1"
    indent: str  # of the BEGIN line
    enclosing: str  # the function around the region: "elbo", or "Encoder.forward" for a method
    name: str  # the module-level function or class around it: "elbo", "Encoder"
    title: str | None  # the declaration, on the one region of an exercise that carries it, else None, None, ()
    points: float | None
    uses: tuple[str, ...]
    body: tuple[str, ...]  # the lines between BEGIN and END
    optional: bool = False  # a bare region a student may leave out: ``# BEGIN SOLUTION T2.2 (optional)``


def header(ex_id: str, title: str, points: float, uses: tuple[str, ...] = ()) -> str:
    """The declaring BEGIN line (without indentation): ``# BEGIN SOLUTION 5.1: Monte Carlo ELBO (4 points; ...)``."""
    unit = "point" if points == 1 else "points"
    used = f"; uses {', '.join(uses)}" if uses else ""
    return f"# BEGIN SOLUTION {ex_id}: {title} ({points:g} {unit}{used})"


def _number(text: str) -> float:
    value = float(text)
    return int(value) if value.is_integer() else value


def parse(text: str, file: str) -> list[Region]:
    """The regions of one solution file's ``text``, in order. Raises RegionError (``file:line: what``) on an
    unreadable BEGIN line, an END without BEGIN, a nested BEGIN, a BEGIN without END, or a region outside any
    function or class."""
    lines = text.splitlines()
    regions: list[Region] = []
    enclosing = name = None
    cls = None  # the module-level class being read, so that methods are named Class.method
    i = 0
    while i < len(lines):
        line = lines[i]
        if (m := DEF.match(line)) is not None:
            if not m.group("indent"):
                cls = m.group("name") if m.group("kind") == "class" else None
                name = m.group("name")
            enclosing = f"{cls}.{m.group('name')}" if cls and m.group("indent") else m.group("name")
        if END.match(line):
            raise RegionError(f"{file}:{i + 1}: '# END SOLUTION' without a BEGIN")
        begin = BEGIN.match(line)
        if begin is None:
            i += 1
            continue
        head = HEAD.match(begin.group("rest"))
        if head is None:
            raise RegionError(f"{file}:{i + 1}: cannot read {line.strip()!r}; write {FORM}")
        if head["optional"] and head["title"]:
            raise RegionError(f"{file}:{i + 1}: the declaring region of {head['id']} cannot be optional; mark a "
                              "bare region '(optional)'")
        if enclosing is None:
            raise RegionError(f"{file}:{i + 1}: the region of {head['id']} lies outside any function or class")
        j = i + 1
        while j < len(lines) and not END.match(lines[j]):
            if BEGIN.match(lines[j]):
                raise RegionError(f"{file}:{j + 1}: nested '# BEGIN SOLUTION' (the region opened on line {i + 1} "
                                  "is not closed)")
            j += 1
        if j == len(lines):
            raise RegionError(f"{file}:{i + 1}: '# BEGIN SOLUTION {head['id']}' has no '# END SOLUTION'")
        uses = tuple(head["uses"].split(", ")) if head["uses"] else ()
        regions.append(Region(file, i + 1, j + 1, head["id"], begin.group("indent"), enclosing, name,
                              head["title"], _number(head["points"]) if head["points"] else None, uses,
                              tuple(lines[i + 1:j]), bool(head["optional"])))
        i = j + 1
    return regions


def solution_files(solutions: Path, tracks: tuple[str, ...]) -> list[Path]:
    """The ``.py`` files of the tracks' folders under ``solutions``, sorted."""
    return sorted(p for track in tracks for p in (Path(solutions) / track).rglob("*.py") if "__pycache__" not in p.parts)


def parse_folder(solutions: Path, tracks: tuple[str, ...]) -> list[Region]:
    """Every region of every solution file under ``solutions`` (files named relative to its parent)."""
    solutions = Path(solutions)
    return [r for path in solution_files(solutions, tracks)
            for r in parse(path.read_text(encoding="utf-8"), path.relative_to(solutions.parent).as_posix())]
