"""``vaekit stubs``: regenerate ``exercises/`` from the solution regions of the reference solutions.

Only in the instructors' copy of the kit: the student handout has no solutions, and no such command.
"""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from ..stubs import expected_stubs, write_stubs

    if args.check:
        stale = [p for p, text in expected_stubs().items() if not p.exists() or p.read_text() != text]
        for path in stale:
            print(f"stale: {path}")
        return 1 if stale else 0
    changed = write_stubs()
    for path in changed:
        print(f"wrote {path}")
    print(f"{len(changed)} stub file(s) changed")
    return 0


def register(subparsers) -> None:
    from ..paths import SOLUTIONS

    if not SOLUTIONS.is_dir():
        return  # the student handout
    p = subparsers.add_parser("stubs", help="regenerate exercises/ from the solution regions in solutions/")
    p.add_argument("--check", action="store_true", help="only list stale stubs; exit 1 if any")
    p.set_defaults(func=run)
