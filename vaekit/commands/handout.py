"""``vaekit handout OUT [--zip]``: build the student handout (the kit without solutions and hidden tests)."""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    from ..handout import HandoutError, build_handout

    try:
        path = build_handout(args.out, as_zip=args.zip)
    except HandoutError as err:
        print(f"vaekit handout: {err}", file=sys.stderr)
        return 2
    print(f"wrote the handout {path}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("handout", help="build the student handout: no solutions, no hidden tests",
                              description=__doc__)
    p.add_argument("out", help="a new folder (or, with --zip, the archive to write)")
    p.add_argument("--zip", action="store_true", help="write a .zip holding the handout folder instead")
    p.set_defaults(func=run)
