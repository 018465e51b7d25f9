"""``vaekit grade-class SUBMISSIONS_DIR OUT``: grade every submission folder or .zip, a few at a time."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from ..grading.classroom import grade_class
    from .grade import options_from

    folder = Path(args.submissions)
    if not folder.is_dir():
        print(f"vaekit grade-class: {folder} is not a folder of submissions (sub-folders or .zip files)", file=sys.stderr)
        return 2
    try:
        opts = options_from(args)
    except ValueError as err:
        print(f"vaekit grade-class: {err}", file=sys.stderr)
        return 2
    if not opts.unsafe:
        from grader.sandbox import bwrap_works

        ok, why = bwrap_works()
        if not ok:
            print(f"vaekit grade-class: cannot grade in a sandbox: {why}. Install bubblewrap, or pass --unsafe "
                  "(only for code you trust)", file=sys.stderr)
            return 3
    rows = grade_class(folder, Path(args.out), opts, jobs=args.jobs, regrade=args.regrade)
    print(f"graded {len(rows)} submissions; gradebook: {Path(args.out) / 'gradebook.csv'}")
    return 0


def register(subparsers) -> None:
    from .grade import add_grading_options

    p = subparsers.add_parser("grade-class", help="grade a folder of submissions into a gradebook CSV",
                              description=__doc__)
    p.add_argument("submissions", help="folder with one sub-folder or .zip per student (its name is the student's)")
    p.add_argument("out", help="output folder: gradebook.csv and results/<student>.json")
    p.add_argument("--jobs", type=int, default=2, help="submissions graded at once (default 2)")
    p.add_argument("--regrade", action="store_true",
                   help="grade every submission again (default: keep the results of those already graded, unchanged)")
    add_grading_options(p)
    p.set_defaults(func=run)
