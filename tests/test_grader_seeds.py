"""The grader's random inputs come from the grader seed, and the solutions pass under many seeds.

1. No grader test or helper draws randomness the seed does not reach: no literal seeds, no global
   generators (a static look at their source).
2. The whole grader runs once on the solutions with ``--seed-report`` (the run tests/conftest.py shares with
   other test files), which lists the tests whose inputs depend on the seed (they drew from grader/seeds.py or
   from torch's global generator). Every other test gives the same verdict under any seed, so rerunning just
   those under N seeds (6 by default,
   VAEKIT_GRADER_SEEDS=200 for the full check; two processes, one per core) is the whole grader under N seeds.
   Not one may fail: the Monte Carlo tolerances, in standard errors (grader/tolerances.py MC_Z), must hold for a
   correct implementation.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
N_SEEDS = int(os.environ.get("VAEKIT_GRADER_SEEDS", "6"))  # 200 for the full check (about 10 min)
FIRST_SEED = 1000
# Files that handle seeds on purpose: the seed machinery itself and the frozen reference data.
EXEMPT = {"conftest.py", "seeds.py", "serve.py", "reference.py", "cases.py"}  # serve.py: the worker reseeds per test
GLOBAL_NUMPY = {"seed", "rand", "randn", "randint", "random", "random_sample", "normal", "uniform", "choice",
                "permutation", "shuffle", "standard_normal", "binomial", "poisson", "exponential", "beta", "gamma"}
TORCH_DRAWS = {"randn", "rand", "randint", "randperm", "normal", "bernoulli", "multinomial", "randn_like",
               "rand_like", "randint_like", "poisson"}


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    elif isinstance(node, ast.Call):
        parts.append(_dotted(node.func) + "()")
    return ".".join(reversed(parts))


def _literal(node) -> bool:
    return isinstance(node, ast.Constant) or (
        isinstance(node, (ast.List, ast.Tuple)) and any(isinstance(e, ast.Constant) for e in node.elts))


def unseeded_randomness(source: str) -> list[str]:
    """Calls in ``source`` that draw randomness the grader seed does not control, as ``line: call``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        last = name.rsplit(".", 1)[-1]
        literal_seed = any(_literal(a) for a in node.args) or any(_literal(k.value) for k in node.keywords)
        bad = (
            (last in ("default_rng", "RandomState", "manual_seed", "SeedSequence") and literal_seed)
            or (name.startswith(("np.random.", "numpy.random.")) and last in GLOBAL_NUMPY)
            or (name.startswith("torch.") and last in TORCH_DRAWS and not any(k.arg == "generator" for k in node.keywords))
            or name == "torch.seed" or (name.startswith("random.") and name.count(".") == 1)
        )
        if bad:
            found.append(f"{node.lineno}: {name}(...)")
    return found


def test_the_check_finds_unseeded_randomness():
    bad = "np.random.default_rng(0)\ntorch.Generator().manual_seed(3)\nnp.random.normal(size=3)\ntorch.randn(3)\n"
    good = "seeds.numpy_rng(0)\nnp.random.default_rng(seed)\ntorch.randn(3, generator=g)\nrng.normal(size=3)\n"
    assert len(unseeded_randomness(bad)) == 4
    assert unseeded_randomness(good) == []


@pytest.mark.parametrize("path", sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "grader").rglob("*.py")
                                        if p.name not in EXEMPT))
def test_grader_code_draws_only_from_the_grader_seed(path):
    found = unseeded_randomness((ROOT / path).read_text())
    assert not found, (f"{path} draws randomness the grader seed does not reach: {found}; use the fixtures rng / "
                       "torch_generator or grader.seeds.numpy_rng() / torch_generator()")


def _pytest(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("VAEKIT_TARGET", "PYTEST_ADDOPTS")}
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "pytest", "--target", "solutions", "-q", "-p", "no:cacheprovider",
                           *args], cwd=ROOT, env=env, capture_output=True, text=True)


@pytest.mark.timeout(1800)
def test_the_solutions_pass_the_whole_grader_under_many_seeds(solutions_grading):
    assert solutions_grading["returncode"] == 0, solutions_grading["stdout"][-3000:]
    seeded = sorted({nodeid.split("[")[0] for nodeid in solutions_grading["seeded"]})
    assert any("montecarlo" in (ROOT / n.split("::")[0]).read_text() for n in seeded), "no Monte Carlo test found"
    half = N_SEEDS // 2
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda start: _pytest(*seeded, "--grader-seed", str(start), "--grader-seeds", str(half)),
                             (FIRST_SEED, FIRST_SEED + half)))
    for run in runs:
        summary = next(line for line in run.stdout.splitlines() if " passed" in line or " failed" in line)
        assert run.returncode == 0 and "failed" not in summary and "error" not in summary, run.stdout[-5000:]
