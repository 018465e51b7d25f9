"""Markers and fixtures of the kit's own tests.

``full_mnist``: needs the full MNIST (60,000 + 10,000 images); runs when the environment variable
``VAEKIT_FULL_MNIST_ROOT`` names a folder with its IDX files, and is skipped with that reason otherwise. Tests
that can run on the 5,000-digit subset use ``VAEKIT_DATA_ROOT`` instead.
"""

from __future__ import annotations

import pytest

FULL_MNIST_ROOT_ENV = "VAEKIT_FULL_MNIST_ROOT"


@pytest.fixture(autouse=True)
def _autograd_as_shipped():
    """Undo vaekit.autograd_fixes after every test that installed them (vaekit train does, for the NumPy track): they
    change autograd for the whole process, and no other test may depend on what ran before it."""
    yield
    from vaekit.autograd_fixes import uninstall_autograd_fixes

    uninstall_autograd_fixes()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", f"full_mnist: needs the full MNIST; set ${FULL_MNIST_ROOT_ENV} to the folder of its IDX files")


@pytest.fixture(scope="session")
def solutions_grading(tmp_path_factory) -> dict:
    """``pytest grader --target solutions`` run once for the whole test session (all xdist processes share it: the
    first one to ask runs it under a file lock, the others read its files), since several test files check what
    that one run shows.

    Returns ``{"returncode", "stdout", "plain": the --results-plain report, "seeded": the --seed-report list}``.
    """
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from filelock import FileLock

    root = Path(__file__).resolve().parents[1]
    # The session's own temporary folder: under xdist each process has basetemp/popen-gwN, whose parent is the
    # session's folder (the same for all of them); in a single process, basetemp is that folder itself.
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = shared / "solutions-grading"
    done = folder / "done.json"
    with FileLock(str(shared / "solutions-grading.lock")):
        if not done.is_file():
            folder.mkdir(exist_ok=True)
            env = {k: v for k, v in os.environ.items() if k not in ("VAEKIT_TARGET", "PYTEST_ADDOPTS")}
            env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
            proc = subprocess.run(
                [sys.executable, "-m", "pytest", "grader", "--target", "solutions", "-q", "-p", "no:cacheprovider",
                 "--results-plain", str(folder / "plain.json"), "--seed-report", str(folder / "seeded.json")],
                cwd=root, env=env, capture_output=True, text=True, timeout=900)
            done.write_text(json.dumps({"returncode": proc.returncode, "stdout": proc.stdout + proc.stderr}))
    result = json.loads(done.read_text())
    for name in ("plain", "seeded"):
        path = folder / f"{name}.json"
        result[name] = json.loads(path.read_text()) if path.is_file() else None
    return result
