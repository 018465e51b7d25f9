"""The Gradescope autograder bundle: ``setup.sh``, ``run_autograder`` and the kit without its solutions.

Gradescope's contract: the zip is unpacked into ``/autograder/source``; ``setup.sh`` runs once when the image
is built; for every submission the student's files are put in ``/autograder/submission`` and
``run_autograder`` must write ``/autograder/results/results.json``. Here ``run_autograder`` runs
``vaekit grade`` on the submission, hidden tests included: the judge runs as root, and each worker running the
student's code runs in a bubblewrap sandbox (installed by ``setup.sh``) as an unprivileged user id of its own,
with no network and a read-only view of the submission alone. Without a working bwrap the run refuses to grade
(the student sees a message asking to tell the instructor) unless the bundle was built with ``--unsafe``. The environment variables
``VAEKIT_AUTOGRADER_ROOT`` (instead of ``/autograder``) and ``VAEKIT_PYTHON`` let the bundle run outside
Gradescope, which is how ``tests/test_gradescope_bundle.py`` checks it.
"""

from __future__ import annotations

import re
import shlex
import tempfile
from pathlib import Path

from ..paths import ROOT
from ..handout import build_kit, zip_folder

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu).
set -euo pipefail
apt-get update
# bubblewrap: the sandbox in which the students' code runs (no network, its own PID namespace, read-only files).
apt-get install -y python3 python3-pip python3-venv bubblewrap
python3 -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --upgrade pip
# PyTorch for the CPU only (much smaller than the default wheels), in the versions the kit supports.
/autograder/venv/bin/python -m pip install {torch_specs} --index-url https://download.pytorch.org/whl/cpu
/autograder/venv/bin/python -m pip install -e /autograder/source/kit
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission; it must write $ROOT/results/results.json.
set -u
ROOT="${{VAEKIT_AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{VAEKIT_PYTHON:-/autograder/venv/bin/python}}"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
cd "$ROOT/source/kit" || exit 1
"$PYTHON" -m vaekit grade "$ROOT/submission" --results-json "$RESULTS" {options}
status=$?
if [ ! -s "$RESULTS" ]; then
  # The grader itself could not run: say so to the student instead of leaving Gradescope without results.
  printf '{{"score": 0, "output": "The autograder could not grade this submission (exit status %s). Please tell your instructor.", "tests": []}}\\n' "$status" > "$RESULTS"
fi
exit 0
"""


def torch_specs(root: Path = ROOT) -> str:
    """The torch and torchvision requirements of pyproject.toml (its ``"torch..."`` lines), quoted for the shell."""
    specs = re.findall(r'^\s*"((?:torch|torchvision)\b[^"]*)"', (root / "pyproject.toml").read_text(), re.MULTILINE)
    if not specs:
        raise ValueError("pyproject.toml names no torch requirement")
    return " ".join(shlex.quote(spec) for spec in specs)


def run_options(exercises: str | None, timeout: float, total_timeout: float, seed: int, flat_track: str,
                unsafe: bool = False) -> str:
    opts = ["--timeout", str(timeout), "--total-timeout", str(total_timeout), "--seed", str(seed),
            "--flat-track", flat_track, *(["--unsafe"] if unsafe else [])]
    if exercises:
        opts += ["--exercises", exercises]
    return " ".join(shlex.quote(o) for o in opts)


def build_bundle(out: Path, exercises: str | None = None, timeout: float = 60.0, total_timeout: float = 900.0,
                 seed: int = 0, flat_track: str = "numpy_ag", root: Path = ROOT, unsafe: bool = False,
                 reference_seed: int | None = None) -> Path:
    """Write the autograder zip ``out``: setup.sh and run_autograder at its root, the kit in ``kit/``."""
    out = Path(out)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "bundle"
        build_kit(folder / "kit", hidden=True, root=root)
        if reference_seed is not None:  # reference inputs the handout does not hold: no lookup table can pass
            from grader.reference import write as write_reference

            write_reference(folder / "kit" / "grader" / "reference.npz", root / "solutions", reference_seed)
        (folder / "setup.sh").write_text(SETUP.format(torch_specs=torch_specs(root)))
        run = folder / "run_autograder"
        run.write_text(RUN.format(options=run_options(exercises, timeout, total_timeout, seed, flat_track, unsafe)))
        for script in (folder / "setup.sh", run):
            script.chmod(0o755)
        return zip_folder(folder, out)
