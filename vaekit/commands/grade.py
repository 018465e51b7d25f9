"""``vaekit grade SUBMISSION``: grade a folder or .zip (graded code sandboxed, scores by the judge) and write the reports."""

from __future__ import annotations

import argparse
import sys


def add_grading_options(p: argparse.ArgumentParser) -> None:
    """Options shared by ``grade``, ``grade-class`` and the Gradescope bundle."""
    p.add_argument("--exercises", metavar="IDS", help="grade only these: IDs and/or track names, comma-separated "
                   "(e.g. '1.1,1.2,3.1' or 'numpy_ag'); default: every exercise")
    p.add_argument("--timeout", type=float, default=60.0, metavar="S", help="seconds per grader test (default 60)")
    p.add_argument("--total-timeout", type=float, default=900.0, metavar="S",
                   help="seconds the graded code of one submission may run, split between its tracks (default 900)")
    p.add_argument("--memory-gb", type=float, default=6.0, metavar="GB",
                   help="address-space limit of each worker running graded code (default 6; torch alone maps "
                   "about 3.3)")
    p.add_argument("--seed", type=int, default=0, help="grader seed of every freshly drawn input (default 0)")
    p.add_argument("--flat-track", choices=("numpy_ag", "pytorch"), default="numpy_ag",
                   help="the track of loose .py files handed in without their folder (default numpy_ag)")
    p.add_argument("--reference-seed", type=int, metavar="N",
                   help="grade against reference cases whose inputs are drawn with seed N (keep it secret): the "
                   "handout's grader/reference.npz then gives no table of answers to copy. Needs the reference "
                   "solutions (the instructors' copy of the kit); they get full marks under any N")
    p.add_argument("--unsafe", action="store_true",
                   help="grade even without the bubblewrap sandbox (the graded code then runs in a plain subprocess "
                   "with your user's rights): only for code you trust")


def options_from(args: argparse.Namespace):
    """The GradingOptions of the flags of :func:`add_grading_options`; ValueError if --exercises names an exercise
    or track that does not exist."""
    from ..grading.judge import GradingOptions
    from ..grading.selection import exercise_ids

    exercise_ids(args.exercises)
    return GradingOptions(exercises=args.exercises, test_timeout=args.timeout, total_timeout=args.total_timeout,
                          memory_gb=args.memory_gb or None, seed=args.seed, flat_track=args.flat_track,
                          unsafe=args.unsafe, reference_seed=getattr(args, "reference_seed", None))


def run(args: argparse.Namespace) -> int:
    from ..grading.layout import SubmissionLayoutError
    from grader.reports import write_reports
    from ..grading.judge import GradingError, grade

    try:
        result = grade(args.submission, options_from(args))
    except (SubmissionLayoutError, ValueError) as err:
        print(f"vaekit grade: {err}", file=sys.stderr)
        return 2
    except GradingError as err:
        print(f"vaekit grade: the grader could not run: {err}", file=sys.stderr)
        return 3
    board = result.board
    for test in board.tests.values():
        if test.verdict != "passed":
            print(f"--- {test.nodeid}: {test.verdict}\n{test.message}\n")
    print(board.table())
    for note in result.notes:
        print(f"note: {note}")
    write_reports(board, result.seconds, args.results_json, args.results_plain, args.results_csv,
                  output="\n".join(result.notes), extra={"grader_seed": args.seed, "sandboxed": result.sandboxed})
    return 0 if board.all_passed() else 1


def register(subparsers) -> None:
    p = subparsers.add_parser("grade", help="grade a submission (folder or .zip); its code runs sandboxed",
                              description=__doc__)
    p.add_argument("submission", help="a copy of exercises/ (or a folder or .zip holding one)")
    p.add_argument("--results-json", metavar="PATH", help="write Gradescope's results.json here")
    p.add_argument("--results-plain", metavar="PATH", help="write a plain JSON of the scores per exercise here")
    p.add_argument("--results-csv", metavar="PATH", help="write a CSV of the scores per exercise here")
    add_grading_options(p)
    p.set_defaults(func=run)
