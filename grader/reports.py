"""Reports of a graded submission: Gradescope's results.json, a plain JSON and a CSV per exercise.

All three are built from a :class:`grader.scoring.Scoreboard` and written atomically. In results.json each
grader test is one Gradescope test worth its share of the exercise's points; hidden tests
(``grader/hidden/``) get ``"visibility": "after_published"``, and the top-level ``output`` speaks only of the
visible tests.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from vaekit.io import save_json, write_text

DIGITS = 5  # points are rounded to this many decimals, as Gradescope shows them


def _entries(board):
    """``(row, test, number, weight, score)`` for every test that ran, exercises in registry order, visible first."""
    for row in board.per_exercise():
        for i, (test, weight, score) in enumerate(zip(row["tests"], row["weights"], row["scores"]), start=1):
            yield row, test, f"{row['id']}.{i}", round(weight, DIGITS), round(score, DIGITS)


def visible_summary(board) -> str:
    """A short text for students: per exercise, how many of its visible tests passed."""
    lines = []
    for row in board.per_exercise():
        visible = [t for t in row["tests"] if not t.hidden]
        if not visible:
            continue
        passed = sum(t.verdict == "passed" for t in visible)
        note = "not attempted" if all(t.verdict == "not attempted" for t in visible) else f"{passed}/{len(visible)} tests passed"
        lines.append(f"Exercise {row['id']:<5} {row['title']}: {note}")
    return "\n".join(lines)


def gradescope_results(board, execution_time: float, output: str = "", extra: dict | None = None) -> dict:
    """The results.json dictionary of Gradescope's autograder specification."""
    tests = []
    for row, test, number, weight, score in _entries(board):
        entry = {
            "name": f"Exercise {row['id']} {row['title']}: {test.name}" + (" (hidden test)" if test.hidden else ""),
            "number": number,
            "score": score,
            "max_score": weight,
            "status": "passed" if test.verdict == "passed" else "failed",
            "visibility": "after_published" if test.hidden else "visible",
            "tags": [row["marker"], row["track"]],
            "extra_data": {"verdict": test.verdict, "nodeid": test.nodeid},
        }
        if test.verdict != "passed":
            entry["output"] = test.message or test.verdict
        tests.append(entry)
    summary = visible_summary(board)
    return {
        "score": round(board.total()[0], DIGITS),
        "execution_time": int(round(execution_time)),
        "output": "\n\n".join(part for part in (output, summary) if part),
        "visibility": "visible",
        "extra_data": extra or {},
        "tests": tests,
    }


def plain_results(board, execution_time: float, extra: dict | None = None) -> dict:
    """Everything, hidden tests included, per exercise: for other systems and for instructors."""
    score, max_score = board.total()
    exercises = []
    for row in board.per_exercise():
        exercises.append({
            "id": row["id"], "title": row["title"], "track": row["track"], "score": row["score"],
            "max_score": row["max_score"], "status": row["status"], "docs": row["docs"],
            "tests": [{"name": t.name, "nodeid": t.nodeid, "hidden": t.hidden, "core": t.core, "verdict": t.verdict,
                       "score": round(sc, DIGITS), "max_score": round(w, DIGITS),
                       "message": t.message, "duration": round(t.duration, 3)}
                      for t, w, sc in zip(row["tests"], row["weights"], row["scores"])],
        })
    return {"target": str(board.target), "score": score, "max_score": max_score, "all_passed": board.all_passed(),
            "execution_time": round(execution_time, 3), **(extra or {}), "exercises": exercises}


CSV_FIELDS = ("id", "title", "track", "score", "max_score", "tests_passed", "tests", "status")


def csv_results(board) -> str:
    """One CSV row per exercise (hidden tests included)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in board.per_exercise():
        writer.writerow({
            "id": row["id"], "title": row["title"], "track": row["track"], "score": row["score"],
            "max_score": row["max_score"], "tests_passed": sum(t.verdict == "passed" for t in row["tests"]),
            "tests": len(row["tests"]), "status": row["status"],
        })
    return buffer.getvalue()


def write_reports(board, execution_time: float, results_json=None, results_plain=None, results_csv=None,
                  output: str = "", extra: dict | None = None) -> list[Path]:
    """Write the reports whose paths are given (atomically); return the paths written."""
    written = []
    if results_json:
        written.append(save_json(results_json, gradescope_results(board, execution_time, output, extra)))
    if results_plain:
        written.append(save_json(results_plain, plain_results(board, execution_time, extra)))
    if results_csv:
        written.append(write_text(results_csv, csv_results(board)))
    return written
