"""The student handout: the kit without its solutions and without the hidden tests.

It holds ``exercises/`` (the stubs), ``grader/`` (its tests and frozen reference data, without
``grader/hidden/``), ``docs/`` and ``mkdocs.yml``, ``scripts/``, the ``vaekit`` support package,
``pyproject.toml`` (whose test path becomes ``grader``) and a README for students. Inside it,
``pytest grader`` grades ``exercises/`` exactly as the instructor's copy does. :func:`build_kit` with
``hidden=True`` makes the kit of the Gradescope autograder, which keeps the hidden tests. Having no solutions,
these kits read the exercise registry from the table frozen into their ``vaekit/registry.json``.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from pathlib import Path

from .io import write_bytes
from .paths import FROZEN_REGISTRY, ROOT, TRACKS
from .regions import BEGIN, parse_folder
from .registry import freeze

PARTS = ("exercises", "grader", "docs", "scripts", "vaekit", "mkdocs.yml", "pyproject.toml", "LICENSE")
SKIP_NAMES = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".DS_Store"}
SKIP_SUFFIXES = (".pyc", ".pyo", ".tmp")
SKIP_PATHS = ("docs/assets/vendor",)  # KaTeX, installed by scripts/docs_assets.sh
TEXT_SUFFIXES = (".py", ".md", ".txt", ".yml", ".yaml", ".toml", ".sh", ".ipynb", ".cfg", ".js", ".html")

README = """# VAE course kit: student handout

Fill in the exercises in `exercises/numpy_ag/` (NumPy/autograd track), then `exercises/pytorch/`, in the
order of the exercise numbers. Each stub's docstring gives the equation, the shapes and the docs section.

    bash scripts/setup.sh              # once: .venv with everything the kit needs
    .venv/bin/pytest grader -m ex2_1   # grade one exercise (markers: ex1_1 ... for NumPy, ext1_1 ... for PyTorch)
    bash scripts/grade.sh              # grade everything and print the score table
    .venv/bin/mkdocs serve             # read the course at http://127.0.0.1:8000

Hand in your `exercises/` folder (or a zip of it). The grader you run here is the one your work is graded
with; your instructor may add tests of their own.
"""


class HandoutError(RuntimeError):
    """A handout that would contain solution code, or an output path that is in the way."""


def _wanted(rel: Path, hidden: bool) -> bool:
    posix = rel.as_posix()
    if SKIP_NAMES & set(rel.parts) or rel.name.endswith(SKIP_SUFFIXES) or rel.name.endswith(".egg-info"):
        return False
    if any(posix == p or posix.startswith(p + "/") for p in SKIP_PATHS):
        return False
    return hidden or not (posix == "grader/hidden" or posix.startswith("grader/hidden/"))


def build_kit(dest: Path, hidden: bool = False, root: Path = ROOT) -> Path:
    """Copy the kit's student-facing parts into the new folder ``dest`` (with ``grader/hidden/`` if ``hidden``)."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise HandoutError(f"{dest} exists and is not empty: choose a new folder or remove it first")
    dest.mkdir(parents=True, exist_ok=True)
    for part in PARTS:
        src = root / part
        if src.is_file():
            shutil.copyfile(src, dest / part)
            continue
        for path in sorted(src.rglob("*")):
            rel = path.relative_to(root)
            if path.is_symlink() or not path.is_file() or not _wanted(rel, hidden):
                continue
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest / rel)
    pyproject = dest / "pyproject.toml"
    pyproject.write_text(re.sub(r'testpaths\s*=\s*\["tests"\]', 'testpaths = ["grader"]', pyproject.read_text()))
    (dest / "README.md").write_text(README)
    freeze(dest / FROZEN_REGISTRY.relative_to(ROOT), root / "solutions", root / "docs")
    leaks = solution_leaks(dest, root / "solutions")
    if leaks:
        shutil.rmtree(dest)
        raise HandoutError("solution code would be handed out:\n  " + "\n  ".join(leaks[:20])
                           + "\n(regenerate the stubs with 'vaekit stubs', or remove the code from those files)")
    return dest


def _code_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def solution_windows(solutions: Path, size: int = 5, min_chars: int = 40) -> set[tuple[str, ...]]:
    """Runs of ``size`` consecutive code lines of every solution region (a shorter region whole, if it has
    at least ``min_chars`` characters): what a copy of solution code would contain."""
    windows: set[tuple[str, ...]] = set()
    for region in parse_folder(solutions, TRACKS):
        code = _code_lines("\n".join(region.body))
        if len(code) >= size:
            windows |= {tuple(code[i:i + size]) for i in range(len(code) - size + 1)}
        elif code and sum(map(len, code)) >= min_chars:
            windows.add(tuple(code))
    return windows


def solution_leaks(folder: Path, solutions: Path) -> list[str]:
    """``file: first line`` for every text file under ``folder`` that holds a region marker or solution code."""
    windows = solution_windows(solutions) if solutions.is_dir() else set()
    leaks = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix not in TEXT_SUFFIXES:
            continue
        text, rel = path.read_text(errors="replace"), path.relative_to(folder).as_posix()
        if rel.startswith("exercises/") and BEGIN.search(text):
            leaks.append(f"{rel}: a solution region")
        code = _code_lines(text)
        runs = {tuple(code[i:i + n]) for n in {len(w) for w in windows} for i in range(len(code) - n + 1)}
        leaks += [f"{rel}: {w[0]}" for w in sorted(runs & windows)]
    return leaks


def zip_folder(folder: Path, archive: Path, top: str | None = None) -> Path:
    """Zip ``folder`` into ``archive`` (atomically); entries sit under ``top/`` (or at the root if None)."""
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / "out.zip"
        with zipfile.ZipFile(scratch, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    rel = path.relative_to(folder).as_posix()
                    info = zipfile.ZipInfo(f"{top}/{rel}" if top else rel, date_time=(2024, 1, 1, 0, 0, 0))
                    info.external_attr = (0o755 if path.stat().st_mode & 0o100 else 0o644) << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    zf.writestr(info, path.read_bytes())
        write_bytes(archive, scratch.read_bytes())
    return archive


def build_handout(out: Path, as_zip: bool = False, root: Path = ROOT) -> Path:
    """The handout folder ``out``, or with ``as_zip`` the archive ``out`` (``.zip`` added) holding one folder."""
    out = Path(out)
    if not as_zip:
        return build_kit(out, hidden=False, root=root)
    archive = out if out.suffix == ".zip" else out.with_name(out.name + ".zip")
    with tempfile.TemporaryDirectory() as tmp:
        kit = build_kit(Path(tmp) / archive.stem, hidden=False, root=root)
        return zip_folder(kit, archive, top=archive.stem)
