"""``vaekit gradescope-bundle OUT.zip``: the autograder zip to upload to Gradescope (no solutions inside)."""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    from ..grading.gradescope import build_bundle
    from ..handout import HandoutError
    from ..grading.selection import exercise_ids

    try:
        exercise_ids(args.exercises)
        path = build_bundle(args.out, exercises=args.exercises, timeout=args.timeout,
                            total_timeout=args.total_timeout, seed=args.seed, flat_track=args.flat_track,
                            unsafe=args.unsafe, reference_seed=args.reference_seed)
    except (HandoutError, ValueError) as err:
        print(f"vaekit gradescope-bundle: {err}", file=sys.stderr)
        return 2
    print(f"wrote {path}: upload it as the assignment's autograder (configuration: zip file)")
    return 0


def register(subparsers) -> None:
    from .grade import add_grading_options

    p = subparsers.add_parser("gradescope-bundle", help="build the Gradescope autograder zip",
                              description=__doc__)
    p.add_argument("out", help="the zip file to write, e.g. autograder.zip")
    add_grading_options(p)  # with --reference-seed: the bundle's kit holds reference data drawn from that seed
    p.set_defaults(func=run)
