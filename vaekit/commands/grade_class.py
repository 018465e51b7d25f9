"""``vaekit grade-class SUBMISSIONS_DIR OUT``: grade every submission folder or .zip, a few at a time."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from ..grading.classroom import grade_class
    from ..grading.selection import exercise_ids
    from .grade import options_from

    folder = Path(args.submissions)
    if not folder.is_dir():
        print(f"vaekit grade-class: {folder} is not a folder of submissions (sub-folders or .zip files)", file=sys.stderr)
        return 2
    try:
        exercise_ids(args.exercises)
    except ValueError as err:
        print(f"vaekit grade-class: {err}", file=sys.stderr)
        return 2
    rows = grade_class(folder, Path(args.out), options_from(args), jobs=args.jobs)
    print(f"graded {len(rows)} submissions; gradebook: {Path(args.out) / 'gradebook.csv'}")
    return 0


def register(subparsers) -> None:
    from .grade import add_grading_options

    p = subparsers.add_parser("grade-class", help="grade a folder of submissions into a gradebook CSV",
                              description=__doc__)
    p.add_argument("submissions", help="folder with one sub-folder or .zip per student (its name is the student's)")
    p.add_argument("out", help="output folder: gradebook.csv and results/<student>.json")
    p.add_argument("--jobs", type=int, default=2, help="submissions graded at once (default 2)")
    add_grading_options(p)
    p.set_defaults(func=run)
