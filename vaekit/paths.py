"""Where the kit's parts lie: the folders every other module names, in one place."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"  # the reference solutions (the instructors' copy of the kit only)
EXERCISES_DIR = ROOT / "exercises"  # the stubs the students fill in
DOCS = ROOT / "docs"
TRACKS = ("numpy_ag", "pytorch")
# The exercise table frozen by the handout and Gradescope builders, whose kits have no solutions to read it from.
FROZEN_REGISTRY = ROOT / "vaekit" / "registry.json"
