"""Guards of the grading process against graded code that changes its surroundings.

* :func:`reset_rngs` seeds the global random number generators (``random``, NumPy's legacy ``np.random``
  and torch's) before every test, so no test depends on what ran before it; :class:`RngWatch` then tells
  whether the graded code drew from NumPy's or Python's global generator or reseeded torch's. Grader tests
  never touch the global generators (``tests/test_grader_seeds.py`` checks their source), so any change is
  the graded code's doing.
* :class:`Snapshot` remembers the attributes of numpy, torch, pytest, builtins and the grader's own
  modules; after each test, :meth:`Snapshot.restore` undoes any change and names it.
* :func:`block_solutions` refuses imports of the reference solutions while a submission is graded.

These guards stop accidental and casual tampering: code running in the same process can always defeat
in-process checks on purpose, which is why ``vaekit grade`` also runs the grader in a separate process
and computes the scores itself (see :mod:`vaekit.grading.sandbox`).
"""

from __future__ import annotations

import importlib.abc
import random
import sys
import types
from pathlib import Path

import numpy as np

GUARDED_MODULES = (
    "builtins", "os", "json", "math", "random", "hmac", "hashlib", "zlib", "numpy", "numpy.random",
    "numpy.linalg", "numpy.testing", "autograd", "autograd.numpy", "autograd.misc", "torch", "torch.nn",
    "torch.nn.functional", "torch.autograd", "torch.optim", "torch.distributions", "pytest", "_pytest.outcomes",
    "_pytest.runner", "_pytest.python", "pluggy", "vaekit.exercises", "vaekit.submission",
)
GUARDED_CLASSES = (
    ("torch", "Tensor"), ("torch.nn", "Module"), ("torch.nn", "Linear"), ("torch.optim", "Optimizer"),
    ("torch.optim", "Adam"),
)
_MISSING = object()


def reset_rngs(seed: int) -> dict:
    """Seed Python's, NumPy's legacy and (if imported) torch's global generators; return their states."""
    seed32 = seed % 2**32
    random.seed(seed32)
    np.random.seed(seed32)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed32)
    return {"seed": seed32, "numpy": np.random.get_state(), "python": random.getstate(), "torch": torch is not None}


def torch_rng_state() -> bytes | None:
    """torch's global generator state (None if torch is not imported), to see whether a test drew from it."""
    torch = sys.modules.get("torch")
    return None if torch is None else bytes(torch.get_rng_state().numpy())


class RngWatch:
    """What the code run since :func:`reset_rngs` did to the global generators."""

    @staticmethod
    def problems(states: dict) -> list[str]:
        found = []
        now = np.random.get_state()
        then = states["numpy"]
        if now[2] != then[2] or not np.array_equal(now[1], then[1]):
            found.append("your code used NumPy's global random generator (np.random.seed, np.random.normal, "
                         "np.random.permutation, ...): draw every random number from the rng argument, or use the "
                         "eps you are given")
        if random.getstate() != states["python"]:
            found.append("your code used Python's global random generator (the random module): draw every random "
                         "number from the rng / generator argument")
        torch = sys.modules.get("torch")
        if states["torch"] and torch.initial_seed() != states["seed"]:
            found.append("your code reseeded torch's global random generator (torch.manual_seed / torch.seed): never "
                         "reseed inside a function; draw from the generator argument")
        return found


def settle_torch() -> None:
    """Let torch finish its lazy set-up before a snapshot, if it is imported.

    The first step of an optimizer imports ``torch._dynamo`` (which wraps ``torch.manual_seed``) and wraps
    the optimizer class's ``step``; done here, these are not mistaken for changes made by graded code.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return
    p = torch.zeros(1, requires_grad=True)
    for make in (torch.optim.Adam, torch.optim.SGD):
        opt = make([p], lr=0.0)
        p.sum().backward()
        opt.step()


class Snapshot:
    """The attributes of the guarded modules and classes (and of ``extra`` modules) at one moment."""

    def __init__(self, extra: tuple[types.ModuleType, ...] = ()):
        self._modules = {}
        for name in GUARDED_MODULES:
            if name in sys.modules:
                self._modules[name] = (sys.modules[name], dict(vars(sys.modules[name])))
        for module in extra:
            self._modules[module.__name__] = (module, dict(vars(module)))
        self._classes = {}
        for module_name, cls_name in GUARDED_CLASSES:
            cls = getattr(sys.modules.get(module_name), cls_name, None)
            if isinstance(cls, type):
                self._classes[f"{module_name}.{cls_name}"] = (cls, dict(vars(cls)))
        self._meta_path = list(sys.meta_path)
        self._sys_exit = sys.exit

    def restore(self) -> list[str]:
        """Undo every change since the snapshot; return the names of what had changed."""
        changed = []
        for name, (module, saved) in self._modules.items():
            current = vars(module)
            for key, value in saved.items():
                if current.get(key, _MISSING) is not value:
                    current[key] = value
                    changed.append(f"{name}.{key}")
        for name, (cls, saved) in self._classes.items():
            for key in set(vars(cls)) | set(saved):
                old, new = saved.get(key, _MISSING), vars(cls).get(key, _MISSING)
                if old is not new:
                    if old is _MISSING:
                        delattr(cls, key)
                    else:
                        setattr(cls, key, old)
                    changed.append(f"{name}.{key}")
        if sys.meta_path != self._meta_path:
            sys.meta_path[:] = self._meta_path
            changed.append("sys.meta_path")
        if sys.exit is not self._sys_exit:
            sys.exit = self._sys_exit
            changed.append("sys.exit")
        return changed


def tamper_message(changed: list[str]) -> str:
    shown = ", ".join(changed[:8]) + (f" and {len(changed) - 8} more" if len(changed) > 8 else "")
    return (f"your code changed {shown}; the grader undid the change. Changing numpy, torch, pytest or the grader "
            "while being graded is not allowed: compute the result instead")


class _SolutionsBlocker(importlib.abc.MetaPathFinder):
    """Refuses to import the reference solutions (by package name or by a path inside their folder)."""

    def __init__(self, folder: Path):
        self.folder = folder

    def find_spec(self, fullname, path=None, target=None):
        inside = any(_is_inside(entry, self.folder) for entry in (path or ()))
        if fullname == "solutions" or fullname.startswith("solutions.") or inside:
            raise ImportError(f"importing the reference solutions ({fullname}) is not allowed while grading a "
                              "submission: write the code yourself")
        return None


def _is_inside(entry, folder: Path) -> bool:
    try:
        return Path(entry).resolve().is_relative_to(folder)
    except (TypeError, OSError, ValueError):
        return False


def block_solutions(folder: Path) -> None:
    """Install the blocker first on ``sys.meta_path`` (once) and drop already imported solution modules."""
    folder = folder.resolve()
    if any(isinstance(f, _SolutionsBlocker) for f in sys.meta_path):
        return
    for name, module in list(sys.modules.items()):
        if name == "solutions" or name.startswith("solutions.") or _is_inside(getattr(module, "__file__", None) or "", folder):
            del sys.modules[name]
    sys.meta_path.insert(0, _SolutionsBlocker(folder))
