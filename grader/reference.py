"""Frozen reference data: the cases of :mod:`grader.cases` evaluated by the reference solutions and saved to
``grader/reference.npz``, which the grader reads (it never imports the solutions, and the student handout,
which has none, grades from this file alone).

In the instructors' copy of the kit, which holds the solutions:

    python -m grader.reference --write    # after changing a solution or a case
    python -m grader.reference --check    # exit 1 if the frozen data are stale

and the kit's own tests run the check, so stale data fail them.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .cases import CASES

REFERENCE_FILE = Path(__file__).with_name("reference.npz")
SEED = 20140101  # inputs of case i come from default_rng([SEED, i])


@dataclass(frozen=True)
class Reference:
    """One frozen case: its inputs and the reference outputs, as float64 arrays."""

    name: str
    inputs: dict
    outputs: dict


def generate(solutions="solutions") -> dict[str, np.ndarray]:
    """Run every case with the reference NumPy track and return the flat ``{"<case>:in:<k>": array}`` dict."""
    from vaekit.submission import Track

    track = Track(solutions, "numpy_ag")
    data: dict[str, np.ndarray] = {}
    for i, (name, case) in enumerate(sorted(CASES.items())):
        inputs = case.build(np.random.default_rng([SEED, i]))
        outputs = case.reference(track, **inputs)
        data.update({f"{name}:in:{k}": np.asarray(v, dtype=np.float64) for k, v in inputs.items()})
        data.update({f"{name}:out:{k}": np.asarray(v, dtype=np.float64) for k, v in outputs.items()})
    return data


def write(path: Path = REFERENCE_FILE) -> None:
    """Generate and save atomically (temp file + rename), so an interrupted run leaves the old file intact."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **generate())
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        handle.write(buffer.getvalue())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def stale_entries(path: Path = REFERENCE_FILE, rtol: float = 1e-12) -> list[str]:
    """Names of entries that differ between ``path`` and a fresh generation (empty when up to date)."""
    fresh = generate()
    with np.load(path) as frozen:
        names = set(frozen.files) | set(fresh)
        return sorted(
            n for n in names
            if n not in frozen.files or n not in fresh or frozen[n].shape != fresh[n].shape
            or not np.allclose(frozen[n], fresh[n], rtol=rtol, atol=1e-300, equal_nan=True)
        )


@lru_cache(maxsize=1)
def _load(path: str) -> dict[str, Reference]:
    if not Path(path).is_file():
        raise FileNotFoundError(
            f"the grader's reference data {path} is missing; an instructor creates it with "
            "'python -m grader.reference --write'"
        )
    cases: dict[str, dict] = {}
    with np.load(path) as frozen:
        for key in frozen.files:
            name, kind, arg = key.split(":")
            cases.setdefault(name, {"in": {}, "out": {}})[kind][arg] = frozen[key]
    return {n: Reference(n, c["in"], c["out"]) for n, c in cases.items()}


def reference(name: str) -> Reference:
    """The frozen case ``name`` (see :data:`grader.cases.CASES`)."""
    return _load(str(REFERENCE_FILE))[name]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.reference", description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true", help="regenerate grader/reference.npz from solutions/")
    group.add_argument("--check", action="store_true", help="exit 1 if grader/reference.npz is stale")
    args = parser.parse_args(argv)
    if args.write:
        write()
        print(f"wrote {REFERENCE_FILE}")
        return 0
    stale = stale_entries()
    for name in stale:
        print(f"stale: {name}")
    print("reference data up to date" if not stale else f"{len(stale)} stale entries")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
