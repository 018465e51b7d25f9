"""Grade a whole class: every folder or .zip in a directory, several at a time, each in its own sandbox.

Writes ``OUT/gradebook.csv`` (one row per student: total, status, points per exercise; rewritten atomically
after every submission, so it shows the progress) and ``OUT/results/<student>.json`` (Gradescope's format,
hidden tests included with ``after_published``). A submission that cannot be read or graded gets a row
with its reason and no points; a hanging one costs only its own time limits.
"""

from __future__ import annotations

import csv
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..exercises import EXERCISES
from .files import write_atomic
from .layout import SubmissionLayoutError
from .report import write_reports
from .sandbox import GradingError, GradingOptions, grade
from .selection import exercise_ids


@dataclass
class Row:
    student: str
    score: float = 0.0
    max_score: float = 0.0
    status: str = "graded"
    seconds: float = 0.0
    exercises: dict = field(default_factory=dict)  # ID -> points earned


def discover(folder: Path) -> list[tuple[str, Path]]:
    """``(student, path)`` for every sub-folder and .zip file of ``folder``, sorted by name."""
    found = []
    for entry in sorted(Path(folder).iterdir()):
        if entry.name.startswith(".") or entry.is_symlink():
            continue
        if entry.is_dir() or entry.suffix.lower() == ".zip":
            found.append((entry.stem if entry.is_file() else entry.name, entry))
    return found


def grade_one(student: str, path: Path, out: Path, opts: GradingOptions) -> Row:
    possible = sum(EXERCISES[i].points for i in exercise_ids(opts.exercises))
    try:
        result = grade(path, opts)
    except SubmissionLayoutError as err:
        return Row(student, 0.0, possible, f"not graded: {err}")
    except GradingError as err:
        return Row(student, 0.0, possible, f"grader error: {str(err)[:300]}")
    board = result.board
    write_reports(board, result.seconds, results_json=out / "results" / f"{student}.json",
                  output="\n".join(result.notes), extra={"student": student, "grader_seed": opts.seed})
    score, _ = board.total()
    status = "graded" if not result.notes else "graded; " + "; ".join(result.notes)[:300]
    return Row(student, score, possible, status, round(result.seconds, 1),
               {r["id"]: r["score"] for r in board.per_exercise()})


def gradebook_csv(rows: list[Row], ids: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "score", "max_score", "status", "seconds", *ids])
    for row in sorted(rows, key=lambda r: r.student):
        writer.writerow([row.student, row.score, row.max_score, row.status, row.seconds,
                         *(row.exercises.get(i, 0.0) for i in ids)])
    return buffer.getvalue()


def grade_class(folder: Path, out: Path, opts: GradingOptions, jobs: int = 2, progress=print) -> list[Row]:
    """Grade every submission in ``folder`` with ``jobs`` at a time; write the gradebook and results to ``out``."""
    out = Path(out)
    (out / "results").mkdir(parents=True, exist_ok=True)
    ids = exercise_ids(opts.exercises)
    rows: list[Row] = []
    lock = threading.Lock()

    def work(item):
        student, path = item
        try:
            row = grade_one(student, path, out, opts)
        except Exception as err:  # one broken submission must not stop the class
            row = Row(student, 0.0, sum(EXERCISES[i].points for i in ids), f"not graded: {type(err).__name__}: {err}")
        with lock:
            rows.append(row)
            write_atomic(out / "gradebook.csv", gradebook_csv(rows, ids))
        progress(f"{student}: {row.score:g} / {row.max_score:g} ({row.seconds:g} s) {row.status}")
        return row

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(work, discover(folder)))
    write_atomic(out / "gradebook.csv", gradebook_csv(rows, ids))
    return rows
