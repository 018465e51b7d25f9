"""Grade a whole class: every folder or .zip in a directory, several at a time, each on its own.

Each submission is graded by :func:`.judge.grade`: its own copy, its own judge process, its own sandboxed
workers, which see that copy and nothing else (no other submission, no output folder). Only this process
writes into ``OUT``:

* ``OUT/results/<student>.json``: Gradescope's format, hidden tests included with ``after_published``;
* ``OUT/results/<student>.plain.json``: every test and score, with the submission's fingerprint;
* ``OUT/gradebook.csv``: one row per student (total, status, points per exercise), rewritten atomically after
  every submission, so it shows the progress.

An interrupted run resumes where it stopped: a submission whose plain results carry the same fingerprint (its
bytes, the grader's files and the grading options) is not graded again unless ``regrade`` is set.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..registry import EXERCISES
from grader.reports import plain_results, write_reports

from ..io import save_json, write_text
from .judge import GradingError, GradingOptions, grade
from .layout import SubmissionLayoutError
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
    """``(student, path)`` for every sub-folder and .zip file of ``folder``, sorted by name (links are skipped)."""
    found = []
    for entry in sorted(Path(folder).iterdir()):
        if entry.name.startswith(".") or entry.is_symlink():
            continue
        if entry.is_dir() or entry.suffix.lower() == ".zip":
            found.append((entry.stem if entry.is_file() else entry.name, entry))
    return found


def fingerprint(path: Path, opts: GradingOptions) -> str:
    """SHA-256 of the submission's files, the grader's files and the options that change a grade."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    for file in files:
        digest.update(str(file.relative_to(path) if file != path else file.name).encode())
        digest.update(file.read_bytes())
    for file in sorted((opts.kit / "grader").rglob("*")):
        if file.is_file() and "__pycache__" not in file.parts:
            digest.update(str(file.relative_to(opts.kit)).encode())
            digest.update(file.read_bytes())
    settings = {k: v for k, v in asdict(opts).items() if k not in ("kit", "python")}
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _row_from_plain(student: str, data: dict) -> Row:
    return Row(student, data["score"], data["max_score"], data.get("status", "graded"),
               data.get("execution_time", 0.0), {e["id"]: e["score"] for e in data["exercises"]})


def grade_one(student: str, path: Path, out: Path, opts: GradingOptions, regrade: bool = False) -> Row:
    possible = sum(EXERCISES[i].points for i in exercise_ids(opts.exercises))
    plain_path = out / "results" / f"{student}.plain.json"
    stamp = fingerprint(path, opts)
    if not regrade and plain_path.exists():
        try:
            data = json.loads(plain_path.read_text())
            if data.get("fingerprint") == stamp:
                return _row_from_plain(student, data)
        except (OSError, ValueError, KeyError):
            pass  # unreadable: grade again
    try:
        result = grade(path, opts)
    except SubmissionLayoutError as err:
        return Row(student, 0.0, possible, f"not graded: {err}")
    except GradingError as err:
        return Row(student, 0.0, possible, f"grader error: {str(err)[:300]}")
    board = result.board
    score, _ = board.total()
    status = "graded" if not result.notes else "graded; " + "; ".join(result.notes)[:300]
    extra = {"student": student, "grader_seed": opts.seed, "sandboxed": result.sandboxed}
    write_reports(board, result.seconds, results_json=out / "results" / f"{student}.json",
                  output="\n".join(result.notes), extra=extra)
    save_json(plain_path, {**plain_results(board, result.seconds, extra), "status": status, "fingerprint": stamp})
    return Row(student, score, possible, status, round(result.seconds, 1),
               {r["id"]: r["score"] for r in board.per_exercise()})


def _cell(text: str) -> str:
    """A student's name as a spreadsheet shows it: a leading = + - @ would start a formula, so it gets a quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def gradebook_csv(rows: list[Row], ids: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "score", "max_score", "status", "seconds", *ids])
    for row in sorted(rows, key=lambda r: r.student):
        writer.writerow([_cell(row.student), row.score, row.max_score, _cell(row.status), row.seconds,
                         *(row.exercises.get(i, 0.0) for i in ids)])
    return buffer.getvalue()


def grade_class(folder: Path, out: Path, opts: GradingOptions, jobs: int = 2, progress=print,
                regrade: bool = False) -> list[Row]:
    """Grade every submission in ``folder``, ``jobs`` at a time; write the gradebook and results to ``out``."""
    out = Path(out)
    (out / "results").mkdir(parents=True, exist_ok=True)
    ids = exercise_ids(opts.exercises)
    rows: list[Row] = []
    lock = threading.Lock()

    def work(item):
        student, path = item
        try:
            row = grade_one(student, path, out, opts, regrade)
        except Exception as err:  # one broken submission must not stop the class
            row = Row(student, 0.0, sum(EXERCISES[i].points for i in ids), f"not graded: {type(err).__name__}: {err}")
        with lock:
            rows.append(row)
            write_text(out / "gradebook.csv", gradebook_csv(rows, ids))
        progress(f"{student}: {row.score:g} / {row.max_score:g} ({row.seconds:g} s) {row.status}")
        return row

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(work, discover(folder)))
    write_text(out / "gradebook.csv", gradebook_csv(rows, ids))
    return rows
