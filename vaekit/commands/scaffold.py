"""``vaekit scaffold ID TITLE``: the skeleton of a new exercise in both tracks (see vaekit/scaffold.py).

Only in the instructors' copy of the kit, which holds the solutions.
"""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    from ..scaffold import ScaffoldError, scaffold
    from ..paths import ROOT

    try:
        written = scaffold(ROOT, args.id, args.title, args.points, args.module, args.function)
    except ScaffoldError as err:
        print(f"vaekit scaffold: {err}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path.relative_to(ROOT)}")
    print("next: write the solution, the grader test, the docs section (move it where it belongs on the page), "
          "three planted bugs and the coverage-table rows, then run `vaekit stubs` (and, if you added a reference "
          "case to grader/cases.py, `python -m grader.reference --write`); see the docs page Changing the kit")
    return 0


def register(subparsers) -> None:
    from ..paths import SOLUTIONS

    if not SOLUTIONS.is_dir():
        return  # the student handout
    p = subparsers.add_parser("scaffold", help="create the skeleton of a new exercise in both tracks",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("id", help="the NumPy track's ID, e.g. 12.1 (the PyTorch twin gets T12.1)")
    p.add_argument("title", help="a short title, e.g. 'KL between two diagonal Gaussians'")
    p.add_argument("--points", type=float, default=2.0, help="points of each of the two exercises (default 2)")
    p.add_argument("--module", required=True, help="the module (file) of each track that holds it, e.g. kl_pair")
    p.add_argument("--function", required=True, help="the function the student writes, e.g. kl_between")
    p.set_defaults(func=run)
