"""The exercise registry: every exercise's ID, title, points, code location, docs page and what it uses.

Each exercise is declared once, on the header of its solution region (see vaekit/regions.py)::

    # BEGIN SOLUTION 5.1: Monte Carlo ELBO (4 points; uses 2.2, 3.1, 4.1)

Its track is the folder of the solution file, its module the file, its names the functions or classes around
its regions, and its docs page the page of docs/exercises/ that holds its heading anchor (``{#ex5_1}``). The
student handout and the Gradescope bundle have no solutions: their builders freeze the registry into
``vaekit/registry.json`` (:func:`freeze`), which is read there instead.

The same ID appears in four places: the stub's ``NotImplementedError``, the grader's marker
(``ex`` + ID with dots as underscores, e.g. ``1.3`` -> ``ex1_3``, ``T1.3`` -> ``ext1_3``), the docs
heading (anchor ``#ex1_3``) and the score table.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .io import write_text
from .paths import DOCS, FROZEN_REGISTRY, SOLUTIONS, TRACKS
from .regions import Region, RegionError, parse_folder

DOCS_SITE = "docs"  # docs/ folder; pages are given relative to it
TRACK_PAGES = {"numpy_ag": "numpy", "pytorch": "pytorch"}  # an exercise's page when no page holds its anchor


@dataclass(frozen=True)
class Exercise:
    """One gradable exercise.

    Attributes:
        id: the exercise ID shown to students, e.g. ``"2.1"`` (NumPy track) or ``"T2.1"`` (PyTorch track).
        title: a short name of what is implemented.
        points: the exercise's points; 60% for its core tests, 40% for the others (see grader/scoring.py).
        track: ``"numpy_ag"`` or ``"pytorch"``, the folder of ``exercises/`` the code lives in.
        module: the module inside the track folder, e.g. ``"continuous_bernoulli"``.
        names: the functions or classes the student writes.
        page: the docs page (under docs/exercises/) that explains it; by default the track's page.
    """

    id: str
    title: str
    points: float
    track: str
    module: str
    names: tuple[str, ...]
    page: str = ""

    @property
    def marker(self) -> str:
        """Pytest marker of the exercise: ``1.3`` -> ``ex1_3``; ``T1.3`` -> ``ext1_3``."""
        return "ex" + self.id.lower().replace(".", "_")

    @property
    def docs_page(self) -> str:
        """Path of the docs page (with anchor) that explains this exercise."""
        return f"{DOCS_SITE}/exercises/{self.page or TRACK_PAGES[self.track]}.md#{self.marker}"


def _order(ex_id: str) -> tuple:
    """Sort key: the NumPy track before the PyTorch one, then by number (1.2 < 10.1)."""
    return (ex_id.startswith("T"), *map(int, ex_id.lstrip("T").split(".")))


def anchor_pages(docs: Path = DOCS) -> dict[str, str]:
    """``{marker: page}`` of the heading anchors ``{#ex5_1}`` of docs/exercises/*.md (the first page, sorted)."""
    pages: dict[str, str] = {}
    for path in sorted((Path(docs) / "exercises").glob("*.md")):
        for marker in re.findall(r"\{#(ext?\d+_\d+)\}", path.read_text(encoding="utf-8")):
            pages.setdefault(marker, path.stem)
    return pages


def from_regions(regions: list[Region], pages: dict[str, str]) -> tuple[dict[str, Exercise], dict[str, tuple[str, ...]]]:
    """``(EXERCISES, USES)`` declared by the regions of the solution files; RegionError names what is wrong."""
    by_id: dict[str, list[Region]] = {}
    for r in regions:
        by_id.setdefault(r.id, []).append(r)
    exercises, uses, where = {}, {}, {}
    for ex_id in sorted(by_id, key=_order):
        regs = by_id[ex_id]
        declaring = [r for r in regs if r.title is not None]
        if len(declaring) != 1 or len({r.file for r in regs}) != 1:
            raise RegionError(", ".join(f"{r.file}:{r.begin}" for r in regs) + f": Exercise {ex_id} needs exactly one "
                              f"region declaring it, '{ex_id}: <title> (<N> points)', and all its regions in one "
                              f"file; {len(declaring)} declare it, in {len({r.file for r in regs})} file(s)")
        decl = declaring[0]
        where[ex_id] = f"{decl.file}:{decl.begin}"
        track, module = Path(decl.file).parent.name, Path(decl.file).stem
        if track not in TRACKS or (track == "pytorch") != ex_id.startswith("T"):
            raise RegionError(f"{where[ex_id]}: Exercise {ex_id} lies in {track}/; IDs of numpy_ag/ look like 5.1, "
                              "those of pytorch/ like T5.1")
        ex = Exercise(ex_id, decl.title, decl.points, track, module, tuple(dict.fromkeys(r.name for r in regs)))
        exercises[ex_id] = replace(ex, page=pages.get(ex.marker, ""))
        if decl.uses:
            uses[ex_id] = decl.uses
    for ex_id, used in uses.items():
        bad = [u for u in used if u not in exercises or u == ex_id or exercises[u].track != exercises[ex_id].track]
        if bad:
            raise RegionError(f"{where[ex_id]}: Exercise {ex_id} uses {', '.join(bad)}: not another exercise of its "
                              "track")
    return exercises, uses


def from_solutions(solutions: Path = SOLUTIONS, docs: Path = DOCS):
    """``(EXERCISES, USES)`` read from the solution regions under ``solutions`` and the pages of ``docs``."""
    return from_regions(parse_folder(solutions, TRACKS), anchor_pages(docs))


def freeze(path: Path, solutions: Path = SOLUTIONS, docs: Path = DOCS) -> Path:
    """Write the registry read from ``solutions`` as the JSON table a kit without solutions reads."""
    exercises, uses = from_solutions(solutions, docs)
    table = {"exercises": [asdict(ex) for ex in exercises.values()], "uses": uses}
    return write_text(path, json.dumps(table, indent=1) + "\n")


def from_table(path: Path):
    """``(EXERCISES, USES)`` of a table written by :func:`freeze`."""
    table = json.loads(Path(path).read_text(encoding="utf-8"))
    exercises = {row["id"]: Exercise(**{**row, "names": tuple(row["names"])}) for row in table["exercises"]}
    return exercises, {ex_id: tuple(used) for ex_id, used in table["uses"].items()}


def load():
    """The registry of this kit: from its solutions, or (the handout, Gradescope) from its frozen table."""
    if SOLUTIONS.is_dir():
        return from_solutions()
    if FROZEN_REGISTRY.is_file():
        return from_table(FROZEN_REGISTRY)
    raise RegionError(f"no exercise registry: this kit has neither {SOLUTIONS} nor the table {FROZEN_REGISTRY} "
                      "that 'vaekit handout' writes")


EXERCISES: dict[str, Exercise]
USES: dict[str, tuple[str, ...]]  # which exercises' code each exercise calls: a wrong answer there also costs
# points here, and the score table says so ("uses 3.1, which fails: fix that first")
EXERCISES, USES = load()
BY_MARKER: dict[str, Exercise] = {ex.marker: ex for ex in EXERCISES.values()}
