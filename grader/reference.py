"""Frozen reference data: the cases of :mod:`grader.cases` evaluated by the reference solutions and saved to
``grader/reference.npz``, which the grader reads (it never imports the solutions, and the student handout, which
has none, grades from this file alone), with a text manifest beside it, ``grader/reference.manifest``: one line
per stored array (name, shape, SHA-256), so that a review shows which cases changed.

In the instructors' copy of the kit, which holds the solutions:

    python -m grader.reference --write              # after changing a solution or a case
    python -m grader.reference --write --seed 917   # fresh inputs for every case (grading with secret inputs)
    python -m grader.reference --check              # exit 1 if the frozen data are stale

Each case's inputs come from a generator seeded by ``--seed`` and the case's own name, so adding, removing or
renaming one case never changes another's inputs; the kit's own tests run the check, so stale data fail them.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import sys
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .cases import CASES

REFERENCE_FILE = Path(__file__).with_name("reference.npz")
SEED = 20140101  # inputs of case "name" come from default_rng([SEED, crc32(name)])


def manifest_path(path: Path) -> Path:
    """The text manifest that goes with the reference data ``path``."""
    return Path(path).with_suffix(".manifest")


def case_rng(name: str, seed: int = SEED) -> np.random.Generator:
    """The generator of the inputs of case ``name``: seeded by ``seed`` and the name alone."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


@dataclass(frozen=True)
class Reference:
    """One frozen case: its inputs and the reference outputs, as float64 arrays."""

    name: str
    inputs: dict
    outputs: dict


def generate(solutions="solutions", seed: int = SEED) -> dict[str, np.ndarray]:
    """Run every case with the reference NumPy track and return the flat ``{"<case>:in:<k>": array}`` dict."""
    from vaekit.codefolder import Track

    track = Track(solutions, "numpy_ag")
    data: dict[str, np.ndarray] = {}
    for name, case in sorted(CASES.items()):
        inputs = case.build(case_rng(name, seed))
        outputs = case.reference(track, **inputs)
        data.update({f"{name}:in:{k}": np.asarray(v, dtype=np.float64) for k, v in inputs.items()})
        data.update({f"{name}:out:{k}": np.asarray(v, dtype=np.float64) for k, v in outputs.items()})
    return data


def manifest(data: dict[str, np.ndarray]) -> str:
    """One line per array, sorted: ``name  shape  sha256`` (of the float64 bytes), for reviews and diffs."""
    lines = []
    for name in sorted(data):
        arr = np.ascontiguousarray(np.asarray(data[name], dtype=np.float64))
        shape = "x".join(map(str, arr.shape)) or "scalar"
        lines.append(f"{name}  {shape}  {hashlib.sha256(arr.tobytes()).hexdigest()[:16]}")
    return "\n".join(lines) + "\n"


def write(path: Path = REFERENCE_FILE, solutions="solutions", seed: int = SEED) -> None:
    """Generate and save atomically, with the manifest beside it (an interrupted run leaves the old files)."""
    from vaekit.io import atomic_open, write_text

    data = generate(solutions, seed)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **data)
    with atomic_open(path, "wb") as handle:
        handle.write(buffer.getvalue())
    write_text(manifest_path(path), manifest(data))


def stale_entries(path: Path = REFERENCE_FILE, rtol: float = 1e-12, fresh: dict | None = None) -> list[str]:
    """Names of entries that differ between ``path`` and ``fresh`` (default: a fresh :func:`generate`), empty when
    up to date."""
    fresh = generate() if fresh is None else fresh
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
    """The frozen case ``name`` (see :data:`grader.cases.CASES`), from ``grader/reference.npz`` or the file named
    by the environment variable VAEKIT_REFERENCE (reference data drawn with another seed)."""
    return _load(os.environ.get("VAEKIT_REFERENCE") or str(REFERENCE_FILE))[name]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.reference", description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true", help="regenerate the reference data from the solutions")
    group.add_argument("--check", action="store_true", help="exit 1 if grader/reference.npz is stale")
    parser.add_argument("--seed", type=int, default=SEED, help=f"seed of every case's inputs (default {SEED})")
    parser.add_argument("--out", type=Path, default=REFERENCE_FILE, help="where to write (default grader/reference.npz)")
    parser.add_argument("--solutions", default="solutions", help="the reference solutions (default solutions/)")
    args = parser.parse_args(argv)
    if args.write:
        write(args.out, args.solutions, args.seed)
        print(f"wrote {args.out} and {manifest_path(args.out).name}")
        return 0
    stale = stale_entries()
    for name in stale:
        print(f"stale: {name}")
    print("reference data up to date" if not stale else f"{len(stale)} stale entries")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
